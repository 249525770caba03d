import { correlation } from './media.testing.js';
import { watermarkPattern } from './pattern.js';
import { downscalePlane } from './resample.js';

describe('watermarkPattern', () => {
  it('is zero-mean with unit RMS at any size', () => {
    for (const [width, height] of [
      [1280, 720],
      [64, 36],
      [321, 179],
    ]) {
      const pattern = watermarkPattern('job-key', 3, width, height);
      expect(pattern).toHaveLength(width * height);
      let sum = 0;
      let squares = 0;
      for (const v of pattern) {
        sum += v;
        squares += v * v;
      }
      expect(Math.abs(sum / pattern.length)).toBeLessThan(1e-4);
      expect(Math.sqrt(squares / pattern.length)).toBeCloseTo(1, 4);
    }
  });

  it('is deterministic in the key and segment, and different per segment and key', () => {
    const first = watermarkPattern(Buffer.from('job-key'), 0, 160, 90);
    expect(watermarkPattern('job-key', 0, 160, 90)).toBe(first);
    expect(Math.abs(correlation(first, watermarkPattern('job-key', 1, 160, 90)))).toBeLessThan(0.4);
    expect(Math.abs(correlation(first, watermarkPattern('other-key', 0, 160, 90)))).toBeLessThan(
      0.4,
    );
  });

  it('regenerated at 64x36 matches the 1280x720 pattern downscaled', () => {
    for (const segment of [0, 7, 42]) {
      const full = watermarkPattern('job-key', segment, 1280, 720);
      const low = watermarkPattern('job-key', segment, 64, 36);
      expect(correlation(downscalePlane(full, 1280, 720, 64, 36), low)).toBeGreaterThan(0.99);
      // Also across aspect-preserving renditions of odd sizes.
      const sd = watermarkPattern('job-key', segment, 854, 480);
      expect(correlation(downscalePlane(sd, 854, 480, 64, 36), low)).toBeGreaterThan(0.99);
    }
  });

  it('is spatially smooth: neighbouring pixels barely differ at 720p', () => {
    const pattern = watermarkPattern('job-key', 5, 1280, 720);
    let horizontal = 0;
    for (let y = 0; y < 720; y++) {
      for (let x = 0; x + 1 < 1280; x++) {
        horizontal += Math.abs(pattern[y * 1280 + x + 1] - pattern[y * 1280 + x]);
      }
    }
    expect(horizontal / (720 * 1279)).toBeLessThan(0.05);
  });

  it('rejects bad arguments', () => {
    expect(() => watermarkPattern('k', -1, 10, 10)).toThrow(RangeError);
    expect(() => watermarkPattern('k', 0, 0, 10)).toThrow(RangeError);
  });
});
