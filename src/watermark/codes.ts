import { type KeyMaterial, seededPrng } from './prng.js';
import { rootOfIncreasing } from './roots.js';

/**
 * Tardos fingerprinting code (Tardos 2003; arcsine biases), scored with a likelihood-ratio
 * single decoder (Meerwald & Furon 2012; Laarhoven 2014): see `scoreTerms`.
 *
 * Conventions: a codeword has one bit per segment; bit 1 <=> variant A <=> watermark symbol +1,
 * bit 0 <=> variant B <=> symbol -1. Soft bits live in the same symbol domain: one value in
 * [-1, 1] per segment, its sign the detected symbol, its magnitude the confidence, 0 = erased.
 * Biases and codewords are prefix-stable: those of length n are the first n of any longer ones.
 */

/**
 * Bias cutoff t: biases are drawn in [t, 1 - t]. A larger t bounds the per-segment score terms
 * (|term| <= ln((1 + t) / 2t) = 3.2 at t = 0.02), which keeps the innocent tail light and the
 * accusation threshold low for short videos; a smaller t resists larger coalitions.
 */
export const DEFAULT_BIAS_CUTOFF = 0.02;
export const DEFAULT_FALSE_ACCUSATION_PROBABILITY = 1e-6;

export type CodewordBit = 0 | 1;

export function variantForBit(bit: CodewordBit): 'a' | 'b' {
  return bit === 1 ? 'a' : 'b';
}

export function symbolForBit(bit: CodewordBit): 1 | -1 {
  return bit === 1 ? 1 : -1;
}

/**
 * Per-segment biases p_i = P(bit i = 1) of a job, drawn from the Tardos arcsine density
 * f(p) ~ 1 / sqrt(p (1 - p)) on [t, 1 - t] (p = sin^2 r with r uniform). The density is
 * symmetric around 1/2, so bits are balanced in expectation. Deterministic in the job key.
 */
export function tardosBiases(
  jobKey: KeyMaterial,
  length: number,
  cutoff: number = DEFAULT_BIAS_CUTOFF,
): Float64Array {
  if (!(cutoff > 0 && cutoff < 0.5)) throw new RangeError(`bias cutoff ${cutoff} not in (0, 0.5)`);
  const prng = seededPrng(jobKey, 'tardos-biases');
  const rMin = Math.asin(Math.sqrt(cutoff));
  const rMax = Math.PI / 2 - rMin;
  const biases = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const s = Math.sin(rMin + (rMax - rMin) * prng.nextFloat());
    biases[i] = s * s;
  }
  return biases;
}

/** Words of 32 bits needed for a codeword of `length` bits. */
export function codewordWords(length: number): number {
  return Math.ceil(length / 32);
}

/**
 * The codeword of one autograph, packed 32 bits per word (bit i at word i >> 5, bit i & 31):
 * bit i is 1 with probability biases[i], the randomness drawn from HMAC(secret, autographId).
 */
export function generateCodeword(
  secret: KeyMaterial,
  autographId: string,
  biases: Float64Array,
): Uint32Array {
  const prng = seededPrng(secret, `codeword:${autographId}`);
  const packed = new Uint32Array(codewordWords(biases.length));
  for (let i = 0; i < biases.length; i++) {
    if (prng.nextFloat() < biases[i]) packed[i >>> 5] |= 1 << (i & 31);
  }
  return packed;
}

export function codewordBit(codeword: Uint32Array, segmentIndex: number): CodewordBit {
  return ((codeword[segmentIndex >>> 5] >>> (segmentIndex & 31)) & 1) as CodewordBit;
}

/**
 * The codewords of a job in one contiguous Uint32Array (4.5 KB per autograph for 3600
 * segments), the layout the scorer reads. Rows are addressed by insertion order.
 */
export class PackedCodebook {
  readonly wordsPerCodeword: number;
  private data: Uint32Array;
  private count = 0;

  constructor(
    readonly codeLength: number,
    initialCapacity = 1024,
  ) {
    this.wordsPerCodeword = codewordWords(codeLength);
    this.data = new Uint32Array(this.wordsPerCodeword * Math.max(1, initialCapacity));
  }

