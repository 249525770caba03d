import { type BufferedFrame } from './align.js';
import {
  copySamples,
  decodeJobSignature,
  encodeJobSignature,
  jobSignatureOf,
  signatureScore,
} from './job-signature.js';
import { MAX_SEARCH_RATE } from './lock-search.js';
import { type DetectionReference } from './reference.js';
import { SYNTHETIC_SIGNATURE as SIGNATURE, syntheticReference } from './reference.testing.js';

const FRAMES = 1000;

/** A film of `seed`: a new random picture every 25 frames, cross-fading into the next. */
function film(seed: string): DetectionReference {
  return syntheticReference(seed, FRAMES, 25);
}

/** 10 s of a copy of `original` from frame `offset` at `rate`, darker and flatter (x0.7 + 30). */
function copyOf(original: DetectionReference, offset: number, rate: number): BufferedFrame[] {
  return Array.from({ length: 250 }, (_, frame) => {
    const shown = Math.round(offset + rate * frame) * SIGNATURE;
    const view = new Uint8Array(64 * 36);
    for (let y = 0; y < 36; y++) {
      for (let x = 0; x < 64; x++) {
        const cell = original.signatures[shown + (y >> 2) * 16 + (x >> 2)];
        view[y * 64 + x] = Math.round(0.7 * cell + 30);
      }
    }
    return { frame, view };
  });
}

describe('job signature', () => {
  const original = film('job-signature-spec');
  const signature = jobSignatureOf(original);

  it('keeps one coarse entry per half second, a few bytes per second, and reads back as written', () => {
    expect(signature.step).toBe(13);
    expect(signature.coarse.length).toBe(Math.ceil(FRAMES / 13) * 12);
    const encoded = encodeJobSignature(signature);
    expect(encoded.length).toBe(32 + 77 * 12);
    expect(decodeJobSignature(encoded)).toEqual(signature);
    expect(() => decodeJobSignature(encoded.subarray(0, encoded.length - 1))).toThrow(/truncated/);
    expect(() => decodeJobSignature(Buffer.from('not a signature at all, really..'))).toThrow(
      /bad magic/,
    );
  });

  it.each([
    ['at the same speed', 1],
    ['sped up 25/24', MAX_SEARCH_RATE],
  ])('scores a copy of the original near 1 %s, another film far below', (_, rate) => {
    const copy = copyOf(original, 431, rate);
    const samples = copySamples(copy, signature);
    expect(samples).toHaveLength(19);
    expect(signatureScore(signature, samples)).toBeGreaterThan(0.95);
    const other = jobSignatureOf(film('another film'));
    expect(signatureScore(other, samples)).toBeLessThan(0.6);
  });

  it('takes no samples from a flat copy (nothing to rank by)', () => {
    const flat = Array.from({ length: 250 }, (_, frame) => ({
      frame,
      view: new Uint8Array(64 * 36).fill(16),
    }));
    expect(copySamples(flat, signature)).toEqual([]);
    expect(signatureScore(signature, [])).toBe(-1);
  });
});
