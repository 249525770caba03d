import {
  accusationThresholdFor,
  DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  observedWeight,
  type PackedCodebook,
  scoreCodewords,
} from './codes.js';

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
