import {
  accusationThresholdFor,
  DEFAULT_BIAS_CUTOFF,
  DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  observedWeight,
  type PackedCodebook,
  scoreCodewords,
  scoreTerms,
} from './codes.js';
import { rootOfIncreasing } from './roots.js';

export interface AccuseOptions {
  /** Soft bits of the copy (see extractSoftBits). */
  softBits: Float32Array;
  /** Every autograph codeword of the job, in the order callers index them. */
  codebook: PackedCodebook;
  /** The job's Tardos biases (at least as many as soft bits used). */
  biases: Float64Array;
  /** False-accusation probability per innocent autograph. */
  epsilon?: number;
}

export interface Accusation {
  /** Row of the codeword in the codebook. */
  index: number;
  /** Normalised likelihood-ratio score (see scoreTerms; an innocent scores about N(0, 1)). */
  score: number;
}

export interface AccuseResult {
  /** Codewords scoring at or above the threshold, strongest first. Empty: nobody. */
  accused: Accusation[];
  /** The score an innocent exceeds with probability at most epsilon (Infinity: no evidence). */
  threshold: number;
  /** Highest score below the threshold (-Infinity when every codeword is accused or none exist). */
  maxInnocentScore: number;
  /** Sum of squared soft bits: the evidence the scores rest on (segments, for hard bits). */
  observedWeight: number;
}

/**
 * Scores every codeword against the soft bits and accuses those above
 * `accusationThresholdFor(softBits, biases, epsilon)`. With no observed segment nobody is
 * accused (threshold Infinity). `maxInnocentScore` lets callers report the margin between the
 * accused and the best of the rest.
 */
export function accuse(options: AccuseOptions): AccuseResult {
  const { softBits, codebook, biases } = options;
  const epsilon = options.epsilon ?? DEFAULT_FALSE_ACCUSATION_PROBABILITY;
  const segments = Math.min(softBits.length, codebook.codeLength, biases.length);
  const used = softBits.subarray(0, segments);
  const weight = observedWeight(used);
  const threshold = weight > 0 ? accusationThresholdFor(used, biases, epsilon) : Infinity;
  const scores = weight > 0 ? scoreCodewords(used, codebook, biases) : new Float64Array(0);
  const accused: Accusation[] = [];
  let maxInnocentScore = -Infinity;
  scores.forEach((score, index) => {
    if (score >= threshold) accused.push({ index, score });
    else if (score > maxInnocentScore) maxInnocentScore = score;
  });
  if (weight === 0 && codebook.size > 0) maxInnocentScore = 0;
  accused.sort((a, b) => b.score - a.score);
  return { accused, threshold, maxInnocentScore, observedWeight: weight };
}

const minimumCache = new Map<string, number>();

/**
 * The too-short rule: the fewest observed segments for which a clean copy of a single pirate
 * (every soft bit ±1 and right) is expected to score above the accusation threshold. The score
 * does not change when a segment's bits and bias are flipped together, so such a copy scores
 * like one whose soft bits are all +1, whose pirate has every bit 1, and whose biases follow
 * the bias density weighted by p (a bit is 1 with probability p): deterministic quantiles of
 * that density, no key needed. At epsilon 1e-6 that is 31 segments; any noise, or a
 * coalition, needs more.
 */
export function minimumObservedSegments(
  epsilon: number = DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  cutoff: number = DEFAULT_BIAS_CUTOFF,
): number {
  const cacheKey = `${epsilon}:${cutoff}`;
  const cached = minimumCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const enough = (segments: number): boolean => {
    const biases = pirateBiasQuantiles(segments, cutoff);
    const hardBits = new Float32Array(segments).fill(1);
    const { high, mean, deviation } = scoreTerms(hardBits, biases);
    let expected = 0;
    for (const term of high) expected += term;
    return (expected - mean) / deviation >= accusationThresholdFor(hardBits, biases, epsilon);
  };
  let high = 1;
  while (!enough(high)) {
    if (high > 1 << 20) throw new RangeError(`no segment count reaches epsilon ${epsilon}`);
    high *= 2;
  }
  let low = high >> 1;
  // Invariant: enough(high), !enough(low) (or low = 0).
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (enough(middle)) high = middle;
    else low = middle;
  }
  minimumCache.set(cacheKey, high);
  return high;
}

/**
 * Evenly spaced quantiles of p f(p), f the Tardos arcsine bias density on [cutoff, 1 - cutoff].
 * With p = sin² r and r uniform, the weight is sin² r, whose integral is (r - sin r cos r) / 2.
 */
function pirateBiasQuantiles(count: number, cutoff: number): Float64Array {
  const rMin = Math.asin(Math.sqrt(cutoff));
  const rMax = Math.PI / 2 - rMin;
  const integral = (r: number): number => r - Math.sin(r) * Math.cos(r);
  const total = integral(rMax) - integral(rMin);
  const biases = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const target = integral(rMin) + (total * (i + 0.5)) / count;
    biases[i] = Math.sin(rootOfIncreasing((r) => integral(r) - target, rMin, rMax)) ** 2;
  }
  return biases;
}
