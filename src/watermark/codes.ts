import { type KeyMaterial, seededPrng } from './prng.js';

/**
 * Tardos fingerprinting code with the symmetric score (Skoric, Katzenbeisser & Celik 2008;
 * Laarhoven & de Weger 2014).
 *
 * Conventions: a codeword has one bit per segment; bit 1 <=> variant A <=> watermark symbol +1,
 * bit 0 <=> variant B <=> symbol -1. Soft bits live in the same symbol domain: one value in
 * [-1, 1] per segment, its sign the detected symbol, its magnitude the confidence, 0 = erased.
 * Biases and codewords are prefix-stable: those of length n are the first n of any longer ones.
 */

/**
 * Bias cutoff t: biases are drawn in [t, 1 - t]. A larger t bounds the per-segment score terms
 * (|term| <= sqrt((1 - t) / t) = 6.9 at t = 0.02), which keeps the innocent tail light and the
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

/** Sum of squared soft bits: the variance of an innocent's raw score (= observed segments). */
export function observedWeight(softBits: Float32Array): number {
  let weight = 0;
  for (let i = 0; i < softBits.length; i++) weight += softBits[i] * softBits[i];
  return weight;
}

/**
 * Symmetric Tardos score of every codeword, normalised by the innocent standard deviation
 * sqrt(sum softBits^2), so an innocent scores about N(0, 1) and a colluder grows with
 * sqrt(segments). Per segment with soft bit y, bias p and codeword bit x the term is
 * y * sqrt((1 - p) / p) when x = 1 and -y * sqrt(p / (1 - p)) when x = 0.
 *
 * Speed: the score is base + sum over the codeword's 1 bits of y / sqrt(p (1 - p)); those sums
 * are tabulated per byte of codeword (256 entries per 8 segments), so a codeword of 3600
 * segments costs 450 table look-ups.
 */
export function scoreCodewords(
  softBits: Float32Array,
  codebook: PackedCodebook,
  biases: Float64Array,
): Float64Array {
  const segments = Math.min(softBits.length, codebook.codeLength, biases.length);
  const scores = new Float64Array(codebook.size);
  const weight = observedWeight(softBits.subarray(0, segments));
  if (weight === 0) return scores;

  const bytes = Math.ceil(segments / 8);
  const onesWeight = new Float64Array(bytes * 8);
  let base = 0;
  for (let i = 0; i < segments; i++) {
    const y = softBits[i];
    if (y === 0) continue;
    const p = biases[i];
    base -= y * Math.sqrt(p / (1 - p));
    onesWeight[i] = y / Math.sqrt(p * (1 - p));
  }

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
  const norm = 1 / Math.sqrt(weight);
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
 * Accusation threshold on the normalised score from Bennett's inequality, valid for any biases
 * in [t, 1 - t] and any soft bits: each innocent term is zero-mean, has variance y^2 and is at
 * most b = sqrt((1 - t) / t), so P(S >= s) <= exp(-(V / b^2) h(b s / V)) with
 * h(u) = (1 + u) ln(1 + u) - u and V = observedWeight(softBits): pass that as
 * `observedSegments` (it is the number of observed segments for hard bits). Returns z such that
 * P(normalised score >= z) <= epsilon for one innocent.
 * Independent of the actual biases, so it is conservative; see `accusationThresholdFor`.
 */
export function accusationThreshold(
  observedSegments: number,
  epsilon: number = DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  cutoff: number = DEFAULT_BIAS_CUTOFF,
): number {
  if (!(observedSegments > 0)) return Infinity;
  checkEpsilon(epsilon);
  const bound = Math.sqrt((1 - cutoff) / cutoff);
  const target = (-Math.log(epsilon) * bound * bound) / observedSegments;
  const bennett = (u: number): number => (1 + u) * Math.log1p(u) - u;
  // h is increasing: bracket then bisect h(u) = target.
  let low = 0;
  let high = 1;
  while (bennett(high) < target) high *= 2;
  for (let iteration = 0; iteration < 100; iteration++) {
    const mid = (low + high) / 2;
    if (bennett(mid) < target) low = mid;
    else high = mid;
  }
  return (high * observedSegments) / bound / Math.sqrt(observedSegments);
}

/**
 * Tighter accusation threshold for one backtrace: the Chernoff bound computed from the exact
 * distribution of an innocent's score given these biases and soft bits (an innocent's bits are
 * independent Bernoulli(p_i), whatever the colluders did):
 * P(S >= s) <= min over lambda > 0 of exp(K(lambda) - lambda s), K the log moment generating
 * function of S. Returns the smallest normalised z with that bound <= epsilon (always at most the
 * Bennett threshold: ~5.0 instead of ~7.0 on 300 segments).
 */
export function accusationThresholdFor(
  softBits: Float32Array,
  biases: Float64Array,
  epsilon: number = DEFAULT_FALSE_ACCUSATION_PROBABILITY,
): number {
  checkEpsilon(epsilon);
  const segments = Math.min(softBits.length, biases.length);
  // Per observed segment: the two values of the term and the probability of the first.
  const high: number[] = [];
  const low: number[] = [];
  const probability: number[] = [];
  let weight = 0;
  for (let i = 0; i < segments; i++) {
    const y = softBits[i];
    if (y === 0) continue;
    const p = biases[i];
    high.push(y * Math.sqrt((1 - p) / p));
    low.push(-y * Math.sqrt(p / (1 - p)));
    probability.push(p);
    weight += y * y;
  }
  if (weight === 0) return Infinity;

  const logInverseEpsilon = -Math.log(epsilon);
  /** K(lambda) and K'(lambda) of the raw score. */
  const cumulant = (lambda: number): { value: number; slope: number } => {
    let value = 0;
    let slope = 0;
    for (let k = 0; k < probability.length; k++) {
      const a = lambda * high[k];
      const b = lambda * low[k];
      const top = Math.max(a, b);
      const ea = probability[k] * Math.exp(a - top);
      const eb = (1 - probability[k]) * Math.exp(b - top);
      value += top + Math.log(ea + eb);
      slope += (ea * high[k] + eb * low[k]) / (ea + eb);
    }
    return { value, slope };
  };
  // The bound's threshold (K(lambda) + ln(1/eps)) / lambda is unimodal in lambda; its minimum is
  // where lambda K'(lambda) - K(lambda) = ln(1/eps), an increasing function of lambda.
  const excess = (lambda: number): number => {
    const { value, slope } = cumulant(lambda);
    return lambda * slope - value - logInverseEpsilon;
  };
  let lower = 0;
  let upper = Math.sqrt((2 * logInverseEpsilon) / weight);
  while (excess(upper) < 0) {
    lower = upper;
    upper *= 2;
  }
  for (let iteration = 0; iteration < 60; iteration++) {
    const mid = (lower + upper) / 2;
    if (excess(mid) < 0) lower = mid;
    else upper = mid;
  }
  // Evaluate at the upper end of the bracket: any lambda gives a valid bound.
  const { value } = cumulant(upper);
  return (value + logInverseEpsilon) / upper / Math.sqrt(weight);
}

function checkEpsilon(epsilon: number): void {
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`epsilon ${epsilon} not in (0, 1)`);
}
