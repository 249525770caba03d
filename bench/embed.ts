/**
 * `npm run bench:embed`: what the mark costs at the default bitrate ladder, judged against the
 * source. For five generated 720p contents and each rendition of the ladder (2 s segments), an unmarked encode with exactly the variants' settings, then:
 *  - bitrate of unmarked / A / B (target: A and B at most 3 % above unmarked);
 *  - PSNR-Y and SSIM-Y of each against the source scaled to the rendition; the mark's cost is
 *    unmarked − variant (targets: ≤ 0.5 dB, ≤ 0.003);
 *  - the luma step an A → B switch adds at a segment boundary, next to the mark's own change;
 *  - bench/results/embed-<content>.png: the frame where A is farthest from the unmarked encode,
 *    next to 8 × their difference;
 *  - embedding CPU time as a ratio to the plain encode of the same renditions, peak memory.
 * BENCH_SECONDS sets the clip length (default 20 s: 10 segments, 9 boundaries per rendition),
 * BENCH_RENDITIONS the heights (default 720,540,360).
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  embedVariants,
  framesPerSegment,
  type RenditionOutput,
} from '../src/watermark/embed-variants.js';
import { defaultEncoderSettings, type EncoderSettings } from '../src/watermark/ladder.js';
import { probeMedia, scaledSize } from '../src/watermark/media.js';
import { FrameEncoder } from '../src/watermark/media-encoder.js';
import { readFrames } from '../src/watermark/media-frames.js';
import { CONTENTS, type Content, makeContent } from './embed-contents.js';
import {
  analyseFrames,
  DIFFERENCE_GAIN,
  type FrameFindings,
  joinedSegments,
  type WorstFrame,
  writeWorstFramePng,
} from './embed-frames.js';
import { cpuSeconds, ffmpeg, peakRssMiB, report } from './support.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 20);
const SEGMENT = 2;
const RENDITIONS = (process.env.BENCH_RENDITIONS ?? '720,540,360').split(',').map(Number);
const TARGET = { psnr: 0.5, ssim: 0.003, bitrate: 0.03 };
/** BENCH_STRENGTH sets one strength for every rendition instead of each one's budget. */
const STRENGTH = process.env.BENCH_STRENGTH ? Number(process.env.BENCH_STRENGTH) : undefined;
/** BENCH_CONTENTS picks and orders contents by name (comma-separated). */
const contents = process.env.BENCH_CONTENTS
  ? process.env.BENCH_CONTENTS.split(',').map((name) => {
      const found = CONTENTS.find((content) => content.name === name);
      if (!found) throw new Error(`no content ${name}`);
      return found;
    })
  : CONTENTS;
const RESULTS = new URL('../../bench/results/', import.meta.url).pathname;

/** The unmarked encode: same decoder path and the very encoder settings of the variants. */
async function plainEncode(
  input: string,
  outputDir: string,
  height: number,
  encoding: EncoderSettings,
): Promise<void> {
  const info = await probeMedia(input);
  const { width } = scaledSize(info, { height });
  const encoder = await FrameEncoder.start({
    outputDir,
    width,
    height,
    encoding,
    frameRate: info.frame_rate,
    framesPerSegment: framesPerSegment(info.frame_rate, SEGMENT),
  });
  for await (const frame of readFrames(input, { width, height, fps: info.frame_rate })) {
    await encoder.write(frame.data);
  }
  await encoder.finish();
}

interface Quality {
  psnr: number;
  ssim: number;
}

/** PSNR-Y / SSIM-Y of an encode against the source, scaled as the engine scales it. */
async function againstSource(
  video: string,
  source: string,
  width: number,
  height: number,
): Promise<Quality> {
  const log = await ffmpeg([
    ...['-i', video, '-i', source],
    ...[
      '-lavfi',
      `[1:v]scale=${width}:${height}:flags=area,split[r1][r2];[0:v]split[v1][v2];[v1][r1]psnr;[v2][r2]ssim`,
    ],
    ...['-f', 'null', '-'],
  ]);
  const psnr = Number(/PSNR y:([\d.]+|inf)/.exec(log)?.[1] ?? NaN);
  const ssim = Number(/SSIM Y:([\d.]+)/.exec(log)?.[1] ?? NaN);
  return { psnr, ssim };
}

/** kbit/s of the segments of a playlist's directory. */
async function bitrate(directory: string): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(directory)) {
    if (name.endsWith('.ts')) bytes += (await stat(join(directory, name))).size;
  }
  return (bytes * 8) / DURATION / 1e3;
}

async function measuredCpu(step: () => Promise<unknown>): Promise<number> {
  const before = cpuSeconds();
  await step();
  return cpuSeconds() - before;
}

const mark = (ok: boolean): string => (ok ? '✔' : '✘');
const settingsOf = (s: EncoderSettings): string =>
  s.crf === null ? `${s.videoBitrate} / ${s.maxBitrate}` : `CRF ${s.crf} / ${s.maxBitrate}`;

