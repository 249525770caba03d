import { accuse, minimumObservedSegments } from './accuse.js';
import {
  accusationThresholdFor,
  codewordBit,
  generateCodeword,
  innocentTailBound,
  PackedCodebook,
  perInnocentProbability,
  scoreTerms,
  tardosBiases,
} from './codes.js';
import { seededPrng } from './prng.js';

const SEGMENTS = 300;
const AUTOGRAPHS = 500;
const biases = tardosBiases('accuse-spec-job', SEGMENTS);
const codebook = new PackedCodebook(SEGMENTS);
for (let id = 0; id < AUTOGRAPHS; id++) {
  codebook.add(generateCodeword('accuse-spec-secret', `autograph-${id}`, biases));
}

/** Soft bits of a copy of `pirate`, with a confidence of 0.4 and 15% of the signs wrong. */
function copyOf(pirate: number): Float32Array {
  const prng = seededPrng('accuse-spec', `copy-${pirate}`);
  return Float32Array.from({ length: SEGMENTS }, (_, i) => {
    const symbol = codewordBit(codebook.codeword(pirate), i) === 1 ? 1 : -1;
    return (prng.nextFloat() < 0.15 ? -symbol : symbol) * 0.4;
  });
}

describe('accuse', () => {
  it('accuses the pirate alone, with the margin to the best innocent', () => {
    const verdict = accuse({ softBits: copyOf(123), codebook, biases });
    expect(verdict.accused.map(({ index }) => index)).toEqual([123]);
    expect(verdict.accused[0].score).toBeGreaterThan(verdict.threshold);
    expect(verdict.maxInnocentScore).toBeLessThan(verdict.threshold);
    // The level per innocent is 1e-6 / 500 autographs.
    expect(verdict.threshold).toBeGreaterThan(5);
    expect(verdict.threshold).toBeLessThan(7);
    expect(verdict.observedWeight).toBeCloseTo(SEGMENTS * 0.16, 3);
  });

  it('orders several accused strongest first', () => {
    // Interleaved collusion of two pirates: each segment from one of them.
    const a = copyOf(7);
    const b = copyOf(300);
    const mixed = a.map((value, i) => (i % 3 === 0 ? b[i] : value));
    const verdict = accuse({ softBits: mixed, codebook, biases, falseAccusationProbability: 1e-1 });
    expect(verdict.accused.map(({ index }) => index)).toEqual([7, 300]);
    expect(verdict.accused[0].score).toBeGreaterThan(verdict.accused[1].score);
  });

  it('accuses nobody without evidence', () => {
    const verdict = accuse({ softBits: new Float32Array(SEGMENTS), codebook, biases });
    expect(verdict.accused).toEqual([]);
    expect(verdict.threshold).toBe(Infinity);
    expect(verdict.observedWeight).toBe(0);
  });
});

