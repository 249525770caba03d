/** bench:robustness: the results table, the false-accusation and collusion studies, the chart. */
import {
  accuse,
  codewordBit,
  DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  generateCodeword,
  PackedCodebook,
  type Prng,
  rootOfIncreasing,
  scoreCodewords,
  scoreTerms,
  seededPrng,
  symbolForBit,
  tardosBiases,
  tiltedInnocentLaw,
} from '../src/watermark/index.js';
import { type SoftBitPanel, softBitAgreement, softBitsSvg } from './chart.js';
import { type Trial } from './robustness-attacks.js';
import { CODEWORD_SECRET, CUT_FRACTION, SEGMENT, SIMULATED_INNOCENTS } from './robustness-clips.js';
import { decimal, randomInt } from './robustness-trials.js';

export const fixed = (value: number | null, digits = 2): string =>
  value === null || !Number.isFinite(value) ? '—' : decimal(value, digits);

export function accusedText(trial: Trial): string {
  if (trial.accused.length === 0) return 'nobody';
  return trial.accused
    .map((index) => `#${index}${trial.guilty.includes(index) ? '' : ' (innocent!)'}`)
    .join(', ');
}

export function tableRow(trial: Trial): string {
  const margin =
    trial.topScore !== null && Number.isFinite(trial.threshold)
      ? trial.topScore - trial.threshold
      : null;
  const expected =
    trial.expect === 'pirate'
      ? `#${trial.guilty[0]}`
      : trial.expect === 'colluders'
        ? `≥1 of #${trial.guilty.join(', #')}`
        : 'nobody';
  const note = trial.error
    ? `**${trial.error}**${trial.note ? `; ${trial.note}` : ''}`
    : trial.note;
  return [
    trial.content,
    trial.attack,
    trial.identified ? '✔' : '✘',
    expected,
    accusedText(trial),
    fixed(trial.topScore),
    fixed(trial.threshold),
    margin === null ? '—' : `${margin >= 0 ? '+' : ''}${margin.toFixed(2)}`,
    fixed(trial.maxInnocent),
    String(trial.observed),
    trial.seconds.toFixed(1),
    note,
  ]
    .map((cell) => cell.replace(/\|/g, '\\|'))
    .join(' | ')
    .replace(/^/, '| ')
    .concat(' |');
}

/**
 * What a trial that missed would need: for a pirate read but under the threshold (and above
 * every innocent), the copy length that would identify them, extrapolated from this copy (a
 * pirate's normalised score grows as the square root of the segments read, the threshold
 * barely moves); for a coalition, the simulated lengths of the section below; else why not.
 */
export function missedBecause(trial: Trial, copySeconds: number): string {
  if (trial.expect === 'colluders') return 'a coalition: see "segments needed" below';
  if (trial.observed === 0) return 'not aligned';
  const { topScore, maxInnocent, threshold } = trial;
  if (topScore === null || !(topScore > 0) || (maxInnocent !== null && maxInnocent >= topScore)) {
    return 'the pirate does not lead the scores';
  }
  const seconds = copySeconds * (threshold / topScore) ** 2;
  return `identifies from ≈ ${Math.ceil(seconds / 10) * 10} s of such a copy (extrapolated)`;
}

interface Distribution {
  count: number;
  mean: number;
  std: number;
  p99: number;
  p9999: number;
  max: number;
}

function distribution(values: Float64Array): Distribution {
  const sorted = Float64Array.from(values).sort();
  const count = sorted.length;
  let sum = 0;
  for (const value of sorted) sum += value;
  const mean = sum / count;
  let squares = 0;
  for (const value of sorted) squares += (value - mean) ** 2;
  const quantile = (q: number): number =>
    sorted[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))];
  return {
    count,
    mean,
    std: Math.sqrt(squares / Math.max(1, count - 1)),
    p99: quantile(0.99),
    p9999: quantile(0.9999),
    max: sorted[count - 1],
  };
}

