/**
 * bench:robustness: how long a copy three colluders mix must be before at least one of them is
 * accused with 90 % probability, at 100 and at 10⁶ autographs (the per-backtrace bound makes
 * the count a threshold change), and that no innocent is accused on the way.
 */
import {
  accusationThresholdFor,
  codewordBit,
  generateCodeword,
  PackedCodebook,
  perInnocentProbability,
  type Prng,
  scoreCodewords,
  seededPrng,
  symbolForBit,
  tardosBiases,
} from '../src/watermark/index.js';
import { TOTAL_EPSILON } from './trust-model.js';

export type CoalitionStrategy = 'interleaved' | 'majority' | 'frame average';
export const COALITION_STRATEGIES: CoalitionStrategy[] = [
  'interleaved',
  'majority',
  'frame average',
];
const COLLUDERS = 3;
const TRIALS = 200;
const INNOCENTS_PER_TRIAL = 20;
const RATE = 0.9;

/**
 * The copy's mark in one segment from the colluders' symbols (±1): one colluder's variant
 * (interleaved), the variant most of them hold (majority), or the mean of the three marks
 * (frame average: ±1 where all agree, ±1/3 where one differs).
 */
function mixedSymbol(strategy: CoalitionStrategy, symbols: number[], prng: Prng): number {
  const sum = symbols.reduce((total, symbol) => total + symbol, 0);
  if (strategy === 'majority') return Math.sign(sum);
  if (strategy === 'frame average') return sum / symbols.length;
  return symbols[Math.floor(prng.nextFloat() * symbols.length)];
}

interface PassRate {
  caught: number;
  innocentsScored: number;
  innocentsAccused: number;
}

/**
 * Simulated jobs of `segments` segments (fresh biases and codewords each): the mixed copy's
 * soft bits are its marks times a confidence drawn from `confidences` (measured on a real
 * copy: the soft bit times the symbol it carries; 1 = perfect bits).
 */
function passRate(
  n: number,
  strategy: CoalitionStrategy,
  segments: number,
  confidences: number[],
): PassRate {
  const result: PassRate = { caught: 0, innocentsScored: 0, innocentsAccused: 0 };
  for (let trial = 0; trial < TRIALS; trial++) {
    const seed = `coalition-${strategy}-${segments}-${trial}`;
    const prng = seededPrng(seed, 'copy');
    const biases = tardosBiases(seed, segments);
    const book = new PackedCodebook(segments, COLLUDERS + INNOCENTS_PER_TRIAL);
    for (let id = 0; id < COLLUDERS + INNOCENTS_PER_TRIAL; id++) {
      book.add(generateCodeword(seed, `autograph-${id}`, biases));
    }
    const softBits = Float32Array.from({ length: segments }, (_, i) => {
      const symbols = [0, 1, 2].map((c) => symbolForBit(codewordBit(book.codeword(c), i)));
      const confidence = confidences[Math.floor(prng.nextFloat() * confidences.length)];
      return mixedSymbol(strategy, symbols, prng) * confidence;
    });
    const threshold = accusationThresholdFor(
      softBits,
      biases,
      perInnocentProbability(TOTAL_EPSILON, n),
    );
    const scores = scoreCodewords(softBits, book, biases);
    if (scores.subarray(0, COLLUDERS).some((score) => score >= threshold)) result.caught++;
    for (const score of scores.subarray(COLLUDERS)) {
      result.innocentsScored++;
      if (score >= threshold) result.innocentsAccused++;
    }
  }
  return result;
}

export interface CoalitionNeed {
  strategy: CoalitionStrategy;
  autographs: number;
  /** Fewest segments (to 4) with at least one colluder accused in ≥ 90 % of the jobs. */
  segments: number;
  innocentsScored: number;
  innocentsAccused: number;
}

/** Doubling, then bisection to 4 segments, on the pass rate (it grows with the length). */
export function coalitionNeed(
  strategy: CoalitionStrategy,
  autographs: number,
  confidences: number[],
): CoalitionNeed {
  const need: CoalitionNeed = {
    strategy,
    autographs,
    segments: 0,
    innocentsScored: 0,
    innocentsAccused: 0,
  };
  const passes = (segments: number): boolean => {
    const rate = passRate(autographs, strategy, segments, confidences);
    need.innocentsScored += rate.innocentsScored;
    need.innocentsAccused += rate.innocentsAccused;
    return rate.caught >= RATE * TRIALS;
  };
  let high = 32;
  while (!passes(high)) high *= 2;
  let low = high / 2;
  while (high - low > 4) {
    const middle = Math.round((low + high) / 2);
    if (passes(middle)) high = middle;
    else low = middle;
  }
  need.segments = high;
  return need;
}

/** The report's section: one row per strategy, at 100 and 10⁶ autographs. */
export function coalitionSection(confidences: number[], source: string): string[] {
  const rows = COALITION_STRATEGIES.map((strategy) => {
    const [few, many] = [100, 1e6].map((n) => coalitionNeed(strategy, n, confidences));
    const scored = few.innocentsScored + many.innocentsScored;
    const accused = few.innocentsAccused + many.innocentsAccused;
    return `| ${strategy} | ${few.segments} | ${many.segments} | ${accused} of ${scored.toLocaleString('en-US')} |`;
  });
  return [
    `## Collusion of ${COLLUDERS}: segments needed`,
    '',
    `Segments (1 s each) a copy mixed by ${COLLUDERS} colluders needs for at least one of them to be accused in ≥ ${RATE * 100} % of ${TRIALS} simulated jobs (fresh biases and codewords each; length found by doubling then bisection to 4 segments), with the engine's scores and threshold at ε = ${TOTAL_EPSILON} per backtrace over 100 or 10⁶ autographs. Each segment's soft bit is the mixed mark times a confidence drawn from ${source}. Innocents: ${INNOCENTS_PER_TRIAL} fresh codewords per simulated job, every length tried.`,
    '',
    '| strategy | 100 autographs | 10⁶ autographs | innocents accused |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}
