import { MASK_MAX_GAIN, MASK_MIN_GAIN, perceptualMask, SCENE_MIN_GAIN, sceneGain } from './mask.js';
import { seededPrng } from './prng.js';

function texturedLeftHalf(width: number, height: number): Uint8Array {
  const prng = seededPrng('mask-test', 'frame');
  const luma = new Uint8Array(width * height).fill(120);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width / 2; x++)
      luma[y * width + x] = 60 + Math.floor(prng.nextFloat() * 120);
  }
  return luma;
}

function mean(values: Float32Array, from = 0, to = values.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i];
  return sum / (to - from);
}

describe('perceptualMask', () => {
  it('is a half everywhere on a flat frame', () => {
    const mask = perceptualMask(new Uint8Array(320 * 180).fill(128), 320, 180);
    expect(Math.min(...mask)).toBeCloseTo(SCENE_MIN_GAIN, 6);
    expect(Math.max(...mask)).toBeCloseTo(SCENE_MIN_GAIN, 6);
  });

  it('gives flat frames less of the mark, textured ones all of it', () => {
    expect([0, 0.13, 0.3, 0.5, 1, 4].map((activity) => sceneGain(activity))).toEqual([
      0.5,
      0.5,
      Math.sqrt(0.35 / 1.05),
      Math.sqrt(0.55 / 1.05),
      1,
      1,
    ]);
  });

  it('is strong in texture, weak in flat areas, within [0.5, 2] with RMS ~1 (it moves the mark, adds none)', () => {
    const width = 320;
    const height = 180;
    const mask = perceptualMask(texturedLeftHalf(width, height), width, height);
    let textured = 0;
    let flat = 0;
    for (let y = 0; y < height; y++) {
      textured += mean(mask, y * width, y * width + 140);
      flat += mean(mask, y * width + 180, y * width + width);
    }
    expect(textured / height).toBeGreaterThan(1.3);
    expect(flat / height).toBeLessThan(0.7);
    expect(Math.min(...mask)).toBeGreaterThanOrEqual(MASK_MIN_GAIN);
    expect(Math.max(...mask)).toBeLessThanOrEqual(MASK_MAX_GAIN);
    const rms = Math.sqrt(mean(mask.map((gain) => gain * gain)));
    expect(rms).toBeGreaterThan(0.97);
    expect(rms).toBeLessThan(1.03);
    expect(mean(mask)).toBeLessThan(0.97);
  });

  it('has no block edges: neighbouring gains differ by small steps', () => {
    const width = 320;
    const height = 180;
    const mask = perceptualMask(texturedLeftHalf(width, height), width, height);
    let largest = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x + 1 < width; x++) {
        largest = Math.max(largest, Math.abs(mask[y * width + x + 1] - mask[y * width + x]));
      }
    }
    expect(largest).toBeLessThan(0.2);
  });

  it('handles sizes that are not multiples of the block size', () => {
    const mask = perceptualMask(texturedLeftHalf(37, 21), 37, 21);
    expect(mask.every((v) => Number.isFinite(v) && v >= MASK_MIN_GAIN && v <= MASK_MAX_GAIN)).toBe(
      true,
    );
  });
});