interface Row {
  content: string;
  height: number;
  settings: EncoderSettings;
  mark: RenditionOutput['mark'];
  kbps: { unmarked: number; a: number; b: number };
  unmarked: Quality;
  a: Quality;
  b: Quality;
  frames: FrameFindings;
}

function rowLines(row: Row): { quality: string; steps: string; misses: string[] } {
  const cost = (variant: Quality) => ({
    psnr: row.unmarked.psnr - variant.psnr,
    ssim: row.unmarked.ssim - variant.ssim,
  });
  const costA = cost(row.a);
  const costB = cost(row.b);
  const worstPsnr = Math.max(costA.psnr, costB.psnr);
  const worstSsim = Math.max(costA.ssim, costB.ssim);
  const over = Math.max(row.kbps.a, row.kbps.b) / row.kbps.unmarked - 1;
  const ok = {
    psnr: worstPsnr <= TARGET.psnr,
    ssim: worstSsim <= TARGET.ssim,
    bitrate: over <= TARGET.bitrate,
  };
  const name = `${row.content} ${row.height}p`;
  const misses = [
    ...(ok.psnr ? [] : [`${name}: PSNR-Y cost ${worstPsnr.toFixed(2)} dB`]),
    ...(ok.ssim ? [] : [`${name}: SSIM-Y cost ${worstSsim.toFixed(4)}`]),
    ...(ok.bitrate ? [] : [`${name}: A/B bitrate +${(100 * over).toFixed(1)} %`]),
  ];
  const q = (x: Quality) => `${x.psnr.toFixed(2)} / ${x.ssim.toFixed(4)}`;
  return {
    quality: `| ${row.content} | ${row.height}p | ${settingsOf(row.settings)} | ${row.mark.pilotPsnrY?.toFixed(2) ?? '—'} / ${row.mark.strength.toFixed(2)} | ${row.kbps.unmarked.toFixed(0)} / ${row.kbps.a.toFixed(0)} / ${row.kbps.b.toFixed(0)} | ${q(row.unmarked)} | ${q(row.a)} | ${q(row.b)} | ${costA.psnr.toFixed(2)} / ${costB.psnr.toFixed(2)} ${mark(ok.psnr)} | ${costA.ssim.toFixed(4)} / ${costB.ssim.toFixed(4)} ${mark(ok.ssim)} | ${over >= 0 ? '+' : ''}${(100 * over).toFixed(1)} % ${mark(ok.bitrate)} |`,
    steps: `| ${row.content} | ${row.height}p | ${row.frames.switchStep.toFixed(2)} | ${row.frames.stayStep.toFixed(2)} | ${row.frames.innerStep.toFixed(2)} | ${row.frames.switchMeanStep.toFixed(3)} |`,
    misses,
  };
}

