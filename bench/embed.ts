/**
 * `npm run bench:embed`: quality and cost of A/B embedding on a generated 60 s 720p clip.
 *  - PSNR / SSIM of each variant against an unmarked encode with identical settings
 *    (targets: ≥ 45 dB, ≥ 0.99);
 *  - embedding time (A and B of every rendition) as a ratio to the plain encode of the same
 *    renditions (target ≤ 2.3×), measured in this one run;
 *  - peak memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedVariants, framesPerSegment } from '../src/watermark/embedder.js';
import { FrameEncoder, probeMedia, readFrames, scaledSize } from '../src/watermark/media.js';
import { ffmpeg, makeSource, peakRssMiB, report, timed } from './support.js';

const DURATION = 60;
const SEGMENT = 2;
const RENDITIONS = [720, 360];

/** The unmarked encode: same decoder path and the very encoder settings of the variants. */
async function plainEncode(input: string, outputDir: string, height: number): Promise<void> {
  const info = await probeMedia(input);
  const { width } = scaledSize(info, { height });
  const encoder = await FrameEncoder.start({
    outputDir,
    width,
    height,
    frameRate: info.frame_rate,
    framesPerSegment: framesPerSegment(info.frame_rate, SEGMENT),
  });
  for await (const frame of readFrames(input, { width, height, fps: info.frame_rate })) {
    await encoder.write(frame.data);
  }
  await encoder.finish();
}

async function compare(
  variant: string,
  reference: string,
): Promise<{ psnr: number; ssim: number }> {
  const log = await ffmpeg([
    '-i',
    variant,
    '-i',
    reference,
    '-lavfi',
    '[0:v][1:v]psnr;[0:v][1:v]ssim',
    '-f',
    'null',
    '-',
  ]);
  const psnr = Number(/PSNR y:[\d.]+ u:[\d.]+ v:[\d.]+ average:([\d.]+|inf)/.exec(log)?.[1] ?? NaN);
  const ssim = Number(/SSIM Y:([\d.]+)/.exec(log)?.[1] ?? NaN);
  return { psnr, ssim };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-embed-'));
  try {
    const source = join(dir, 'source.mp4');
    await makeSource(source, DURATION);
    const [, plainSeconds] = await timed(async () => {
      for (const height of RENDITIONS)
        await plainEncode(source, join(dir, 'plain', `${height}p`), height);
    });
    const [embedded, embedSeconds] = await timed(() =>
      embedVariants({
        input: source,
        outputDir: join(dir, 'marked'),
        key: 'bench-job-key',
        segmentDuration: SEGMENT,
        renditions: RENDITIONS.map((height) => ({ height })),
      }),
    );
    const lines = [
      `# bench:embed — ${DURATION} s, renditions ${RENDITIONS.map((h) => `${h}p`).join(' + ')}, ${SEGMENT} s segments`,
      '',
      `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.version}.`,
      '',
      '| rendition | variant | PSNR Y vs unmarked (dB) | SSIM Y vs unmarked |',
      '| --- | --- | --- | --- |',
    ];
    let worstPsnr = Infinity;
    let worstSsim = Infinity;
    for (const rendition of embedded.renditions) {
      const unmarked = join(dir, 'plain', `${rendition.height}p`, 'playlist.m3u8');
      for (const [variant, playlist] of [
        ['A', rendition.playlistA],
        ['B', rendition.playlistB],
      ] as const) {
        const { psnr, ssim } = await compare(playlist, unmarked);
        worstPsnr = Math.min(worstPsnr, psnr);
        worstSsim = Math.min(worstSsim, ssim);
        lines.push(
          `| ${rendition.height}p | ${variant} | ${psnr.toFixed(2)} | ${ssim.toFixed(4)} |`,
        );
      }
    }
    const ratio = embedSeconds / plainSeconds;
    lines.push(
      '',
      '| measure | value | target |',
      '| --- | --- | --- |',
      `| worst PSNR | ${worstPsnr.toFixed(2)} dB | ≥ 45 dB ${worstPsnr >= 45 ? '✔' : '✘'} |`,
      `| worst SSIM | ${worstSsim.toFixed(4)} | ≥ 0.99 ${worstSsim >= 0.99 ? '✔' : '✘'} |`,
      `| plain encode (1 encode per rendition) | ${plainSeconds.toFixed(1)} s | |`,
      `| A/B embedding (2 encodes per rendition + reference) | ${embedSeconds.toFixed(1)} s | |`,
      `| embedding / plain | ${ratio.toFixed(2)}× | ≤ 2.3× ${ratio <= 2.3 ? '✔' : '✘'} |`,
      `| peak RSS of the Node process | ${peakRssMiB().toFixed(0)} MiB | flat in video length |`,
    );
    report('embed', lines);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
