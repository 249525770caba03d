/**
 * `npm run bench:embed-evidence`: what a rendition's mark leaves to the detector, per rendition
 * of the default ladder, when the copy is leaked as delivered and when a pirate shrinks it and
 * re-encodes. For each content (20 s at 1280x720, 2 s segments) the job embeds 720p and 360p;
 * the copy is variant A of one rendition (every soft bit should be positive). Reported: the
 * detector's mark amplitude / noise and the mean soft bit. BENCH_STRENGTH sets one strength for
 * every rendition instead of each rendition's budget (mark-budget.ts); BENCH_CONTENTS picks bench:embed contents by name (default: clean, dark).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { extractSoftBits } from '../src/watermark/detector.js';
import { embedVariants } from '../src/watermark/embed-variants.js';
import { readReference } from '../src/watermark/reference.js';
import { CONTENTS, makeContent } from './embed-contents.js';
import { joinedSegments } from './embed-frames.js';
import { ffmpeg, report } from './support.js';

const DURATION = 20;
const SEGMENT = 2;
const RENDITIONS = [720, 360];
const KEY = 'bench-evidence-key';
const STRENGTH = process.env.BENCH_STRENGTH ? Number(process.env.BENCH_STRENGTH) : undefined;
const NAMES = (process.env.BENCH_CONTENTS ?? 'clean,dark').split(',');

interface Leak {
  name: string;
  /** ffmpeg output arguments of the pirate's re-encode; none: the copy as delivered. */
  args: string[] | null;
}

const LEAKS: Leak[] = [
  { name: 'as delivered', args: null },
  {
    name: '640x360 CRF 32',
    args: ['-vf', 'scale=640:360', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '32'],
  },
  {
    name: '320x180 CRF 40',
    args: ['-vf', 'scale=320:180', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '40'],
  },
];

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-evidence-'));
  const rows = [
    '| content | rendition | strength (levels RMS before the mask) | leak | mark / noise | mean soft bit (A: +1) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  try {
    for (const name of NAMES) {
      const content = CONTENTS.find((candidate) => candidate.name === name);
      if (!content) throw new Error(`no content ${name}`);
      const work = join(dir, name.replace(/ /g, '-'));
      await mkdir(work, { recursive: true });
      const source = join(work, 'source.mp4');
      await makeContent(content, DURATION, source);
      const job = await embedVariants({
        input: source,
        outputDir: join(work, 'job'),
        key: KEY,
        segmentDuration: SEGMENT,
        renditions: RENDITIONS.map((height) => ({ height })),
        strength: STRENGTH,
      });
      const reference = await readReference(job.referencePath);
      for (const rendition of job.renditions) {
        const delivered = join(work, `${rendition.height}p-a.ts`);
        await joinedSegments(dirname(rendition.playlistA), delivered);
        for (const leak of LEAKS) {
          const suspect = leak.args ? join(work, `${rendition.height}p-leak.mp4`) : delivered;
          if (leak.args) await ffmpeg(['-y', '-i', delivered, ...leak.args, '-an', suspect]);
          const result = await extractSoftBits({ suspect, reference, key: KEY, segmentsNeeded: 0 });
          const bits = [...result.softBits];
          const meanBit = bits.reduce((sum, bit) => sum + bit, 0) / Math.max(1, bits.length);
          rows.push(
            `| ${name} | ${rendition.height}p | ${rendition.mark.strength.toFixed(2)} | ${leak.name} | ${(result.markAmplitude / Math.max(1e-9, result.noiseLevel)).toFixed(2)} | ${meanBit.toFixed(3)} |`,
          );
        }
      }
      await rm(work, { recursive: true, force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  report(`embed-evidence${STRENGTH === undefined ? '' : `-strength-${STRENGTH}`}`, [
    '# bench:embed-evidence — what each rendition of the ladder leaves to the detector',
    '',
    `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.version}. ${DURATION} s bench:embed contents at 1280x720, 25 fps; job renditions ${RENDITIONS.map((h) => `${h}p`).join(', ')} at the default ladder; ${SEGMENT} s segments; the copy is variant A of one rendition, leaked as delivered or shrunk and re-encoded by x264 veryfast.`,
    '',
    ...rows,
    '',
    'Mark / noise: the detector’s mark amplitude over the median noise of one segment’s projection (both at its 64x36 view). Mean soft bit: the average of the soft bits (in [-1, 1]); every segment is A, so 1 would be certainty everywhere.',
  ]);
}

await main();
