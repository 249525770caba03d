import {
  accusationThresholdFor,
  codewordBit,
  DEFAULT_BIAS_CUTOFF,
  generateCodeword,
  PackedCodebook,
  scoreCodewords,
  symbolForBit,
  tardosBiases,
  variantForBit,
} from './codes.js';
import { type Prng, seededPrng } from './prng.js';

const INNOCENTS = 1000;

interface Job {
  biases: Float64Array;
  book: PackedCodebook;
}

/** A job of `length` segments with INNOCENTS innocent autographs then `colluders` more. */
function makeJob(trial: number, length: number, colluders: number): Job {
  const biases = tardosBiases(`job-${trial}`, length);
  const book = new PackedCodebook(length);
  for (let id = 0; id < INNOCENTS + colluders; id++) {
    book.add(generateCodeword(`secret-${trial}`, `autograph-${id}`, biases));
  }
  return { biases, book };
}

/** Soft bits of a copy whose segment i comes from colluder pick(i), plus channel noise. */
function pirateCopy(
  job: Job,
  pick: (segment: number) => number,
  noise: { erased: number; flipped: number; prng: Prng } | null,
): Float32Array {
  const soft = new Float32Array(job.book.codeLength);
  for (let i = 0; i < soft.length; i++) {
    let symbol: number = symbolForBit(codewordBit(job.book.codeword(pick(i)), i));
    if (noise) {
      const r = noise.prng.nextFloat();
      if (r < noise.erased) symbol = 0;
      else if (r < noise.erased + noise.flipped) symbol = -symbol;
    }
    soft[i] = symbol;
  }
  return soft;
}

/** The score written out term by term from its definition (see scoreTerms). */
function naiveScore(soft: Float32Array, codeword: Uint32Array, biases: Float64Array): number {
  let score = 0;
  let mean = 0;
  let variance = 0;
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === 0) continue;
    const q = (1 + soft[i]) / 2;
    const p = biases[i];
    const innocent = q * p + (1 - q) * (1 - p);
    const ifOne = Math.log((q * ((1 + p) / 2) + (1 - q) * ((1 - p) / 2)) / innocent);
    const ifZero = Math.log((q * (p / 2) + (1 - q) * (1 - p / 2)) / innocent);
    score += codewordBit(codeword, i) === 1 ? ifOne : ifZero;
    mean += p * ifOne + (1 - p) * ifZero;
    variance += p * (1 - p) * (ifOne - ifZero) ** 2;
  }
  return (score - mean) / Math.sqrt(variance);
}

function maxOf(values: Float64Array, from: number, to: number): number {
  let max = -Infinity;
  for (let i = from; i < to; i++) max = Math.max(max, values[i]);
  return max;
}

