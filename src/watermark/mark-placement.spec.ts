import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codewordBit, symbolForBit } from './codes.js';
import { extractSoftBits } from './detector.js';
import { embedPirateJob } from './pirate-copy.testing.js';
import { FFMPEG_PATH } from './media.js';
import { type DetectionReference } from './reference.js';

/**
 * An original whose picture goes flat (a zoom that ends on one colour, a fade to a plain
 * card): an excerpt of the flat part has no frame the signatures can match, so only the mark
 * can place it (`placeFlatByMark`). Real frames through ffmpeg: 4 s of a fractal zoom, then
 * 14 s of a plain card (one colour, a faint gradient of 1.5 levels across, like the zoom of
 * bench:robustness once it ends on one colour), in 0.2 s segments.
 */
describe('placing a flat excerpt by its mark (ffmpeg)', () => {
  const KEY = 'flat-excerpt-key';
  const FPS = 25;
  let dir: string;
  let original: string;
  let pirateCopy: string;
  let reference: DetectionReference;
  let codeword: Uint32Array;

  function ffmpeg(...args: string[]): void {
    execFileSync(FFMPEG_PATH, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  }

  /** Seconds 7 to 17 of `input` (frames 175 to 424: the card), re-encoded at x264 CRF 23. */
  function excerpt(name: string, input: string): string {
    const output = join(dir, `${name}.mp4`);
    ffmpeg(...['-ss', '7', '-t', '10', '-i', input], ...['-c:v', 'libx264', '-crf', '23', output]);
    return output;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autograph-flat-'));
    original = join(dir, 'original.nut');
    const graph =
      `mandelbrot=size=320x180:rate=${FPS},trim=duration=4[zoom];` +
      `color=size=320x180:rate=${FPS},format=yuv420p,` +
      "geq=lum='90+1.5*X/W':cb=100:cr=110,trim=duration=14[flat];" +
      '[zoom][flat]concat=n=2:v=1:a=0,format=yuv420p';
    ffmpeg('-filter_complex', graph, '-c:v', 'rawvideo', original);
    ({ reference, codeword, pirateCopy } = await embedPirateJob(original, dir, KEY, 0.2));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('places an excerpt of the flat part where it was cut and reads its segments', async () => {
    // The excerpt's frames are flat in the original too: the signatures cannot place it.
    const size = reference.signatureWidth * reference.signatureHeight;
    const flat = reference.signatures.subarray(175 * size, 425 * size);
    expect(Math.max(...flat) - Math.min(...flat)).toBeLessThanOrEqual(2);

    const result = await extractSoftBits({
      suspect: excerpt('flat', pirateCopy),
      reference,
      key: KEY,
    });
    expect(result.alignment.matched).toBe(true);
    expect(result.alignment.offsetFrames).toBe(175);
    expect(result.alignment.confidence).toBe(0);
    expect(result.segmentsObserved).toBe(50); // segments 35..84
    let right = 0;
    result.softBits.forEach((bit, segment) => {
      if (segment < 35 || segment > 84) expect(bit).toBe(0);
      else if (Math.sign(bit) === symbolForBit(codewordBit(codeword, segment))) right++;
    });
    expect(right).toBeGreaterThanOrEqual(48); // x264 leaves the mark weak in a flat picture's first frames
  });

  it('leaves an unmarked excerpt of the flat part unplaced', async () => {
    const result = await extractSoftBits({
      suspect: excerpt('unmarked', original),
      reference,
      key: KEY,
      segmentsNeeded: 0,
    });
    expect(result.alignment.matched).toBe(false);
    expect(result.softBits.every((bit) => bit === 0)).toBe(true);
  });
});
