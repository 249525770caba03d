import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractSoftBits } from './detector.js';
import { framesPerSegment } from './embed-variants.js';
import { findOriginals, type OriginalCandidate } from './find-original.js';
import { jobSignatureOf } from './job-signature.js';
import { FFMPEG_PATH } from './media.js';
import { readFrames } from './media-frames.js';
import { type DetectionReference, ReferenceBuilder } from './reference.js';

/**
 * Through ffmpeg: two 30 s films, a re-encoded, smaller copy of one, and the job search among
 * both; what finding decoded must let the extraction go on exactly as if it had started alone.
 */
describe('findOriginals (ffmpeg)', () => {
  const KEY = Buffer.from('find-original-spec-key');
  let dir: string;
  let copy: string;
  let unrelated: string;
  let candidates: OriginalCandidate[];
  let original: DetectionReference;

  function ffmpeg(...args: string[]): void {
    execFileSync(FFMPEG_PATH, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  }

  /** A 30 s raw film drawn by a lavfi source. */
  function film(name: string, source: string): string {
    const path = join(dir, `${name}.nut`);
    ffmpeg(
      '-f',
      'lavfi',
      '-i',
      source,
      '-t',
      '30',
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'rawvideo',
      path,
    );
    return path;
  }

  async function referenceOf(path: string): Promise<DetectionReference> {
    const builder = new ReferenceBuilder(320, 180, 25, 1, framesPerSegment(25, 1));
    for await (const frame of readFrames(path, { width: 320, height: 180, grayOnly: true })) {
      builder.addFrame(frame.data);
    }
    return builder.finish();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autograph-find-original-'));
    const fractal = film(
      'fractal',
      'mandelbrot=size=480x270:rate=25:maxiter=200,' +
        'crop=320:180:x=80+70*sin(t/3):y=45+40*cos(t/4),boxblur=1:1',
    );
    const life = film('life', 'life=size=320x180:rate=25:mold=10:ratio=0.1:death_color=#203040');
    unrelated = film('unrelated', 'cellauto=size=320x180:rate=25:rule=110');
    copy = join(dir, 'copy.mp4');
    ffmpeg(
      ...['-i', fractal, '-vf', 'scale=256:144', '-c:v', 'libx264', '-preset', 'veryfast'],
      ...['-crf', '32', copy],
    );
    original = await referenceOf(fractal);
    const other = await referenceOf(life);
    candidates = [
      ['life', other],
      ['fractal', original],
    ].map(([id, reference]) => ({
      id: id as string,
      signature: () => Promise.resolve(jobSignatureOf(reference as DetectionReference)),
      reference: () => Promise.resolve(reference as DetectionReference),
      key: KEY,
    }));
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the original, and the extraction going on from its decoded start reads what it reads alone', async () => {
    const { found, start } = await findOriginals(copy, candidates);
    expect(found.map(({ id }) => id)).toEqual(['fractal']);
    expect(found[0].correlation).toBeGreaterThan(0.9);
    if (!start) throw new Error('nothing handed over');
    // The first 10 s window locked: its frames and lock are handed over, the decoder paused.
    expect(start.frames.map(({ frame }) => frame)).toEqual([...Array(250).keys()]);
    expect(start.lock).not.toBeNull();
    expect(start.info.width).toBe(256);

    const options = { suspect: copy, reference: original, key: KEY, segmentsNeeded: 0 };
    const alone = await extractSoftBits(options);
    const goingOn = await extractSoftBits({ ...options, start }).finally(() =>
      start.rest.return(undefined),
    );
    expect(alone.alignment.matched).toBe(true);
    expect(alone.segmentsObserved).toBeGreaterThan(25);
    expect(goingOn.framesRead).toBe(alone.framesRead);
    expect(goingOn.alignment).toEqual(alone.alignment);
    expect(goingOn.softBits).toEqual(alone.softBits);
  }, 60_000);

  it('finds nothing in a copy of neither, and hands nothing over', async () => {
    await expect(findOriginals(unrelated, candidates)).resolves.toEqual({ found: [], start: null });
  }, 60_000);
});