describe('Tardos biases and codewords', () => {
  it('draws biases in [t, 1 - t], symmetric around 1/2, deterministically per job', () => {
    const biases = tardosBiases('job', 20_000);
    expect(tardosBiases('job', 20_000)).toEqual(biases);
    expect(tardosBiases('other-job', 20_000)).not.toEqual(biases);
    let sum = 0;
    let extreme = 0;
    // Mass of the arcsine law on [t, 0.1] and [0.9, 1 - t]; a uniform law would give 0.17.
    const edge = Math.asin(Math.sqrt(DEFAULT_BIAS_CUTOFF));
    const expectedExtreme = (2 * (Math.asin(Math.sqrt(0.1)) - edge)) / (Math.PI / 2 - 2 * edge);
    for (const p of biases) {
      expect(p).toBeGreaterThanOrEqual(DEFAULT_BIAS_CUTOFF);
      expect(p).toBeLessThanOrEqual(1 - DEFAULT_BIAS_CUTOFF);
      sum += p;
      if (p < 0.1 || p > 0.9) extreme++;
    }
    expect(sum / biases.length).toBeCloseTo(0.5, 2);
    expect(extreme / biases.length).toBeCloseTo(expectedExtreme, 2);
    expect(expectedExtreme).toBeGreaterThan(0.25);
  });

  it('derives codewords from the secret and the autograph id, with bit i ~ Bernoulli(p_i)', () => {
    const biases = tardosBiases('job', 3600);
    const codeword = generateCodeword('secret', 'autograph-1', biases);
    expect(codeword).toHaveLength(Math.ceil(3600 / 32));
    expect(generateCodeword('secret', 'autograph-1', biases)).toEqual(codeword);
    expect(generateCodeword('secret', 'autograph-2', biases)).not.toEqual(codeword);
    expect(generateCodeword('other-secret', 'autograph-1', biases)).not.toEqual(codeword);

    // Over many autographs, the frequency of 1s at a segment follows its bias.
    const ones = new Float64Array(8);
    const autographs = 4000;
    for (let id = 0; id < autographs; id++) {
      const word = generateCodeword('secret', `a-${id}`, biases);
      for (let i = 0; i < 8; i++) ones[i] += codewordBit(word, i);
    }
    for (let i = 0; i < 8; i++)
      expect(Math.abs(ones[i] / autographs - biases[i])).toBeLessThan(0.03);
  });

  it('is prefix-stable: a shorter job sees the first segments of a longer one', () => {
    const long = tardosBiases('job', 1000);
    const short = tardosBiases('job', 100);
    expect(short).toEqual(long.subarray(0, 100));
    const longWord = generateCodeword('secret', 'autograph-1', long);
    const shortWord = generateCodeword('secret', 'autograph-1', short);
    for (let i = 0; i < 100; i++) expect(codewordBit(shortWord, i)).toBe(codewordBit(longWord, i));
  });

  it('maps bit 1 to variant A (symbol +1) and bit 0 to variant B (symbol -1)', () => {
    expect([variantForBit(1), symbolForBit(1)]).toEqual(['a', 1]);
    expect([variantForBit(0), symbolForBit(0)]).toEqual(['b', -1]);
  });
});

describe('PackedCodebook', () => {
  it('grows as rows are added and round-trips through its words', () => {
    const biases = tardosBiases('job', 100);
    const book = new PackedCodebook(100, 2);
    const rows = Array.from({ length: 50 }, (_, id) => generateCodeword('s', `a${id}`, biases));
    rows.forEach((row, id) => expect(book.add(row)).toBe(id));
    expect(book.size).toBe(50);
    expect(book.words).toHaveLength(50 * 4);
    const copy = PackedCodebook.fromWords(100, book.words);
    expect(copy.size).toBe(50);
    expect(copy.codeword(49)).toEqual(rows[49]);
    expect(() => book.add(new Uint32Array(3))).toThrow(RangeError);
    expect(() => book.codeword(50)).toThrow(RangeError);
  });
});

describe('scoreCodewords', () => {
  it('equals the likelihood-ratio score computed term by term, for soft bits', () => {
    const length = 301; // not a multiple of 8 or 32
    const job = makeJob(0, length, 0);
    const prng = seededPrng('soft', 'bits');
    const soft = new Float32Array(length);
    for (let i = 0; i < length; i++)
      soft[i] = prng.nextFloat() < 0.2 ? 0 : prng.nextFloat() * 2 - 1;
    const scores = scoreCodewords(soft, job.book, job.biases);
    for (const row of [0, 1, 500, 999]) {
      expect(scores[row]).toBeCloseTo(naiveScore(soft, job.book.codeword(row), job.biases), 9);
    }
  });

  it('scores only the observed prefix when the copy is shorter than the codewords', () => {
    const job = makeJob(1, 200, 0);
    const soft = pirateCopy(job, () => 3, null).subarray(0, 77);
    const scores = scoreCodewords(soft, job.book, job.biases);
    expect(scores[3]).toBeCloseTo(naiveScore(soft, job.book.codeword(3), job.biases), 9);
  });

  it('gives every codeword 0 when nothing was observed', () => {
    const job = makeJob(2, 64, 0);
    expect(Array.from(scoreCodewords(new Float32Array(64), job.book, job.biases))).toEqual(
      new Array<number>(INNOCENTS).fill(0),
    );
  });
});

