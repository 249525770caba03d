import { Detector } from './detector.js';
import { embedFrame } from './embed-frame.js';
import { watermarkPattern } from './pattern.js';
import { type DetectionReference, detectionView } from './reference.js';
import { panningPicture, panningReference, syntheticSymbols } from './reference.testing.js';

/**
 * A picture that stops telling times apart (the end of a fractal zoom, whose detail becomes
 * finer than the signature cells): synthetic frames (no ffmpeg) panning over a smooth random
 * panorama whose contrast falls to a few levels from frame 200 on, where the copy's own noise
 * (a smooth field redrawn every frame, as strong as the picture) leaves its signatures matching
 * nothing. Tracking is lost; the mark must tell that the copy goes on along the line.
 */
describe('Detector (a picture that stops telling times apart)', () => {
  const WIDTH = 128;
  const HEIGHT = 72;
  const FRAMES = 500;
  const PER_SEGMENT = 5;
  const FADES_AT = 200;
  const KEY = 'lost-line-spec-key';
  const SIZE = { width: WIDTH, height: HEIGHT, frames: FRAMES };
  const symbols = syntheticSymbols(KEY, FRAMES / PER_SEGMENT);
  const pictureOf = (frame: number): Uint8Array =>
    panningPicture('panorama', frame, SIZE, frame < FADES_AT ? 45 : 4);

  let reference: DetectionReference;
  beforeAll(() => {
    reference = panningReference(pictureOf, SIZE, PER_SEGMENT);
  });

  /** The copy's detection view: marked (or not), plus its noise from FADES_AT on. */
  function copyView(frame: number, marked: boolean): Uint8Array {
    const segment = Math.floor(frame / PER_SEGMENT);
    const picture = pictureOf(frame);
    const shown = new Uint8Array(WIDTH * HEIGHT);
    const pattern = watermarkPattern(KEY, segment, WIDTH, HEIGHT);
    if (marked) embedFrame(picture, WIDTH, HEIGHT, pattern, symbols[segment], 2, shown);
    else shown.set(picture);
    const noise = watermarkPattern('copy-noise', frame, WIDTH, HEIGHT);
    const view = detectionView(shown, WIDTH, HEIGHT);
    const noiseView = detectionView(
      Uint8Array.from(noise, (v) => 128 + 8 * v),
      WIDTH,
      HEIGHT,
    );
    return Uint8Array.from(view, (v, i) =>
      Math.round(frame < FADES_AT ? v : v + noiseView[i] - 128),
    );
  }

  function traceCopy(marked: boolean) {
    const detector = new Detector(reference, KEY);
    for (let frame = 0; frame < FRAMES; frame++) detector.push(copyView(frame, marked));
    return detector.finish();
  }

  it('follows the line by the mark once the signatures match nothing, and reads every segment', () => {
    const result = traceCopy(true);
    expect(result.alignment.locks).toBeGreaterThanOrEqual(2);
    expect(result.segmentsObserved).toBe(FRAMES / PER_SEGMENT);
    result.softBits.forEach((bit, segment) => expect(Math.sign(bit)).toBe(symbols[segment]));
  });

  it('does not follow an unmarked copy past where the signatures stop matching', () => {
    const result = traceCopy(false);
    expect(result.alignment.locks).toBe(1);
    // Tracking is lost within a few segments of FADES_AT, and nothing after is read.
    const lastRead = result.softBits.findLastIndex((bit) => bit !== 0);
    expect(lastRead).toBeGreaterThanOrEqual(FADES_AT / PER_SEGMENT - 1);
    expect(lastRead).toBeLessThan(FADES_AT / PER_SEGMENT + 12);
  });
});
