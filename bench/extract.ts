/**
 * `npm run bench:extract`: the cost of extraction on a 60 s 720p copy, against ffmpeg's
 * decode-only time of the same file (target ≤ 1.25×: the detector should cost little beyond
 * decoding), peak memory, and the time to score 100,000 autographs' codewords (target < 1 s).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accuse } from '../src/watermark/accuse.js';
import {
  codewordBit,
  generateCodeword,
  PackedCodebook,
  tardosBiases,
} from '../src/watermark/codes.js';
import { embedVariants } from '../src/watermark/embed-variants.js';
import { extractSoftBits } from '../src/watermark/detector.js';
import { remuxToMp4 } from '../src/watermark/media-remux.js';
import { readReference } from '../src/watermark/reference.js';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ffmpeg, makeSource, peakRssMiB, report, timed } from './support.js';

const DURATION = 60;
const AUTOGRAPHS = 100;
const SCORED = 100_000;
const JOB_KEY = 'bench-extract-job';
const SECRET = 'bench-extract-secret';

function randomSoftBits(length: number): Float32Array {
  const bits = new Float32Array(length);
  for (let i = 0; i < length; i++) bits[i] = Math.random() * 2 - 1;
  return bits;
}

/** Scores SCORED codewords of `length` segments; codeword derivation is not timed. */
async function scoringSeconds(length: number): Promise<number> {
  const biases = tardosBiases(JOB_KEY, length);
  const codebook = new PackedCodebook(length, SCORED);
  for (let i = 0; i < SCORED; i++) codebook.add(generateCodeword(SECRET, `scored-${i}`, biases));
  const softBits = randomSoftBits(length);
  const [, seconds] = await timed(() => Promise.resolve(accuse({ softBits, codebook, biases })));
  return seconds;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-extract-'));
  try {
    const source = join(dir, 'source.mp4');
    await makeSource(source, DURATION);
    const embedded = await embedVariants({
      input: source,
      outputDir: join(dir, 'marked'),
      key: JOB_KEY,
      segmentDuration: 1,
      renditions: [{ height: 720 }],
    });
    const [rendition] = embedded.renditions;
    const biases = tardosBiases(JOB_KEY, rendition.segments.length);
    const codebook = new PackedCodebook(rendition.segments.length, AUTOGRAPHS);
    for (let i = 0; i < AUTOGRAPHS; i++)
      codebook.add(generateCodeword(SECRET, `autograph-${i}`, biases));
    const pirate = 42;
    const copy = join(dir, 'copy.mp4');
    const remux = remuxToMp4(
      rendition.segments.map((s, i) =>
        codewordBit(codebook.codeword(pirate), i) === 1 ? s.a : s.b,
      ),
    );
    await pipeline(remux.stream, createWriteStream(copy));

    const [, decodeSeconds] = await timed(() =>
      ffmpeg(['-i', copy, '-map', '0:v:0', '-f', 'null', '-']),
    );
    const reference = await readReference(embedded.referencePath);
    const [extraction, extractSeconds] = await timed(() =>
      extractSoftBits({ suspect: copy, reference, key: JOB_KEY }),
    );
    const verdict = accuse({ softBits: extraction.softBits, codebook, biases });
    const identified = verdict.accused.length === 1 && verdict.accused[0].index === pirate;
    const ratio = extractSeconds / decodeSeconds;
    const score60 = await scoringSeconds(rendition.segments.length);
    const score3600 = await scoringSeconds(3600);
    report('extract', [
      `# bench:extract — ${DURATION} s 720p copy (1 s segments), ${AUTOGRAPHS} autographs`,
      '',
      `Run ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.version}.`,
      '',
      '| measure | value | target |',
      '| --- | --- | --- |',
      `| ffmpeg decode-only of the copy | ${decodeSeconds.toFixed(2)} s | |`,
      `| extraction (decode at 64x36 + align + soft bits) | ${extractSeconds.toFixed(2)} s | |`,
      `| extraction / decode-only | ${ratio.toFixed(2)}× | ≤ 1.25× ${ratio <= 1.25 ? '✔' : '✘'} |`,
      `| pirate identified (alone) | ${identified ? 'yes' : 'NO'} (score ${verdict.accused[0]?.score.toFixed(2) ?? '—'}, threshold ${verdict.threshold.toFixed(2)}, best innocent ${verdict.maxInnocentScore.toFixed(2)}) | ✔ |`,
      `| segments observed | ${extraction.segmentsObserved} of ${rendition.segments.length} | |`,
      `| score ${SCORED.toLocaleString('en')} codewords × ${rendition.segments.length} segments | ${(score60 * 1000).toFixed(0)} ms | < 1 s ${score60 < 1 ? '✔' : '✘'} |`,
      `| score ${SCORED.toLocaleString('en')} codewords × 3600 segments (a 2 h film) | ${(score3600 * 1000).toFixed(0)} ms | < 1 s ${score3600 < 1 ? '✔' : '✘'} |`,
      `| peak RSS of the Node process | ${peakRssMiB().toFixed(0)} MiB | flat in video length |`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
