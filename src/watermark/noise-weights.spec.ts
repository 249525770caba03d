import { NoiseHistory } from './noise-weights.js';
import { watermarkPattern } from './pattern.js';
import { seededPrng } from './prng.js';
import { ReferenceBuilder, detectionView } from './reference.js';
import {
  SegmentAccumulator,
  SegmentCorrelator,
  type SegmentObservation,
} from './segment-correlation.js';
import { IDENTITY_GEOMETRY } from './geometry.js';
import { downscalePlane } from './resample.js';

describe('NoiseHistory', () => {
  const mask = Uint8Array.from([1, 1, 1, 1, 0]);
  const weightsOf = (history: NoiseHistory): number[] =>
    Array.from(history.weights(mask, new Float32Array(5)));

  it('weighs evenly, but a pixel far noisier than the median by the inverse of its excess', () => {
    const history = new NoiseHistory(5);
    expect(weightsOf(history)).toEqual([1, 1, 1, 1, 0]);
    history.record(Float32Array.from([1, -1, 1, 10, 7]), mask);
    history.record(Float32Array.from([-1, 1, 1, -10, 7]), mask);
    // Energies 1.5 (1 plus the floor of 0.5) and 100.5; 4 times the median is 6.
    const weights = weightsOf(history);
    expect(weights.slice(0, 3)).toEqual([1, 1, 1]);
    expect(weights[3]).toBeCloseTo(6 / 100.5, 6);
    expect(weights[4]).toBe(0);
  });

  it('keeps the last 8 segments only, and forgets them all on demand', () => {
    const history = new NoiseHistory(5);
    history.record(Float32Array.from([0, 0, 0, 10, 0]), mask);
    expect(weightsOf(history)[3]).toBeLessThan(0.1);
    for (let i = 0; i < 8; i++) history.record(Float32Array.from([1, 1, 1, 1, 0]), mask);
    expect(weightsOf(history)).toEqual([1, 1, 1, 1, 0]);
    history.record(Float32Array.from([0, 0, 0, 10, 0]), mask);
    history.forget();
    expect(weightsOf(history)).toEqual([1, 1, 1, 1, 0]);
  });
});

/**
 * A still picture (a test card after a heavy re-encode) marked at 0.5 levels: its left third
 * carries noise of 6 levels, new in every segment (not far enough out to be left out as an
 * overlay), the rest only rounding. Evenly weighted, the left third swamps the mark; weighted
 * by the recent noise, the quiet part reads it.
 */
describe('SegmentCorrelator weighted by the recent noise', () => {
  const WIDTH = 128;
  const HEIGHT = 72;
  const FRAMES_PER_SEGMENT = 5;
  const SEGMENTS = 24;
  const KEY = 'noise-weights-spec-key';
  // Bars over a gradient: a picture whose shape the mark's random pattern hardly shares.
  const still = Uint8Array.from({ length: WIDTH * HEIGHT }, (_, i) => {
    const x = i % WIDTH;
    return 60 + x + (Math.floor(x / 16) % 2) * 40;
  });
  const builder = new ReferenceBuilder(WIDTH, HEIGHT, 25, 0.2, FRAMES_PER_SEGMENT);
  for (let f = 0; f < SEGMENTS * FRAMES_PER_SEGMENT; f++) builder.addFrame(still);
  const reference = builder.finish();
  const prng = seededPrng('noise-weights-spec', 'noise');
  const symbol = (segment: number): 1 | -1 => (segment % 3 === 0 ? -1 : 1);

  /** The copy's segments as accumulated views: the mark, then the noise of the spec's copy. */
  const stillView = detectionView(still, WIDTH, HEIGHT);
  const segments = Array.from({ length: SEGMENTS }, (_, segment) => {
    const mark = downscalePlane(
      watermarkPattern(KEY, segment, WIDTH, HEIGHT),
      WIDTH,
      HEIGHT,
      64,
      36,
    );
    const copy = Uint8Array.from(stillView, (value, i) => {
      const noise = (i % 64 < 21 ? 6 : 0) * prng.nextGaussian();
      return Math.max(
        0,
        Math.min(255, Math.round(value + 0.5 * symbol(segment) * mark[i] + noise)),
      );
    });
    const accumulator = new SegmentAccumulator(64 * 36, 16 * 9);
    accumulator.reset(segment);
    for (let f = 0; f < FRAMES_PER_SEGMENT; f++) {
      const original = segment * FRAMES_PER_SEGMENT + f;
      accumulator.add(copy, reference.signatures.subarray(original * 144, original * 144 + 144));
    }
    return accumulator;
  });

  function read(forgetEachTime: boolean): SegmentObservation[] {
    const correlator = new SegmentCorrelator(reference, KEY, IDENTITY_GEOMETRY);
    return segments.map((accumulator) => {
      if (forgetEachTime) correlator.forget();
      const observation = correlator.observe(accumulator);
      if (!observation) throw new Error(`segment ${accumulator.segment} not read`);
      return observation;
    });
  }

  const markToNoise = (observations: SegmentObservation[], segment: number): number =>
    (symbol(segment) * observations[segment].amplitude) /
    Math.sqrt(observations[segment].noiseVariance);
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[values.length >> 1];

  it('reads the mark several times more precisely once the noisy part is known', () => {
    const even = read(true);
    const weighted = read(false);
    const later = Array.from({ length: SEGMENTS - 8 }, (_, i) => i + 8);
    const evenRatio = median(later.map((segment) => markToNoise(even, segment)));
    const weightedRatio = median(later.map((segment) => markToNoise(weighted, segment)));
    expect(weightedRatio).toBeGreaterThan(2.5 * evenRatio);
    for (const segment of later) expect(markToNoise(weighted, segment)).toBeGreaterThan(3);
    // The first segment has no history: both read it alike.
    expect(weighted[0].amplitude).toBeCloseTo(even[0].amplitude, 4);
  });

  it('keeps the amplitude unbiased: the weighted amplitude is the mark, in luma levels', () => {
    const weighted = read(false);
    const amplitudes = weighted.slice(8).map((o, i) => symbol(i + 8) * o.amplitude);
    const mean = amplitudes.reduce((sum, value) => sum + value, 0) / amplitudes.length;
    const evenMean =
      read(true)
        .slice(8)
        .reduce((sum, o, i) => sum + symbol(i + 8) * o.amplitude, 0) / amplitudes.length;
    expect(mean).toBeGreaterThan(0.5 * evenMean);
    expect(mean).toBeLessThan(1.5 * evenMean);
  });
});