describe('the bound per backtrace', () => {
  const TOTAL = 1e-6;
  const AUTOGRAPH_COUNTS = [1e2, 1e3, 1e4, 1e5, 1e6];

  it('holds each innocent to ε / n, so n innocents together stay under ε', () => {
    expect(perInnocentProbability(TOTAL, 1e6)).toBeCloseTo(1e-12, 24);
    expect(perInnocentProbability(TOTAL, 0)).toBe(TOTAL);
    expect(() => perInnocentProbability(0, 10)).toThrow(RangeError);
  });

  it('puts the threshold for n = 10²…10⁶ exactly where the tail bound reaches ε / n', () => {
    const soft = copyOf(42);
    const terms = scoreTerms(soft, biases);
    const thresholds = AUTOGRAPH_COUNTS.map((n) => {
      const threshold = accusationThresholdFor(soft, biases, perInnocentProbability(TOTAL, n));
      expect(innocentTailBound(terms, threshold) / (TOTAL / n)).toBeCloseTo(1, 6);
      return threshold;
    });
    // Each factor of 10 in n raises the threshold, by less and less (the tail is about Gaussian).
    const steps = thresholds.slice(1).map((t, i) => t - thresholds[i]);
    for (const step of steps) expect(step).toBeGreaterThan(0.1);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeLessThan(steps[i - 1]);
  });

  it('bounds the exact innocent tail from above, within a small factor', () => {
    // Equal biases and equal hard bits make an innocent's raw score affine in a binomial count
    // of its 1 bits, whose tail is exact: sum over k ≥ K of C(m, k) p^k (1 - p)^(m - k).
    const m = 200;
    const p = 0.3;
    const equalBiases = new Float64Array(m).fill(p);
    const hard = new Float32Array(m).fill(1);
    const terms = scoreTerms(hard, equalBiases);
    const exactTail = (score: number): number => {
      const raw = terms.mean + score * terms.deviation;
      const ones = Math.ceil((raw - m * terms.low[0]) / (terms.high[0] - terms.low[0]) - 1e-9);
      let tail = 0;
      for (let k = Math.max(0, ones); k <= m; k++) tail += Math.exp(logBinomialTerm(m, k, p));
      return tail;
    };
    for (const n of AUTOGRAPH_COUNTS) {
      const level = perInnocentProbability(TOTAL, n);
      const threshold = accusationThresholdFor(hard, equalBiases, level);
      const exact = exactTail(threshold);
      expect(exact).toBeLessThanOrEqual(level);
      expect(exact).toBeGreaterThan(level / 30);
      for (const above of [threshold + 0.5, threshold + 2]) {
        expect(innocentTailBound(terms, above)).toBeGreaterThanOrEqual(exactTail(above));
      }
    }
  });

  it('gives the exact probability of the highest score, and 0 above it', () => {
    const m = 50;
    const equalBiases = new Float64Array(m).fill(0.5);
    const terms = scoreTerms(new Float32Array(m).fill(1), equalBiases);
    const top = (m * terms.high[0] - terms.mean) / terms.deviation;
    expect(innocentTailBound(terms, top)).toBeCloseTo(0.5 ** m, 25);
    expect(innocentTailBound(terms, top + 0.01)).toBe(0);
    expect(innocentTailBound(terms, -1)).toBe(1);
  });

  it('raises the threshold with the codebook and reports what each accusation rests on', () => {
    const small = new PackedCodebook(SEGMENTS);
    for (let row = 0; row < 10; row++) small.add(codebook.codeword(row));
    const soft = copyOf(3);
    const few = accuse({ softBits: soft, codebook: small, biases });
    const many = accuse({ softBits: soft, codebook, biases });
    expect(many.threshold).toBeGreaterThan(few.threshold);
    expect(few.perInnocentProbability).toBeCloseTo(1e-7, 20);
    expect(many.perInnocentProbability).toBeCloseTo(2e-9, 20);
    expect(many.autographsScored).toBe(AUTOGRAPHS);
    const [pirate] = many.accused;
    expect(pirate.index).toBe(3);
    expect(pirate.innocentProbability).toBeLessThanOrEqual(many.perInnocentProbability);
    expect(pirate.anyInnocentProbability).toBeCloseTo(pirate.innocentProbability * AUTOGRAPHS, 30);
    expect(pirate.anyInnocentProbability).toBeLessThanOrEqual(many.falseAccusationProbability);
    const histogram = many.histogram;
    expect(histogram.counts.reduce((sum, count) => sum + count, 0)).toBe(AUTOGRAPHS);
    const pirateBin = Math.floor((pirate.score - histogram.start) / histogram.width);
    expect(histogram.counts[pirateBin]).toBeGreaterThanOrEqual(1);
    expect(histogram.counts.length - 1).toBe(pirateBin);
  });

  it('asks longer copies of bigger jobs (the too-short rule follows n)', () => {
    const needed = AUTOGRAPH_COUNTS.map((n) =>
      minimumObservedSegments(perInnocentProbability(TOTAL, n)),
    );
    expect(needed).toEqual([41, 46, 51, 55, 60]);
  });
});

function logBinomialTerm(m: number, k: number, p: number): number {
  let logChoose = 0;
  for (let i = 1; i <= k; i++) logChoose += Math.log((m - k + i) / i);
  return logChoose + k * Math.log(p) + (m - k) * Math.log(1 - p);
}