describe('accusation', () => {
  const length = 300;

  it('never accuses any of 1000 innocents over 10 backtraces', () => {
    for (let trial = 0; trial < 10; trial++) {
      const job = makeJob(100 + trial, length, 1);
      const prng = seededPrng('noise', String(trial));
      const soft = pirateCopy(job, () => INNOCENTS, { erased: 0.3, flipped: 0.1, prng });
      const scores = scoreCodewords(soft, job.book, job.biases);
      expect(maxOf(scores, 0, INNOCENTS)).toBeLessThan(accusationThresholdFor(soft, job.biases));
    }
  });

  it('normalises innocents to mean 0, deviation 1, and holds their tail under epsilon', () => {
    const segments = 80;
    const population = 200_000;
    const biases = tardosBiases('tail', segments);
    const book = new PackedCodebook(segments, population);
    for (let id = 0; id < population; id++) book.add(generateCodeword('tail', `i-${id}`, biases));
    const prng = seededPrng('tail', 'soft');
    const soft = Float32Array.from({ length: segments }, () => Math.tanh(3 * prng.nextFloat() - 1));
    const scores = scoreCodewords(soft, book, biases);
    const mean = scores.reduce((sum, score) => sum + score, 0) / population;
    const deviation = Math.sqrt(scores.reduce((sum, s) => sum + (s - mean) ** 2, 0) / population);
    expect(mean).toBeCloseTo(0, 2);
    expect(deviation).toBeCloseTo(1, 2);
    for (const epsilon of [1e-2, 1e-3]) {
      const threshold = accusationThresholdFor(soft, biases, epsilon);
      const over = scores.filter((score) => score >= threshold).length;
      expect(over / population).toBeLessThanOrEqual(epsilon);
      // A Chernoff bound, not a wild over-estimate: the real tail is within a factor 20.
      expect(over / population).toBeGreaterThan(epsilon / 20);
    }
  });

  it('accuses a single pirate through 30% erasures and 10% flips on 300 segments', () => {
    for (let trial = 0; trial < 5; trial++) {
      const job = makeJob(200 + trial, length, 1);
      const prng = seededPrng('noise', `pirate-${trial}`);
      const soft = pirateCopy(job, () => INNOCENTS, { erased: 0.3, flipped: 0.1, prng });
      const scores = scoreCodewords(soft, job.book, job.biases);
      const threshold = accusationThresholdFor(soft, job.biases);
      expect(scores[INNOCENTS]).toBeGreaterThan(threshold);
      expect(maxOf(scores, 0, INNOCENTS)).toBeLessThan(threshold);
    }
  });

  it('accuses at least one of two colluders interleaving their segments, never an innocent', () => {
    for (let trial = 0; trial < 5; trial++) {
      const job = makeJob(300 + trial, length, 2);
      // First half from colluder A, second half from colluder B.
      const soft = pirateCopy(job, (i) => INNOCENTS + (i < length / 2 ? 0 : 1), null);
      const scores = scoreCodewords(soft, job.book, job.biases);
      const threshold = accusationThresholdFor(soft, job.biases);
      expect(Math.max(scores[INNOCENTS], scores[INNOCENTS + 1])).toBeGreaterThan(threshold);
      expect(maxOf(scores, 0, INNOCENTS)).toBeLessThan(threshold);
    }
  });

  it('is Infinity without evidence, or when no score of so few segments is rare enough', () => {
    expect(accusationThresholdFor(new Float32Array(10), tardosBiases('j', 10))).toBe(Infinity);
    // Four hard bits: an innocent matches all four with probability far above 1e-6.
    expect(accusationThresholdFor(new Float32Array(4).fill(1), tardosBiases('j', 4))).toBe(
      Infinity,
    );
    const soft = new Float32Array(300).fill(1);
    const biases = tardosBiases('j', 300);
    expect(accusationThresholdFor(soft, biases, 1e-3)).toBeLessThan(
      accusationThresholdFor(soft, biases),
    );
  });
});