function concat(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/** Importance samples per copy for the tail probability of an innocent's score. */
const TAIL_SAMPLES = 100_000;

/**
 * P(an innocent's normalised score ≥ threshold) for these soft bits and biases, estimated by
 * importance sampling. An innocent's bits are independent Bernoulli(p_i) whatever the copy, so
 * codewords are drawn from the exponentially tilted law that centres the raw score S on the
 * threshold, and each hit is weighted by the likelihood ratio exp(K(λ) − λ S), K the log moment
 * generating function of S (the Chernoff bound behind the threshold is exp(K(λ) − λ t)).
 * Returns the estimate and its standard error.
 */
function innocentTail(
  softBits: Float32Array,
  biases: Float64Array,
  threshold: number,
  prng: Prng,
): { probability: number; standardError: number } {
  const terms = scoreTerms(softBits, biases);
  const { high, low, mean, deviation } = terms;
  if (!(deviation > 0) || !Number.isFinite(threshold)) return { probability: 0, standardError: 0 };
  const target = mean + threshold * deviation;
  // The tilted mean K'(λ) increases with λ: bisect K'(λ) = target.
  const lambda = rootOfIncreasing((l) => tiltedInnocentLaw(terms, l).slope - target, 0, 1);
  const { cumulant, odds } = tiltedInnocentLaw(terms, lambda);
  let sum = 0;
  let squares = 0;
  for (let sample = 0; sample < TAIL_SAMPLES; sample++) {
    let score = 0;
    for (let k = 0; k < odds.length; k++) score += prng.nextFloat() < odds[k] ? high[k] : low[k];
    if (score < target) continue;
    const ratio = Math.exp(cumulant - lambda * score);
    sum += ratio;
    squares += ratio * ratio;
  }
  const probability = sum / TAIL_SAMPLES;
  const variance = Math.max(0, squares / TAIL_SAMPLES - probability * probability);
  return { probability, standardError: Math.sqrt(variance / TAIL_SAMPLES) };
}

/** The false-accusation section: every innocent of every trial + a simulated population. */
export function falseAccusations(trials: Trial[]): string[] {
  // Innocents of the real trials: every codeword of the job except the copy's own.
  const realScores: Float64Array[] = [];
  let realOver = 0;
  let worstRealGap = Infinity;
  let realTrials = 0;
  for (const trial of trials) {
    if (!trial.softBits || !Number.isFinite(trial.threshold)) continue;
    realTrials++;
    const scores = scoreCodewords(trial.softBits, trial.codebook, trial.biases);
    const innocent = scores.filter((_, index) => !trial.guilty.includes(index));
    for (const score of innocent) {
      if (score >= trial.threshold) realOver++;
      worstRealGap = Math.min(worstRealGap, trial.threshold - score);
    }
    realScores.push(innocent);
  }

  // A larger population: fresh codewords (ids never used above) against a few real copies.
  const studied = new Set([
    'clean download',
    'CRF 40, half size',
    `contiguous ${CUT_FRACTION * 100}% cut`,
    'unmarked encode',
  ]);
  const books = new Map<number, PackedCodebook>();
  const rows: string[] = [];
  const simulatedScores: Float64Array[] = [];
  let simulatedOver = 0;
  let simulatedExpected = 0;
  let generationSeconds = 0;
  const tailPrng = seededPrng('bench-robustness', 'innocent-tail');
  for (const trial of trials) {
    if (!studied.has(trial.attack) || !trial.softBits || !Number.isFinite(trial.threshold))
      continue;
    const length = trial.biases.length;
    let book = books.get(length);
    if (!book) {
      const started = process.hrtime.bigint();
      book = new PackedCodebook(length, SIMULATED_INNOCENTS);
      for (let i = 0; i < SIMULATED_INNOCENTS; i++) {
        book.add(generateCodeword(CODEWORD_SECRET, `innocent-${i}`, trial.biases));
      }
      generationSeconds += Number(process.hrtime.bigint() - started) / 1e9;
      books.set(length, book);
    }
    const scores = scoreCodewords(trial.softBits, book, trial.biases);
    let over = 0;
    for (const score of scores) if (score >= trial.threshold) over++;
    simulatedOver += over;
    simulatedScores.push(scores);
    const stats = distribution(scores);
    const tail = innocentTail(trial.softBits, trial.biases, trial.threshold, tailPrng);
    simulatedExpected += tail.probability * scores.length;
    rows.push(
      `| ${trial.content} | ${trial.attack} | ${trial.observed} | ${stats.mean.toFixed(3)} | ${stats.std.toFixed(3)} | ${stats.p9999.toFixed(2)} | ${stats.max.toFixed(2)} | ${trial.threshold.toFixed(2)} | ${tail.probability.toExponential(1)} ± ${tail.standardError.toExponential(0)} | ${(tail.probability * scores.length).toFixed(3)} | ${over} |`,
    );
  }

  const lines = [
    '## False accusations (empirical)',
    '',
    `An innocent's normalised score is about N(0, 1) (99.99th percentile of N(0, 1): 3.72); the threshold bounds the chance that one innocent reaches it by ε = ${DEFAULT_FALSE_ACCUSATION_PROBABILITY} per backtrace.`,
    '',
  ];
  if (realScores.length > 0) {
    const real = distribution(concat(realScores));
    lines.push(
      `**Innocents of the trials above** (${realTrials} trials with evidence, every autograph of the job except the copy's own): ` +
        `${real.count} scores, mean ${real.mean.toFixed(3)}, std ${real.std.toFixed(3)}, 99th percentile ${real.p99.toFixed(2)}, 99.99th ${real.p9999.toFixed(2)}, ` +
        `max ${real.max.toFixed(2)}; **${realOver} at or above their trial's threshold**; smallest gap threshold − innocent score: ${worstRealGap.toFixed(2)}.`,
      '',
    );
  }
  if (simulatedScores.length > 0) {
    const all = distribution(concat(simulatedScores));
    lines.push(
      `**Simulated population**: ${SIMULATED_INNOCENTS.toLocaleString('en-US')} fresh innocent codewords (ids \`innocent-N\`, generated in ${generationSeconds.toFixed(1)} s) scored against the soft bits of ${simulatedScores.length} real copies:`,
      '',
      '| content | copy | segments observed | mean | std | 99.99th pct | max | threshold | P(innocent ≥ threshold) | expected ≥ threshold | observed ≥ threshold |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      `| **all** | ${simulatedScores.length} copies | | ${all.mean.toFixed(3)} | ${all.std.toFixed(3)} | ${all.p9999.toFixed(2)} | ${all.max.toFixed(2)} | | | ${simulatedExpected.toFixed(3)} | **${simulatedOver}** |`,
      '',
      `P(innocent ≥ threshold): the exact probability for that copy's soft bits and the job's biases, estimated by importance sampling (${TAIL_SAMPLES.toLocaleString('en-US')} tilted samples, ± one standard error); the threshold guarantees it is at most ε = ${DEFAULT_FALSE_ACCUSATION_PROBABILITY}. ` +
        `Expected ≥ threshold = that probability × ${SIMULATED_INNOCENTS.toLocaleString('en-US')}; the guarantee alone allows up to ${(simulatedScores.length * SIMULATED_INNOCENTS * DEFAULT_FALSE_ACCUSATION_PROBABILITY).toFixed(2)} over these ${(simulatedScores.length * SIMULATED_INNOCENTS).toLocaleString('en-US')} innocent scores.`,
      '',
    );
  }
  const total = realOver + simulatedOver;
  lines.push(
    total === 0
      ? '✔ No innocent score reached its threshold.'
      : `✘ ${total} innocent score(s) reached the threshold: false accusations ` +
          `(expected among the simulated population from the exact innocent law: ${simulatedExpected.toFixed(3)}; ` +
          `allowed by ε: ${(simulatedScores.length * SIMULATED_INNOCENTS * DEFAULT_FALSE_ACCUSATION_PROBABILITY).toFixed(2)}).`,
    '',
  );
  return lines;
}

/** Copy lengths (segments) and coalition sizes of the simulated collusion study. */
const CAPACITY_LENGTHS = [60, 120, 180, 300, 600];
const CAPACITY_COALITIONS = [2, 3];
const CAPACITY_TRIALS = 200;

/**
 * How long a leak must be to trace a coalition, with perfect soft bits (what a clean mix of
 * downloads gives): per copy length and coalition size, the share of simulated jobs where at
 * least one colluder is accused when each segment comes from a colluder drawn at random
 * (interleaving), and where an innocent of the same job is (1,000 per job).
 */
export function collusionCapacity(): string[] {
  const prng = seededPrng('bench-robustness', 'collusion-capacity');
  const rows: string[] = [];
  for (const length of CAPACITY_LENGTHS) {
    const cells: string[] = [];
    let innocentsAccused = 0;
    for (const size of CAPACITY_COALITIONS) {
      let caught = 0;
      for (let trial = 0; trial < CAPACITY_TRIALS; trial++) {
        const biases = tardosBiases(`capacity-${length}-${size}-${trial}`, length);
        const codebook = new PackedCodebook(length, size + 1000);
        for (let id = 0; id < size + 1000; id++) {
          codebook.add(generateCodeword(CODEWORD_SECRET, `capacity-${trial}-${id}`, biases));
        }
        const softBits = Float32Array.from({ length }, (_, segment) => {
          const colluder = codebook.codeword(randomInt(prng, size));
          return symbolForBit(codewordBit(colluder, segment));
        });
        const { accused } = accuse({ softBits, codebook, biases });
        if (accused.some(({ index }) => index < size)) caught++;
        innocentsAccused += accused.filter(({ index }) => index >= size).length;
      }
      cells.push(`${((100 * caught) / CAPACITY_TRIALS).toFixed(0)}%`);
    }
    rows.push(
      `| ${length} | ${(length * SEGMENT) / 60} min | ${cells.join(' | ')} | ${innocentsAccused} |`,
    );
  }
  return [
    '## Collusion capacity (simulated)',
    '',
    `At least one colluder accused, out of ${CAPACITY_TRIALS} simulated jobs per cell, when every segment of the copy comes from a colluder drawn at random, with perfect soft bits (a mix of clean downloads); innocents: 1,000 per job. The scoring and threshold are the engine's (\`accuse\`, ε = ${DEFAULT_FALSE_ACCUSATION_PROBABILITY}).`,
    '',
    `| segments | at ${SEGMENT} s segments | ${CAPACITY_COALITIONS.map((size) => `${size} colluders`).join(' | ')} | innocents accused |`,
    `| --- | --- | ${CAPACITY_COALITIONS.map(() => '---').join(' | ')} | --- |`,
    ...rows,
    '',
  ];
}

function panelOf(trial: Trial, softBits: Float32Array): SoftBitPanel {
  const codeword = trial.codebook.codeword(trial.guilty[0]);
  const expected = (segment: number): 1 | -1 => symbolForBit(codewordBit(codeword, segment));
  const pirateScore = scoreCodewords(softBits, trial.codebook, trial.biases)[trial.guilty[0]];
  const { agree, disagree, meanConfidence } = softBitAgreement({ softBits, expected });
  return {
    title: `${trial.content}, ${trial.attack}: ${trial.note.split(';')[0]}`,
    subtitle:
      `pirate autograph-${trial.guilty[0]} scores ${pirateScore.toFixed(2)} (threshold ${fixed(trial.threshold)}); ` +
      `${trial.observed}/${softBits.length} segments observed: ${agree} agree, ${disagree} contradict, ` +
      `mean |soft bit| ${meanConfidence.toFixed(2)}; accused: ${accusedText(trial)}`,
    softBits,
    expected,
  };
}

/**
 * Two panels: the contiguous cut (what a partial copy covers) and the single-pirate copy with
 * the weakest soft bits (lowest mean confidence), where contradicting segments show.
 */
export function chartOf(trials: Trial[]): { svg: string; caption: string } | null {
  const cut = `contiguous ${CUT_FRACTION * 100}% cut`;
  const pirates = trials.filter(
    (trial) => trial.expect === 'pirate' && trial.softBits && Number.isFinite(trial.threshold),
  );
  const first = ['fractal', 'noise', 'pattern']
    .map((content) => pirates.find((t) => t.content === content && t.attack === cut))
    .find((trial) => trial !== undefined);
  const confidence = (trial: Trial): number =>
    trial.softBits ? softBitAgreement(panelOf(trial, trial.softBits)).meanConfidence : Infinity;
  const weakest = pirates
    .filter((trial) => trial !== first)
    .reduce<Trial | undefined>(
      (worst, trial) => (!worst || confidence(trial) < confidence(worst) ? trial : worst),
      undefined,
    );
  const chosen = [first, weakest].filter((trial): trial is Trial => trial !== undefined);
  if (chosen.length === 0) return null;
  return {
    svg: softBitsSvg({
      title: 'Soft bits per segment of two suspect copies',
      panels: chosen.map((trial) => panelOf(trial, trial.softBits ?? new Float32Array(0))),
      segmentSeconds: SEGMENT,
    }),
    caption: chosen.map((trial) => `${trial.content}, ${trial.attack}`).join(' / '),
  };
}
