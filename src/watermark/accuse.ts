import {
  accusationThresholdFor,
  DEFAULT_BIAS_CUTOFF,
  DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  innocentTailBound,
  observedWeight,
  type PackedCodebook,
  perInnocentProbability,
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
  /**
   * Bound on the probability that any innocent codeword of the codebook is accused: each is
   * held to this divided by the codebook's size (see perInnocentProbability).
   */
  falseAccusationProbability?: number;
}

export interface Accusation {
  /** Row of the codeword in the codebook. */
  index: number;
  /** Normalised likelihood-ratio score (see scoreTerms; an innocent scores about N(0, 1)). */
  score: number;
  /** Bound on the probability that one innocent reaches this score (innocentTailBound). */
  innocentProbability: number;
  /** The same for any innocent of the codebook: the union bound, at most 1. */
  anyInnocentProbability: number;
}

/** Counts of every codeword's score in bins of `width` starting at `start`. */
export interface ScoreHistogram {
  start: number;
  width: number;
  counts: number[];
}

export interface AccuseResult {
  /** Codewords scoring at or above the threshold, strongest first. Empty: nobody. */
  accused: Accusation[];
  /** The score an innocent exceeds with probability at most perInnocentProbability. */
  threshold: number;
  /** Highest score below the threshold (-Infinity when every codeword is accused or none exist). */
  maxInnocentScore: number;
  /** Sum of squared soft bits: the evidence the scores rest on (segments, for hard bits). */
  observedWeight: number;
  /** Codewords scored: the n of the union bound. */
  autographsScored: number;
  /** The bound for the whole backtrace, and what it leaves to each innocent. */
  falseAccusationProbability: number;
  perInnocentProbability: number;
  /** Every codeword's score (see scoreHistogram); no bins without evidence. */
  histogram: ScoreHistogram;
}

/** Bin width of the score histogram: an innocent's score has deviation 1. */
export const HISTOGRAM_BIN_WIDTH = 0.25;

/**
 * Scores every codeword against the soft bits and accuses those above
 * `accusationThresholdFor(softBits, biases, ε / n)`: by the union bound over the n codewords,
 * the probability that this backtrace names any innocent is at most ε. With no observed segment
 * nobody is accused (threshold Infinity). `maxInnocentScore` lets callers report the margin
 * between the accused and the best of the rest.
 */
export function accuse(options: AccuseOptions): AccuseResult {
  const { softBits, codebook, biases } = options;
  const falseAccusationProbability =
    options.falseAccusationProbability ?? DEFAULT_FALSE_ACCUSATION_PROBABILITY;
  const epsilon = perInnocentProbability(falseAccusationProbability, codebook.size);
  const segments = Math.min(softBits.length, codebook.codeLength, biases.length);
  const used = softBits.subarray(0, segments);
  const weight = observedWeight(used);
  const threshold = weight > 0 ? accusationThresholdFor(used, biases, epsilon) : Infinity;
  const scores = weight > 0 ? scoreCodewords(used, codebook, biases) : new Float64Array(0);
  const terms = scoreTerms(used, biases);
  const accused: Accusation[] = [];
  let maxInnocentScore = -Infinity;
  scores.forEach((score, index) => {
    if (score < threshold) {
      if (score > maxInnocentScore) maxInnocentScore = score;
      return;
    }
    const innocentProbability = innocentTailBound(terms, score);
    const anyInnocentProbability = Math.min(1, innocentProbability * codebook.size);
    accused.push({ index, score, innocentProbability, anyInnocentProbability });
  });
  if (weight === 0 && codebook.size > 0) maxInnocentScore = 0;
  accused.sort((a, b) => b.score - a.score);
  return {
    accused,
    threshold,
    maxInnocentScore,
    observedWeight: weight,
    autographsScored: codebook.size,
    falseAccusationProbability,
    perInnocentProbability: epsilon,
    histogram: scoreHistogram(scores),
  };
}

/** Scores binned by HISTOGRAM_BIN_WIDTH on a grid anchored at 0 (deterministic for a copy). */
export function scoreHistogram(scores: Float64Array): ScoreHistogram {
  const width = HISTOGRAM_BIN_WIDTH;
  if (scores.length === 0) return { start: 0, width, counts: [] };
  let min = Infinity;
  let max = -Infinity;
  for (const score of scores) {
    if (score < min) min = score;
    if (score > max) max = score;
  }
  const start = Math.floor(min / width) * width;
  const counts = new Array<number>(Math.floor((max - start) / width) + 1).fill(0);
  for (const score of scores) counts[Math.floor((score - start) / width)]++;
  return { start, width, counts };
}

const minimumCache = new Map<string, number>();

/**
 * The too-short rule: the fewest observed segments for which a clean copy of a single pirate
 * (every soft bit ±1 and right) is expected to score above the accusation threshold. The score
 * does not change when a segment's bits and bias are flipped together, so such a copy scores
 * like one whose soft bits are all +1, whose pirate has every bit 1, and whose biases follow
 * the bias density weighted by p (a bit is 1 with probability p): deterministic quantiles of
 * that density, no key needed. `epsilon` is per innocent (perInnocentProbability): at 1e-6
 * that is 31 segments, at 1e-12 (10⁶ autographs, 1e-6 per backtrace) 60; any noise, or a
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
