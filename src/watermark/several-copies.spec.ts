import { combineSoftBits } from './several-copies.js';

describe('combineSoftBits', () => {
  it('adds the evidence of each reading of a segment and keeps segments seen once', () => {
    const first = Float32Array.from([0.5, 0, -0.5, 0.5, 1]);
    const second = Float32Array.from([0.5, 0.3, 0, -0.5, 1]);
    const combined = combineSoftBits([first, second]);
    // Two agreeing readings of tanh(z) make tanh(2z); opposite ones cancel.
    expect(combined[0]).toBeCloseTo(Math.tanh(2 * Math.atanh(0.5)), 6);
    expect(combined[1]).toBeCloseTo(0.3, 6);
    expect(combined[2]).toBeCloseTo(-0.5, 6);
    expect(combined[3]).toBeCloseTo(0, 6);
    expect(combined[4]).toBeGreaterThan(0.999999);
  });

  it('covers the segments of all copies: three clips of 20 segments observe 60', () => {
    const clip = (from: number) =>
      Float32Array.from({ length: 100 }, (_, i) => (i >= from && i < from + 20 ? 0.4 : 0));
    const combined = combineSoftBits([clip(0), clip(40), clip(80)]);
    expect(combined.filter((bit) => bit !== 0)).toHaveLength(60);
  });
});
