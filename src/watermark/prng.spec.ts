import { deriveSeed, Prng, seededPrng } from './prng.js';

describe('Prng', () => {
  it('is deterministic for a key and label, and differs across labels and keys', () => {
    const draw = (key: string, label: string): number[] => {
      const prng = seededPrng(key, label);
      return Array.from({ length: 8 }, () => prng.nextUint32());
    };
    expect(draw('key', 'a')).toEqual(draw('key', 'a'));
    expect(draw('key', 'a')).not.toEqual(draw('key', 'b'));
    expect(draw('key', 'a')).not.toEqual(draw('other', 'a'));
    expect(deriveSeed(Buffer.from('key'), 'a')).toEqual(deriveSeed('key', 'a'));
  });

  it('draws uniform floats in [0, 1) and standard gaussians', () => {
    const prng = seededPrng('stats', 'x');
    const n = 200_000;
    let sum = 0;
    let min = 1;
    let max = 0;
    let gaussSum = 0;
    let gaussSquares = 0;
    for (let i = 0; i < n; i++) {
      const u = prng.nextFloat();
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
      const g = prng.nextGaussian();
      gaussSum += g;
      gaussSquares += g * g;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(gaussSum / n).toBeCloseTo(0, 1);
    expect(gaussSquares / n).toBeCloseTo(1, 1);
  });

  it('never gets stuck on an all-zero seed', () => {
    const prng = new Prng(new Uint32Array(4));
    const values = new Set(Array.from({ length: 16 }, () => prng.nextUint32()));
    expect(values.size).toBeGreaterThan(10);
  });
});
