import { SegmentAccumulator, SegmentCorrelator } from './segment-correlation.js';
import { embedFrame } from './embed-frame.js';
import { type CropGeometry, IDENTITY_GEOMETRY, originalOnSuspect, PlaneWarp } from './geometry.js';
import { watermarkPattern } from './pattern.js';
import { seededPrng } from './prng.js';
import { type DetectionReference, ReferenceBuilder } from './reference.js';
import { downscalePlane } from './resample.js';

const WIDTH = 128;
const HEIGHT = 72;
const FRAMES_PER_SEGMENT = 5;
const SEGMENTS = 8;
const KEY = 'detect-spec-job-key';
const SYMBOLS: (1 | -1)[] = [1, -1, -1, 1, 1, -1, 1, -1];

/** A smooth picture panning one pixel per frame, plus fixed fine texture. */
function originalFrame(frame: number): Uint8Array {
  const panorama = watermarkPattern('detect-spec-content', 0, WIDTH + 64, HEIGHT);
  const texture = watermarkPattern('detect-spec-texture', 0, WIDTH * 4, HEIGHT * 4);
  const luma = new Uint8Array(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const value =
        120 + 45 * panorama[y * (WIDTH + 64) + x + frame] + 6 * texture[y * 4 * WIDTH * 4 + x * 4];
      luma[y * WIDTH + x] = Math.max(0, Math.min(255, Math.round(value)));
    }
  }
  return luma;
}

const frames = Array.from({ length: SEGMENTS * FRAMES_PER_SEGMENT }, (_, f) => originalFrame(f));
const reference: DetectionReference = (() => {
  const builder = new ReferenceBuilder(WIDTH, HEIGHT, 25, 0.2, FRAMES_PER_SEGMENT);
  for (const frame of frames) builder.addFrame(frame);
  return builder.finish();
})();

interface CopyOptions {
  key?: string;
  strength?: number;
  geometry?: CropGeometry;
  gain?: number;
  shift?: number;
  /** RMS of a fixed error every frame of the copy shows (a misfit of the models, say). */
  misfit?: number;
  /** Detection pixels (1 = covered) a player's semi-transparent bar dims to 40 %. */
  dimmed?: Uint8Array;
}

const misfitPrng = seededPrng('detect-spec-misfit', 'plane');
const MISFIT = Float32Array.from({ length: 64 * 36 }, () => misfitPrng.nextGaussian());

/** The copy's detection view of frame f: marked, cropped and scaled back, brightness/contrast. */
function copyView(f: number, options: CopyOptions = {}): Uint8Array {
  const segment = Math.floor(f / FRAMES_PER_SEGMENT);
  const marked = new Uint8Array(WIDTH * HEIGHT);
  const pattern = watermarkPattern(options.key ?? KEY, segment, WIDTH, HEIGHT);
  embedFrame(frames[f], WIDTH, HEIGHT, pattern, SYMBOLS[segment], options.strength ?? 0.8, marked);
  const geometry = options.geometry ?? IDENTITY_GEOMETRY;
  const picture = new PlaneWarp(WIDTH, HEIGHT, WIDTH, HEIGHT, originalOnSuspect(geometry)).apply(
    marked,
  );
  const view = downscalePlane(picture, WIDTH, HEIGHT, 64, 36);
  const gain = options.gain ?? 1;
  const shift = options.shift ?? 0;
  const misfit = options.misfit ?? 0;
  // Clamped as a decoder would: a typed array would wrap what falls outside 0..255.
  const clamp = (value: number): number => Math.max(0, Math.min(255, Math.round(value)));
  const dimming = (i: number): number => (options.dimmed?.[i] ? 0.4 : 1);
  return Uint8Array.from(view, (value, i) =>
    clamp(dimming(i) * (gain * value + shift) + misfit * MISFIT[i]),
  );
}

