import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codewordBit, generateCodeword, symbolForBit, tardosBiases } from './codes.js';
import { extractSoftBits } from './detector.js';
import { embedVariants } from './embed-variants.js';
import { FFMPEG_PATH } from './media.js';
import { correlation } from './media.testing.js';
import { type DetectionReference, readReference } from './reference.js';

/**
 * A picture that repeats: ffmpeg's test card `testsrc2`, whose moving parts loop every 12 s
 * (only a small clock tells the repeats apart, too small for the signatures). A copy of it is
 * matched equally well at every repeat, so only the mark can place it. Its crop (asymmetric,
 * as a camcorder's keystone) is refined on the lock, which raises the lock's score: the
 * rivals must be scored again under the refined crop, or the repeat the search happened to
 * refine looks unique. Real frames through ffmpeg: 30 s at 320x180, 0.5 s segments.
 */
describe('a copy of a repeating picture (ffmpeg)', () => {
  const KEY = 'repeating-picture-key';
  const FPS = 25;
  const CROP = 'crop=iw*0.94:ih*0.95:iw*0.06:0,scale=320:180';
  let dir: string;
  let original: string;
  let pirateCopy: string;
  let reference: DetectionReference;
  let codeword: Uint32Array;

  function ffmpeg(...args: string[]): void {
    execFileSync(FFMPEG_PATH, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  }

  /** The first 10 s of `input`, cropped, at x264 CRF 23. */
  function croppedExcerpt(name: string, input: string): string {
    const output = join(dir, `${name}.mp4`);
    ffmpeg('-i', input, '-t', '10', '-vf', CROP, '-c:v', 'libx264', '-crf', '23', output);
    return output;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autograph-repeating-'));
    original = join(dir, 'original.nut');
    ffmpeg(
      ...['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`, '-t', '30'],
      ...['-pix_fmt', 'yuv420p', '-c:v', 'rawvideo', original],
    );
    const job = await embedVariants({
      input: original,
      outputDir: join(dir, 'job'),
      key: KEY,
      segmentDuration: 0.5,
      renditions: [{ height: 180 }],
      preset: 'veryfast',
    });
    reference = await readReference(job.referencePath);
    codeword = generateCodeword('secret', 'pirate', tardosBiases(KEY, reference.segmentCount));
    const segments = job.renditions[0].segments;
    const bytes = segments.map((segment) =>
      readFileSync(codewordBit(codeword, segment.index) === 1 ? segment.a : segment.b),
    );
    pirateCopy = join(dir, 'pirate.ts');
    writeFileSync(pirateCopy, Buffer.concat(bytes));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('repeats every 12 s for the signatures', () => {
    const size = reference.signatureWidth * reference.signatureHeight;
    const signature = (frame: number): Uint8Array =>
      reference.signatures.subarray(frame * size, (frame + 1) * size);
    let lowest = 1;
    for (let frame = 0; frame < 12 * FPS; frame++) {
      lowest = Math.min(lowest, correlation(signature(frame), signature(frame + 12 * FPS)));
    }
    expect(lowest).toBeGreaterThan(0.98);
  });

  it('places a cropped excerpt at its true time by the mark and reads it', async () => {
    const result = await extractSoftBits({
      suspect: croppedExcerpt('pirate', pirateCopy),
      reference,
      key: KEY,
      segmentsNeeded: 0,
    });
    expect(result.alignment.matched).toBe(true);
    expect(Math.abs(result.alignment.offsetFrames)).toBeLessThanOrEqual(1);
    expect(result.segmentsObserved).toBeGreaterThanOrEqual(19);
    let right = 0;
    result.softBits.forEach((bit, segment) => {
      if (segment >= 21) expect(bit).toBe(0);
      else if (Math.sign(bit) === symbolForBit(codewordBit(codeword, segment))) right++;
    });
    expect(right).toBeGreaterThanOrEqual(18);
  });

  it('does not lock an unmarked cropped excerpt on any repeat', async () => {
    const result = await extractSoftBits({
      suspect: croppedExcerpt('unmarked', original),
      reference,
      key: KEY,
      segmentsNeeded: 0,
    });
    expect(result.alignment.matched).toBe(false);
    expect(result.segmentsObserved).toBe(0);
  });
});
