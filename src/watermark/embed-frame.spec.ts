import { embedFrame, embedVariantPair } from './embed-frame.js';

/** A strength in the range mark-budget.ts gives renditions. */
const STRENGTH = 0.8;
import { perceptualMask } from './mask.js';
import { watermarkPattern } from './pattern.js';
import { seededPrng } from './prng.js';

const WIDTH = 320;
const HEIGHT = 180;
const LUMA = WIDTH * HEIGHT;

function yuvFrame(fillLuma: (i: number) => number): Uint8Array {
  const frame = new Uint8Array((LUMA * 3) / 2);
  for (let i = 0; i < LUMA; i++) frame[i] = fillLuma(i);
  for (let i = LUMA; i < frame.length; i++) frame[i] = 90 + (i % 7);
  return frame;
}

function psnr(a: Uint8Array, b: Uint8Array, length: number): number {
  let squares = 0;
  for (let i = 0; i < length; i++) squares += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (squares / length));
}

const prng = seededPrng('embed-test', 'frames');
const textured = yuvFrame(() =>
  Math.max(0, Math.min(255, Math.round(128 + 40 * prng.nextGaussian()))),
);
const flat = yuvFrame(() => 128);
const pattern = watermarkPattern('embed-key', 0, WIDTH, HEIGHT);

describe('embedVariantPair', () => {
  it('keeps PSNR >= 45 dB for both variants on a textured frame, the mark being there', () => {
    const a = new Uint8Array(textured.length);
    const b = new Uint8Array(textured.length);
    embedVariantPair(textured, WIDTH, HEIGHT, pattern, STRENGTH, a, b);
    for (const variant of [a, b]) {
      expect(psnr(variant, textured, LUMA)).toBeGreaterThan(45);
      expect(psnr(variant, textured, LUMA)).toBeLessThan(60);
    }
  });

  /** A - B projected on the pattern (unit RMS): the mark's amplitude in luma levels. */
  function markAmplitude(frame: Uint8Array): number {
    const a = new Uint8Array(frame.length);
    const b = new Uint8Array(frame.length);
    embedVariantPair(frame, WIDTH, HEIGHT, pattern, STRENGTH, a, b);
    let dot = 0;
    for (let i = 0; i < LUMA; i++) dot += (a[i] - b[i]) * pattern[i];
    return dot / LUMA / 2;
  }

  it('marks a flat frame with at most half of what a textured one gets', () => {
    const flatAmplitude = markAmplitude(flat);
    const texturedAmplitude = markAmplitude(textured);
    expect(texturedAmplitude).toBeGreaterThan(0.9 * STRENGTH);
    // Half the mark, plainly rounded on a flat picture: its weaker parts round to nothing.
    expect(flatAmplitude).toBeGreaterThan(0);
    expect(flatAmplitude).toBeLessThan(0.5 * texturedAmplitude);
  });

  it('copies chroma untouched and matches embedFrame for each symbol', () => {
    const a = new Uint8Array(textured.length);
    const b = new Uint8Array(textured.length);
    embedVariantPair(textured, WIDTH, HEIGHT, pattern, 1, a, b);
    expect(a.subarray(LUMA)).toEqual(textured.subarray(LUMA));
    expect(b.subarray(LUMA)).toEqual(textured.subarray(LUMA));

    const mask = perceptualMask(textured, WIDTH, HEIGHT);
    const single = new Uint8Array(textured.length);
    expect(embedFrame(textured, WIDTH, HEIGHT, pattern, 1, 1, single, mask)).toEqual(a);
    expect(embedFrame(textured, WIDTH, HEIGHT, pattern, -1, 1, single)).toEqual(b);
  });

  it('rounds plainly and clamps to the byte range', () => {
    const width = 4;
    const height = 1;
    const frame = new Uint8Array([0, 255, 100, 100]);
    const ones = new Float32Array([-1, 1, 0.4, 0.6]);
    const mask = new Float32Array(4).fill(1);
    const out = new Uint8Array(4);
    embedFrame(frame, width, height, ones, 1, 3, out, mask);
    expect(Array.from(out)).toEqual([0, 255, 101, 102]);
    embedFrame(frame, width, height, ones, -1, 3, out, mask);
    expect(Array.from(out)).toEqual([3, 252, 99, 98]);
  });

  it('rejects mismatched buffers', () => {
    const out = new Uint8Array(10);
    expect(() => embedFrame(textured, WIDTH, HEIGHT, pattern, 1, 1, out)).toThrow(RangeError);
  });
});