  /** Rebuilds a codebook from `words` (as returned by `words`), e.g. loaded from a cache. */
  static fromWords(codeLength: number, words: Uint32Array): PackedCodebook {
    const book = new PackedCodebook(codeLength, 0);
    if (words.length % book.wordsPerCodeword !== 0) {
      throw new RangeError('word count is not a multiple of the codeword size');
    }
    book.data = words.slice();
    book.count = words.length / book.wordsPerCodeword;
    return book;
  }

  get size(): number {
    return this.count;
  }

  /** The packed rows in use (a view, not a copy). */
  get words(): Uint32Array {
    return this.data.subarray(0, this.count * this.wordsPerCodeword);
  }

  /** Appends a packed codeword and returns its row index. */
  add(codeword: Uint32Array): number {
    if (codeword.length !== this.wordsPerCodeword) {
      throw new RangeError(
        `codeword has ${codeword.length} words, expected ${this.wordsPerCodeword}`,
      );
    }
    if ((this.count + 1) * this.wordsPerCodeword > this.data.length) {
      const grown = new Uint32Array(Math.max(this.data.length * 2, this.wordsPerCodeword * 16));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(codeword, this.count * this.wordsPerCodeword);
    return this.count++;
  }

  codeword(index: number): Uint32Array {
    if (index < 0 || index >= this.count) throw new RangeError(`no codeword ${index}`);
    return this.data.subarray(index * this.wordsPerCodeword, (index + 1) * this.wordsPerCodeword);
  }
}

/** Bit position of each single-bit byte value (1 -> 0, 2 -> 1, ..., 128 -> 7). */
const LOWEST_BIT_INDEX = new Uint8Array(129);
for (let bit = 0; bit < 8; bit++) LOWEST_BIT_INDEX[1 << bit] = bit;

/** Sum of squared soft bits: how much evidence a copy holds (observed segments, for hard bits). */
export function observedWeight(softBits: Float32Array): number {
  let weight = 0;
  for (let i = 0; i < softBits.length; i++) weight += softBits[i] * softBits[i];
  return weight;
}

/** The two values a codeword's score term takes in each observed segment. */
export interface ScoreTerms {
  /** Index of each observed segment (soft bit not 0). */
  segments: Int32Array;
  /** The term when the codeword's bit is 1, and when it is 0. */
  high: Float64Array;
  low: Float64Array;
  /** The segment's bias: an innocent's bit is 1 with this probability. */
  bias: Float64Array;
  /** Mean and standard deviation of an innocent's raw score: the score's normalisation. */
  mean: number;
  deviation: number;
}

/**
 * Score terms: per segment, the log-likelihood ratio of "this codeword belongs to one of two
 * colluders who took each segment from either copy" against "this codeword is innocent".
 * With the soft bit y read as q = P(copy bit = 1) = (1 + y) / 2 and bias p:
 *   P(copy bit = 1 | colluder's bit x) = (1 + p) / 2 for x = 1, p / 2 for x = 0;
 *   P(copy bit = 1 | innocent) = p,
 * and the term is ln((q P(1 | x) + (1 - q) P(0 | x)) / (q p + (1 - q)(1 - p))).
 * A single pirate is the case where both copies are the same; larger coalitions are caught
 * too. In simulation (perfect soft bits, 180 segments, ε 1e-6) it accused one of two colluders
 * in 91% of trials against 79% for the symmetric Tardos score, and at least as often in every
 * other case tried (single pirate, noisy soft bits, three colluders interleaving or voting).
 * Whatever the copy, an innocent's bits are independent Bernoulli(p) draws, which is all
 * `accusationThresholdFor` relies on.
 */
export function scoreTerms(softBits: Float32Array, biases: Float64Array): ScoreTerms {
  const length = Math.min(softBits.length, biases.length);
  let count = 0;
  for (let i = 0; i < length; i++) if (softBits[i] !== 0) count++;
  const terms: ScoreTerms = {
    segments: new Int32Array(count),
    high: new Float64Array(count),
    low: new Float64Array(count),
    bias: new Float64Array(count),
    mean: 0,
    deviation: 0,
  };
  let variance = 0;
  let k = 0;
  for (let i = 0; i < length; i++) {
    const y = softBits[i];
    if (y === 0) continue;
    const q = (1 + y) / 2;
    const p = biases[i];
    const innocent = q * p + (1 - q) * (1 - p);
    const high = Math.log((q * (1 + p) + (1 - q) * (1 - p)) / 2 / innocent);
    const low = Math.log((q * p + (1 - q) * (2 - p)) / 2 / innocent);
    terms.segments[k] = i;
    terms.high[k] = high;
    terms.low[k] = low;
    terms.bias[k] = p;
    terms.mean += p * high + (1 - p) * low;
    variance += p * (1 - p) * (high - low) * (high - low);
    k++;
  }
  terms.deviation = Math.sqrt(variance);
  return terms;
}

/**
 * Score of every codeword (see `scoreTerms`), normalised by an innocent's mean and standard
 * deviation, so an innocent scores about N(0, 1) and a colluder grows with sqrt(segments).
 *
 * Speed: the raw score is the sum of the low terms plus, over the codeword's 1 bits, high - low;
 * those sums are tabulated per byte of codeword (256 entries per 8 segments), so a codeword of
 * 3600 segments costs 450 table look-ups.
 */
export function scoreCodewords(
  softBits: Float32Array,
  codebook: PackedCodebook,
  biases: Float64Array,
): Float64Array {
  const length = Math.min(softBits.length, codebook.codeLength, biases.length);
  const scores = new Float64Array(codebook.size);
  const terms = scoreTerms(softBits.subarray(0, length), biases);
  if (!(terms.deviation > 0)) return scores;

  const bytes = Math.ceil(length / 8);
  const onesWeight = new Float64Array(bytes * 8);
  let base = -terms.mean;
  terms.segments.forEach((segment, k) => {
    base += terms.low[k];
    onesWeight[segment] = terms.high[k] - terms.low[k];
  });

  const table = new Float64Array(bytes * 256);
  for (let k = 0; k < bytes; k++) {
    const row = k * 256;
    for (let b = 1; b < 256; b++) {
      const lowest = b & -b;
      table[row + b] = table[row + (b ^ lowest)] + onesWeight[k * 8 + LOWEST_BIT_INDEX[lowest]];
    }
  }

  const words = codebook.words;
  const stride = codebook.wordsPerCodeword;
  const fullWords = bytes >>> 2;
  const tailBytes = bytes & 3;
  const norm = 1 / terms.deviation;
  for (let c = 0; c < scores.length; c++) {
    const first = c * stride;
    let sum = base;
    for (let q = 0; q < fullWords; q++) {
      const w = words[first + q];
      const row = q << 10;
      sum +=
        table[row + (w & 255)] +
        table[row + 256 + ((w >>> 8) & 255)] +
        table[row + 512 + ((w >>> 16) & 255)] +
        table[row + 768 + (w >>> 24)];
    }
    if (tailBytes > 0) {
      const w = words[first + fullWords];
      const row = fullWords << 10;
      for (let t = 0; t < tailBytes; t++) sum += table[row + t * 256 + ((w >>> (t * 8)) & 255)];
    }
    scores[c] = sum * norm;
  }
  return scores;
}

/**
 * Accusation threshold for one backtrace: the Chernoff bound computed from the exact
 * distribution of an innocent's score given these biases and soft bits (an innocent's bits are
 * independent Bernoulli(p_i), whatever the colluders did):
 * P(S >= s) <= min over lambda > 0 of exp(K(lambda) - lambda s), K the log moment generating
 * function of the raw score. Returns the smallest normalised score (see `scoreCodewords`) with
 * that bound <= epsilon: an innocent reaches it with probability at most epsilon. Infinity when
 * nothing can be accused: no evidence, or too few segments for any score to be that rare.
 */
export function accusationThresholdFor(
  softBits: Float32Array,
  biases: Float64Array,
  epsilon: number = DEFAULT_FALSE_ACCUSATION_PROBABILITY,
): number {
  checkEpsilon(epsilon);
  const terms = scoreTerms(softBits, biases);
  const { high, low, bias, mean, deviation } = terms;
  if (!(deviation > 0)) return Infinity;

  const logInverseEpsilon = -Math.log(epsilon);
  // An innocent matches the highest term everywhere with this log-probability; when that is
  // above ln(epsilon), no score is rare enough to accuse (a copy with few segments).
  let logTop = 0;
  for (let k = 0; k < bias.length; k++) {
    if (high[k] !== low[k]) logTop += Math.log(high[k] > low[k] ? bias[k] : 1 - bias[k]);
  }
  if (!(-logTop > logInverseEpsilon)) return Infinity;
  // The bound's threshold (K(lambda) + ln(1/eps)) / lambda is unimodal in lambda; its minimum is
  // where lambda K'(lambda) - K(lambda) = ln(1/eps), an increasing function of lambda.
  const excess = (lambda: number): number => {
    const { cumulant, slope } = tiltedInnocentLaw(terms, lambda);
    return lambda * slope - cumulant - logInverseEpsilon;
  };
  // Any lambda gives a valid bound; this one is the bracket's upper end.
  const lambda = rootOfIncreasing(excess, 0, Math.sqrt(2 * logInverseEpsilon) / deviation);
  const { cumulant } = tiltedInnocentLaw(terms, lambda);
  return ((cumulant + logInverseEpsilon) / lambda - mean) / deviation;
}

/**
 * The per-innocent level that bounds a whole backtrace: with `autographs` codewords scored, the
 * probability that any innocent one reaches the threshold is at most their number times the
 * per-innocent level (union bound), so that level is `falseAccusationProbability / autographs`.
 */
export function perInnocentProbability(
  falseAccusationProbability: number,
  autographs: number,
): number {
  checkEpsilon(falseAccusationProbability);
  return falseAccusationProbability / Math.max(1, autographs);
}

/**
 * The probability that an innocent reaches normalised `score` against these terms, bounded the
 * way `accusationThresholdFor` bounds it: min over λ > 0 of exp(K(λ) - λ s). The two agree:
 * at the threshold of epsilon this returns epsilon. At or above the highest score an innocent
 * can reach (every segment on its higher term, as a clean pirate's copy scores its own
 * codeword) it is the exact probability of that score, 0 above it.
 */
export function innocentTailBound(terms: ScoreTerms, score: number): number {
  const { high, low, bias, mean, deviation } = terms;
  if (!(deviation > 0)) return 1;
  const raw = mean + score * deviation;
  if (!(raw > mean)) return 1;
  let top = 0;
  let logTop = 0;
  for (let k = 0; k < bias.length; k++) {
    if (high[k] === low[k]) {
      top += high[k];
      continue;
    }
    top += Math.max(high[k], low[k]);
    logTop += Math.log(high[k] > low[k] ? bias[k] : 1 - bias[k]);
  }
  // Sums of the same terms in another order differ by rounding only.
  const rounding = 1e-9 * (Math.abs(top) + deviation);
  if (raw > top + rounding) return 0;
  if (raw >= top - rounding) return Math.exp(logTop);
  const lambda = rootOfIncreasing((l) => tiltedInnocentLaw(terms, l).slope - raw, 0, 1 / deviation);
  const { cumulant } = tiltedInnocentLaw(terms, lambda);
  return Math.min(1, Math.exp(cumulant - lambda * raw));
}

/**
 * An innocent's raw score under the exponential tilt λ: its log moment generating function
 * K(λ), the tilted mean K'(λ), and per segment the tilted probability of the high term
 * (for importance sampling of the tail). λ = 0 is the innocent's own law.
 */
export function tiltedInnocentLaw(
  { high, low, bias }: ScoreTerms,
  lambda: number,
): { cumulant: number; slope: number; odds: Float64Array } {
  let cumulant = 0;
  let slope = 0;
  const odds = new Float64Array(bias.length);
  for (let k = 0; k < bias.length; k++) {
    const a = lambda * high[k];
    const b = lambda * low[k];
    const top = a > b ? a : b;
    const ea = bias[k] * Math.exp(a - top);
    const eb = (1 - bias[k]) * Math.exp(b - top);
    cumulant += top + Math.log(ea + eb);
    slope += (ea * high[k] + eb * low[k]) / (ea + eb);
    odds[k] = ea / (ea + eb);
  }
  return { cumulant, slope, odds };
}

function checkEpsilon(epsilon: number): void {
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`epsilon ${epsilon} not in (0, 1)`);
}
