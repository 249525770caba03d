import { createHmac } from 'node:crypto';

/** Secret material accepted wherever the engine derives randomness from a key. */
export type KeyMaterial = Buffer | string;

const TWO_POW_32 = 4294967296;

/**
 * xoshiro128** (Blackman & Vigna): 128-bit state, 32-bit outputs, fast in plain JS because it
 * only needs 32-bit integer ops. Deterministic for a given seed on every platform.
 */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Box-Muller yields gaussians in pairs; the second one is kept for the next call. */
  private spareGaussian: number | null = null;

  constructor(seed: Uint32Array) {
    if (seed.length < 4) throw new RangeError('Prng seed needs 4 x 32 bits');
    this.s0 = seed[0] | 0;
    this.s1 = seed[1] | 0;
    this.s2 = seed[2] | 0;
    this.s3 = seed[3] | 0;
    // The all-zero state is the one fixed point of xoshiro: it would output zeros forever.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9 | 0;
  }

  nextUint32(): number {
    // Products stay below 2^53, so `| 0` / `>>> 0` give the exact 32-bit results of imul.
    const result = (rotl((this.s1 * 5) | 0, 7) * 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Standard normal N(0, 1). */
  nextGaussian(): number {
    if (this.spareGaussian !== null) {
      const spare = this.spareGaussian;
      this.spareGaussian = null;
      return spare;
    }
    // 1 - u lies in (0, 1], so the logarithm is always finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat()));
    const angle = 2 * Math.PI * this.nextFloat();
    this.spareGaussian = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * 128-bit seed = first 16 bytes of HMAC-SHA256(key, label): independent streams per label
 * (pattern of segment i, biases of a job, codeword of an autograph) without exposing the key.
 */
export function deriveSeed(key: KeyMaterial, label: string): Uint32Array {
  const digest = createHmac('sha256', key).update(label, 'utf8').digest();
  const seed = new Uint32Array(4);
  for (let i = 0; i < 4; i++) seed[i] = digest.readUInt32LE(i * 4);
  return seed;
}

export function seededPrng(key: KeyMaterial, label: string): Prng {
  return new Prng(deriveSeed(key, label));
}