async function benchContent(
  content: Content,
  dir: string,
): Promise<{ rows: Row[]; cpu: { plain: number; embed: number }; worst: WorstFrame }> {
  const work = join(dir, content.name.replace(/ /g, '-'));
  const source = join(work, 'source.mp4');
  await mkdir(work, { recursive: true });
  await makeContent(content, DURATION, source);
  const info = await probeMedia(source);
  const plainCpu = await measuredCpu(async () => {
    for (const height of RENDITIONS) {
      const dirOf = join(work, 'plain', `${height}p`);
      await plainEncode(source, dirOf, height, defaultEncoderSettings(height));
    }
  });
  let renditions: RenditionOutput[] = [];
  const embedCpu = await measuredCpu(async () => {
    ({ renditions } = await embedVariants({
      input: source,
      outputDir: join(work, 'marked'),
      key: 'bench-job-key',
      segmentDuration: SEGMENT,
      renditions: RENDITIONS.map((height) => ({ height })),
      strength: STRENGTH,
    }));
  });
  const segmentFrames = framesPerSegment(info.frame_rate, SEGMENT);
  const rows: Row[] = [];
  for (const rendition of renditions) {
    const unmarkedDir = join(work, 'plain', `${rendition.height}p`);
    const unmarked = join(unmarkedDir, 'playlist.m3u8');
    const { width, height } = rendition;
    rows.push({
      content: content.name,
      height,
      settings: rendition.encoding,
      mark: rendition.mark,
      kbps: {
        unmarked: await bitrate(unmarkedDir),
        a: await bitrate(join(work, 'marked', `${height}p`, 'a')),
        b: await bitrate(join(work, 'marked', `${height}p`, 'b')),
      },
      unmarked: await againstSource(unmarked, source, width, height),
      a: await againstSource(rendition.playlistA, source, width, height),
      b: await againstSource(rendition.playlistB, source, width, height),
      frames: await analyseFrames(
        {
          a: await joinedSegments(dirname(rendition.playlistA), join(work, `${height}p-a.ts`)),
          b: await joinedSegments(dirname(rendition.playlistB), join(work, `${height}p-b.ts`)),
          unmarked: await joinedSegments(unmarkedDir, join(work, `${height}p-unmarked.ts`)),
        },
        width,
        height,
        segmentFrames,
      ),
    });
  }
  const worst = rows
    .map((row) => row.frames.worst)
    .reduce((lowest, frame) => (frame.psnr < lowest.psnr ? frame : lowest));
  return { rows, cpu: { plain: plainCpu, embed: embedCpu }, worst };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-embed-'));
  const quality = [
    '| content | rendition | settings (kbit/s) | pilot PSNR-Y / strength | bitrate unmarked / A / B (kbit/s) | unmarked PSNR-Y / SSIM-Y | A PSNR-Y / SSIM-Y | B PSNR-Y / SSIM-Y | PSNR-Y cost A / B (dB), ≤ 0.5 | SSIM-Y cost A / B, ≤ 0.003 | A/B over unmarked, ≤ 3 % |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const steps = [
    '| content | rendition | A → B switch at a boundary | A → A at a boundary | inside a segment | largest mean-luma step at a switch |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const costs = [
    '| content | plain encode CPU (s) | A/B embedding CPU (s) | ratio |',
    '| --- | --- | --- | --- |',
  ];
  const pictures: string[] = [];
  const misses: string[] = [];
  const done: string[] = [];
  const write = (done: string[]): void =>
    report('embed', [
      `# bench:embed — the mark at the default ladder, judged against the source`,
      '',
      `Run ${new Date().toISOString()}${done.length < contents.length ? ` — partial: ${done.join(', ')} of ${contents.length} contents` : ''} on ${process.platform}/${process.arch}, Node ${process.version}. ${DURATION} s clips at 1280x720, 25 fps; renditions ${RENDITIONS.map((h) => `${h}p`).join(', ')}; ${SEGMENT} s segments; key \`bench-job-key\`.`,
      '',
      'Contents (ffmpeg lavfi, stored at x264 CRF 14):',
      ...contents.map((content) => `- **${content.name}**: ${content.description}.`),
      '',
      'Every encode uses the engine defaults: libx264 preset medium with its streaming defaults (adaptive quantisation, psy-rd), capped VBR at the default ladder (average / peak kbit/s in the table, VBV buffer 2 s of peak). The unmarked encode goes through the same decoder path and FrameEncoder with the same settings.',
      '',
      '## Quality against the source',
      '',
      ...quality,
      '',
      'PSNR-Y (dB) and SSIM-Y against the source scaled to the rendition (`scale flags=area`, as the engine scales). Cost = unmarked − variant. Bitrate: every MPEG-TS byte of the segments. Pilot PSNR-Y: what the engine measured on excerpts of the source before embedding (an unmarked x264 encode at the rendition’s settings, `mark-budget.ts`); strength: the mark it set from that, in luma levels RMS before the perceptual mask.',
      '',
      '## Luma steps at segment boundaries (RMS, luma levels)',
      '',
      ...steps,
      '',
      'Each figure is the change between two consecutive frames that the mark adds to the unmarked encode’s own change: ((marked − unmarked) at frame n+1) − ((marked − unmarked) at frame n), RMS over the picture, averaged. The pattern is new in every segment, so a boundary changes the mark whether the viewer switches A → B or stays on A; a switch must not stand out from that, and its mean-luma step (a flash) must stay far below one level.',
      '',
      '## Worst frames',
      '',
      `Variant A's luma on the left, 128 + ${DIFFERENCE_GAIN} × (A − unmarked encode) on the right.`,
      '',
      ...pictures,
      '',
      '## Cost',
      '',
      ...costs,
      '',
      `CPU time of this process and its ffmpeg children (does not grow with other load). Peak RSS of the Node process: ${peakRssMiB().toFixed(0)} MiB.`,
      '',
      '## Verdict',
      '',
      misses.length === 0
        ? `Every row meets every target (≤ ${TARGET.psnr} dB, ≤ ${TARGET.ssim}, ≤ ${100 * TARGET.bitrate} %).`
        : `Misses (${misses.length}):`,
      ...misses.map((miss) => `- ${miss}`),
    ]);
  try {
    for (const content of contents) {
      const { rows, cpu, worst } = await benchContent(content, dir);
      for (const row of rows) {
        const lines = rowLines(row);
        quality.push(lines.quality);
        steps.push(lines.steps);
        misses.push(...lines.misses);
      }
      costs.push(
        `| ${content.name} | ${cpu.plain.toFixed(1)} | ${cpu.embed.toFixed(1)} | ${(cpu.embed / cpu.plain).toFixed(2)}× |`,
      );
      const png = `embed-${content.name.replace(/ /g, '-')}.png`;
      await writeWorstFramePng(worst, join(RESULTS, png), join(dir, 'frame.raw'));
      pictures.push(
        `- [${png}](${png}): ${content.name}, ${worst.height}p frame ${worst.index} (PSNR-Y ${worst.psnr.toFixed(2)} dB against the unmarked encode, the lowest of all its renditions)`,
      );
      await rm(join(dir, content.name.replace(/ /g, '-')), { recursive: true, force: true });
      done.push(content.name);
      write(done);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
