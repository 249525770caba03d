/**
 * The arithmetic of bench:trust, on soft bits (no media): thresholds by number of autographs,
 * the importance-sampling check of the innocent tail, and the segments a pirate needs.
 */
import {
  accusationThresholdFor,
  codewordBit,
  generateCodeword,
  PackedCodebook,
  perInnocentProbability,
  type Prng,
  rootOfIncreasing,
  scoreCodewords,
  scoreTerms,
  seededPrng,
  symbolForBit,
  tardosBiases,
  tiltedInnocentLaw,
} from '../src/watermark/index.js';

export const TOTAL_EPSILON = 1e-6;

/** Thresholds of these soft bits for each number of autographs (ε_total / n per innocent). */
export function thresholdsByAutographs(
  softBits: Float32Array,
  biases: Float64Array,
  counts: number[],
): number[] {
  return counts.map((n) =>
    accusationThresholdFor(softBits, biases, perInnocentProbability(TOTAL_EPSILON, n)),
  );
}

export interface TailEstimate {
  threshold: number;
  bound: number;
  estimate: number;
  /** Relative standard error of the estimate. */
  relativeError: number;
  samples: number;
}

/**
 * Importance sampling of P(innocent score ≥ threshold): innocent codewords are drawn from the
 * law tilted by λ (each bit 1 with the tilted odds, which centres the raw score on the
 * threshold), and each sample weighs exp(K(λ) − λ S), the likelihood ratio back to the
 * innocent's own law. Unbiased for the true tail, whatever λ; this λ makes it efficient.
 */
export function importanceSampledTail(
  softBits: Float32Array,
  biases: Float64Array,
  level: number,
  samples: number,
  prng: Prng,
): TailEstimate {
  const terms = scoreTerms(softBits, biases);
  const threshold = accusationThresholdFor(softBits, biases, level);
  const raw = terms.mean + threshold * terms.deviation;
  const lambda = rootOfIncreasing((l) => tiltedInnocentLaw(terms, l).slope - raw, 0, 1);
  const { cumulant, odds } = tiltedInnocentLaw(terms, lambda);
  let sum = 0;
  let sumSquares = 0;
  for (let s = 0; s < samples; s++) {
    let score = 0;
    for (let k = 0; k < odds.length; k++) {
      score += prng.nextFloat() < odds[k] ? terms.high[k] : terms.low[k];
    }
    const weight = score >= raw ? Math.exp(cumulant - lambda * score) : 0;
    sum += weight;
    sumSquares += weight * weight;
  }
  const estimate = sum / samples;
  const variance = Math.max(0, sumSquares / samples - estimate * estimate) / samples;
  return {
    threshold,
    bound: level,
    estimate,
    relativeError: estimate > 0 ? Math.sqrt(variance) / estimate : Infinity,
    samples,
  };
}

/**
 * The fewest segments with which a single pirate's copy passes the threshold for n autographs
 * in at least `rate` of `trials` simulated jobs (fresh biases and codeword per trial). Each
 * soft bit is the pirate's symbol times a confidence drawn from `confidences` (1 = clean bits;
 * measured ones from a real copy: their sign says whether the segment read right, 0 = lost).
 */
export function segmentsNeeded(
  n: number,
  confidences: number[],
  options: { rate: number; trials: number; seed: string },
): number {
  const passRate = (segments: number): number => {
    let passed = 0;
    for (let trial = 0; trial < options.trials; trial++) {
      const prng = seededPrng(options.seed, `${n}:${segments}:${trial}`);
      const biases = tardosBiases(`${options.seed}-job-${trial}`, segments);
      const codeword = generateCodeword(options.seed, `pirate-${trial}`, biases);
      const book = new PackedCodebook(segments, 1);
      book.add(codeword);
      const softBits = Float32Array.from({ length: segments }, (_, i) => {
        const confidence = confidences[Math.floor(prng.nextFloat() * confidences.length)];
        return symbolForBit(codewordBit(codeword, i)) * confidence;
      });
      const threshold = accusationThresholdFor(
        softBits,
        biases,
        perInnocentProbability(TOTAL_EPSILON, n),
      );
      if (scoreCodewords(softBits, book, biases)[0] >= threshold) passed++;
    }
    return passed / options.trials;
  };
  let segments = 16;
  while (passRate(segments) < options.rate) segments += segments < 64 ? 1 : 4;
  return segments;
}
