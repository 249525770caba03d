import { rootOfIncreasing } from './roots.js';

describe('rootOfIncreasing', () => {
  it('finds the crossing inside the bracket and beyond it', () => {
    expect(rootOfIncreasing((x) => x * x - 2, 0, 2)).toBeCloseTo(Math.SQRT2, 14);
    expect(rootOfIncreasing((x) => Math.log(x) - 10, 1, 2)).toBeCloseTo(Math.exp(10), 8);
  });

  it('returns a point where the function is not negative', () => {
    const f = (x: number): number => x - 1 / 3;
    expect(f(rootOfIncreasing(f, 0, 1))).toBeGreaterThanOrEqual(0);
  });
});
