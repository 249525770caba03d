import { DECOY_COUNT, type SegmentObservation } from './segment-correlation.js';
import { seededPrng } from './prng.js';
import { softBitsFromObservations } from './soft-bits.js';

describe('softBitsFromObservations', () => {
  const observation = (amplitude: number, noiseVariance: number): SegmentObservation => ({
    amplitude,
    noiseVariance,
    frames: 5,
  });

  it('saturates clean observations at ±1 and leaves unobserved segments at 0', () => {
    const observations = [[observation(0.8, 0.01)], [], [observation(-0.75, 0.012)]];
    const result = softBitsFromObservations(observations, 4);
    expect(result.segmentsObserved).toBe(2);
    expect(result.softBits[0]).toBeGreaterThan(0.999);
    expect(result.softBits[1]).toBe(0);
    expect(result.softBits[2]).toBeLessThan(-0.999);
    expect(result.softBits[3]).toBe(0);
    expect(result.markAmplitude).toBeCloseTo(Math.sqrt((0.64 + 0.5625) / 2 - 0.011), 2);
  });

  it('gives noisy segments less weight than clean ones', () => {
    const observations = [[observation(0.3, 0.04)], [observation(0.3, 0.4)]];
    const { softBits } = softBitsFromObservations(observations, 2);
    expect(softBits[0]).toBeGreaterThan(softBits[1]);
    expect(softBits[1]).toBeGreaterThan(0);
  });

  it('merges repeated observations of a segment by inverse variance', () => {
    const merged = softBitsFromObservations([[observation(0.4, 0.1), observation(0.4, 0.1)]], 1);
    const single = softBitsFromObservations([[observation(0.4, 0.1)]], 1);
    expect(merged.softBits[0]).toBeGreaterThan(single.softBits[0]);
  });

  it('keeps the soft bits of pure noise small, bounded and unbiased', () => {
    const prng = seededPrng('detect-spec-noise', 'observations');
    const observations = Array.from({ length: 4000 }, () => [
      observation(0.1 * prng.nextGaussian(), 0.01 * (0.7 + 0.6 * prng.nextFloat())),
    ]);
    const { softBits, markAmplitude, noiseLevel } = softBitsFromObservations(observations, 4000);
    let sum = 0;
    let largest = 0;
    for (const bit of softBits) {
      sum += bit;
      largest = Math.max(largest, Math.abs(bit));
    }
    expect(noiseLevel).toBeCloseTo(0.1, 1);
    expect(markAmplitude).toBeLessThan(0.02);
    expect(largest).toBeLessThan(0.6);
    // Mean within 4 standard errors of 0 (the soft bits are about ±0.1 here).
    expect(Math.abs(sum / softBits.length)).toBeLessThan((4 * 0.15) / Math.sqrt(4000));
  });

  it('uses enough decoys to estimate a variance', () => {
    expect(DECOY_COUNT).toBeGreaterThanOrEqual(16);
  });
});
