import { downscalePlane } from './resample.js';

describe('downscalePlane', () => {
  it('averages exact blocks when the ratio is an integer', () => {
    // 4x2 -> 2x1: each output is the mean of a 2x2 block.
    const src = new Uint8Array([0, 2, 10, 20, 4, 6, 30, 40]);
    expect(Array.from(downscalePlane(src, 4, 2, 2, 1))).toEqual([3, 25]);
  });

  it('keeps a constant plane constant for non-integer ratios', () => {
    const src = new Uint8Array(854 * 480).fill(77);
    const out = downscalePlane(src, 854, 480, 64, 36);
    expect(out.every((v) => v === 77)).toBe(true);
  });

  it('refuses to upscale', () => {
    expect(() => downscalePlane(new Float32Array(4), 2, 2, 4, 4)).toThrow(RangeError);
  });
});
