import { ResidualBackground } from './residual-background.js';

const SIZE = 4;
const ALL = new Uint8Array(SIZE).fill(1);

describe('ResidualBackground', () => {
  it('is the mean of the past residuals, taken out of the pixels read only', () => {
    const background = new ResidualBackground(SIZE);
    expect(background.prepare()).toBe(false);
    background.record(Float32Array.of(1, 2, 3, 4));
    expect(background.prepare()).toBe(false);
    background.record(Float32Array.of(3, 2, 1, 0));
    expect(background.prepare()).toBe(true);
    const residual = Float32Array.of(5, 5, 5, 5);
    background.subtract(residual, Uint8Array.of(1, 1, 0, 1));
    expect(Array.from(residual)).toEqual([3, 3, 0, 3]);
  });

  it('keeps the last 8 segments only', () => {
    const background = new ResidualBackground(SIZE);
    background.record(new Float32Array(SIZE).fill(100));
    for (let segment = 0; segment < 8; segment++) background.record(new Float32Array(SIZE).fill(2));
    background.prepare();
    const residual = new Float32Array(SIZE).fill(2);
    background.subtract(residual, ALL);
    expect(Array.from(residual)).toEqual([0, 0, 0, 0]);
  });

  it('is preferred only where it lowered the recent noise clearly', () => {
    const background = new ResidualBackground(SIZE);
    expect(background.preferred).toBe(false);
    background.recordNoise(1, 0.9);
    expect(background.preferred).toBe(false);
    background.recordNoise(1, 0.1);
    expect(background.preferred).toBe(true);
    // Eight readings at break-even push the clear one out of the window.
    for (let segment = 0; segment < 8; segment++) background.recordNoise(1, 1);
    expect(background.preferred).toBe(false);
  });

  it('forgets every segment on a new sequence', () => {
    const background = new ResidualBackground(SIZE);
    background.record(new Float32Array(SIZE));
    background.record(new Float32Array(SIZE));
    background.recordNoise(1, 0.1);
    background.forget();
    expect(background.prepare()).toBe(false);
    expect(background.preferred).toBe(false);
  });
});