/** Every segment's observation; `alone`: each read as if it were the copy's first. */
function observeAll(options: CopyOptions = {}, framesUsed = FRAMES_PER_SEGMENT, alone = false) {
  const correlator = new SegmentCorrelator(reference, KEY, options.geometry ?? IDENTITY_GEOMETRY);
  const accumulator = new SegmentAccumulator(64 * 36, 16 * 9);
  return SYMBOLS.map((_, segment) => {
    accumulator.reset(segment);
    for (let i = 0; i < framesUsed; i++) {
      const f = segment * FRAMES_PER_SEGMENT + i;
      accumulator.add(copyView(f, options), reference.signatures.subarray(f * 144, f * 144 + 144));
    }
    if (alone) correlator.forget();
    const observation = correlator.observe(accumulator);
    if (!observation) throw new Error(`segment ${segment} not observed`);
    return observation;
  });
}

describe('SegmentCorrelator', () => {
  it('reads each segment symbol with an amplitude near the strength', () => {
    const observations = observeAll();
    observations.forEach((observation, segment) => {
      expect(Math.sign(observation.amplitude)).toBe(SYMBOLS[segment]);
      expect(Math.abs(observation.amplitude)).toBeGreaterThan(0.5);
      expect(Math.abs(observation.amplitude)).toBeLessThan(1.1);
      expect(Math.abs(observation.amplitude)).toBeGreaterThan(
        5 * Math.sqrt(observation.noiseVariance),
      );
    });
  });

  it('undoes brightness and contrast, and a crop scaled back', () => {
    const geometry = { left: 0.1, right: 0.1, top: 0.1, bottom: 0.1 };
    const observations = observeAll({ geometry, gain: 0.8, shift: 30 });
    observations.forEach((observation, segment) => {
      expect(Math.sign(observation.amplitude)).toBe(SYMBOLS[segment]);
      expect(Math.abs(observation.amplitude)).toBeGreaterThan(0.4);
    });
  });

  it('reads a segment from part of its frames', () => {
    observeAll({}, 2).forEach((observation, segment) => {
      expect(Math.sign(observation.amplitude)).toBe(SYMBOLS[segment]);
      expect(observation.frames).toBe(2);
    });
  });

  it('takes out an error every segment of the copy shows alike', () => {
    const together = observeAll({ misfit: 20 });
    const alone = observeAll({ misfit: 20 }, FRAMES_PER_SEGMENT, true);
    // The background is the mean of at least two segments, weighed on one before it is used.
    for (let segment = 3; segment < SEGMENTS; segment++) {
      const noise = Math.sqrt(together[segment].noiseVariance);
      expect(Math.sign(together[segment].amplitude)).toBe(SYMBOLS[segment]);
      expect(Math.abs(together[segment].amplitude)).toBeGreaterThan(5 * noise);
      expect(noise).toBeLessThan(0.3 * Math.sqrt(alone[segment].noiseVariance));
    }
  });

  it('leaves out what the geometry says an overlay covers', () => {
    // A bar over the bottom quarter, dimming the picture (and the mark) to 40 %.
    const dimmed = Uint8Array.from({ length: 64 * 36 }, (_, i) => (i >= 64 * 27 ? 1 : 0));
    const read = observeAll({ dimmed });
    const masked = observeAll({ dimmed, geometry: { ...IDENTITY_GEOMETRY, overlay: dimmed } });
    masked.forEach((observation, segment) => {
      expect(Math.sign(observation.amplitude)).toBe(SYMBOLS[segment]);
      const noise = Math.sqrt(observation.noiseVariance);
      expect(Math.abs(observation.amplitude)).toBeGreaterThan(5 * noise);
      expect(noise).toBeLessThan(0.1 * Math.sqrt(read[segment].noiseVariance));
    });
  });

  it('sees only noise in an unmarked copy or one marked with another key', () => {
    for (const options of [{ strength: 0 }, { key: 'another-job-key' }]) {
      for (const observation of observeAll(options)) {
        // Another key's mark is itself noise: random patterns correlate at about ±0.1.
        expect(Math.abs(observation.amplitude)).toBeLessThan(0.25);
        expect(Math.abs(observation.amplitude)).toBeLessThan(
          4 * Math.sqrt(observation.noiseVariance),
        );
      }
    }
  });
});
