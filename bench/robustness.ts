/**
 * `npm run bench:robustness`: does the mark survive what is done to a leaked download, and is
 * nobody innocent ever accused?
 *
 * For three kinds of generated content (test pattern, panning fractal, noise-textured motion),
 * 180 s at 640x360 25 fps: A/B embedding with 1 s segments, 100 autographs, the MP4 download of
 * one of them (picked at random), then a series of attacks on it. Each suspect copy goes
 * through `extractSoftBits` + `accuse` exactly as a backtrace would. Then an empirical check of
 * false accusations: the scores of every innocent autograph in every trial, plus 100,000
 * simulated innocent codewords scored against a few real copies.
 *
 * Writes bench/results/robustness.md and bench/results/soft-bits.svg. BENCH_SEED=<integer>
 * replays a run's random choices (pirate, colluders, cut position).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  accuse,
  codewordBit,
  DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  defaultEncoderSettings,
  type DetectionReference,
  type EmbedResult,
  embedVariants,
  ExtractionError,
  extractSoftBits,
  generateCodeword,
  minimumObservedSegments,
  PackedCodebook,
  type Prng,
  readReference,
  remuxToMp4,
  rootOfIncreasing,
  scoreCodewords,
  scoreTerms,
  tiltedInnocentLaw,
  seededPrng,
  symbolForBit,
  tardosBiases,
} from '../src/watermark/index.js';
import { type SoftBitPanel, softBitAgreement, softBitsSvg } from './chart.js';
import { ffmpeg, peakRssMiB, report, timed } from './support.js';

const WIDTH = 640;
const HEIGHT = 360;
const FPS = 25;
const DURATION = 180;
/** The never-embedded look-alikes only need to be long enough not to be `too_short`. */
const LOOKALIKE_DURATION = 75;
const SEGMENT = 1;
const AUTOGRAPHS = 100;
const CUT_FRACTION = 0.4;
const SIMULATED_INNOCENTS = 100_000;
/** The job's key (watermark patterns and Tardos biases) and the secret of the codewords. */
const JOB_KEY = 'bench-robustness-job-key';
const CODEWORD_SECRET = 'bench-robustness-codeword-secret';
/** What a pirate's re-encode looks like: x264, fast preset, no audio (the sources have none). */
const PIRATE_ENCODE = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-an'];

interface Content {
  name: string;
  description: string;
  graph: string;
  /** Similar-looking lavfi content that is never embedded: the "different video". */
  lookalike: { description: string; graph: string };
}

/** The fractal rendered at 1.5x and panned with a moving crop (as test/support/media.ts does). */
function pannedFractal(center: string, xPeriod: string, yPeriod: string): string {
  const x = `${WIDTH / 4}+${Math.round(WIDTH * 0.22)}*${xPeriod}`;
  const y = `${HEIGHT / 4}+${Math.round(HEIGHT * 0.22)}*${yPeriod}`;
  return (
    `mandelbrot=size=${WIDTH * 1.5}x${HEIGHT * 1.5}:rate=${FPS}:maxiter=200${center},` +
    `crop=${WIDTH}:${HEIGHT}:x=${x}:y=${y}`
  );
}

/**
 * A chaotic cellular automaton (rule 30) scrolling up one cell (8 px) per frame, blurred into
 * soft blobs, with temporal film grain on top; drawn at half size (cheaper) and scaled up.
 */
function noisyAutomaton(seed: number): string {
  return (
    `cellauto=rule=30:size=${WIDTH / 8}x${HEIGHT / 8}:rate=${FPS}:random_fill_ratio=0.5:seed=${seed},` +
    `format=yuv420p,scale=${WIDTH / 2}:${HEIGHT / 2}:flags=bicubic,gblur=sigma=2,` +
    `noise=alls=20:allf=t,scale=${WIDTH}:${HEIGHT}:flags=bicubic`
  );
}

const CONTENTS: Content[] = [
  {
    name: 'pattern',
    description: 'ffmpeg test card `testsrc2` (nearly static: bars, a small moving gradient)',
    graph: `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
    lookalike: {
      description: 'the other test card, `testsrc`',
      graph: `testsrc=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
    },
  },
  {
    name: 'fractal',
    description: '`mandelbrot` zoom rendered at 1.5x, panned with a moving crop',
    graph: pannedFractal('', 'sin(t/3)', 'cos(t/4)'),
    lookalike: {
      description: 'the same fractal zooming to another point along another pan',
      graph: pannedFractal(':start_x=-1.25066:start_y=0.02012', 'cos(t/5)', 'sin(t/3)'),
    },
  },
  {
    name: 'noise',
    description: '`cellauto` rule 30 scrolling, blurred, + temporal grain `noise=alls=20:allf=t`',
    graph: noisyAutomaton(3),
    lookalike: { description: 'the same automaton from another seed', graph: noisyAutomaton(11) },
  },
];

type Expectation = 'pirate' | 'colluders' | 'nobody';

interface Job {
  content: Content;
  dir: string;
  source: string;
  lookalike: string;
  embedded: EmbedResult;
  reference: DetectionReference;
  segmentCount: number;
  biases: Float64Array;
  codebook: PackedCodebook;
  pirate: number;
  colluders: [number, number];
  /** The pirate's MP4 download (its A/B segments remuxed). */
  download: string;
  /** The two colluders' copies mixed segment by segment, remuxed. */
  collusion: string;
  cutStart: number;
  /** Mean luma of the original (0-255), from the detection reference. */
  meanLuma: number;
}

interface Suspect {
  path: string;
  /** Parameters chosen for this copy (shown in the table). */
  note: string;
  /** A file made for this trial only, deleted after extraction. */
  temporary: boolean;
}

interface Attack {
  name: string;
  expect: Expectation;
  make: (job: Job, output: string) => Promise<Suspect>;
}

interface Trial {
  content: string;
  attack: string;
  expect: Expectation;
  note: string;
  guilty: number[];
  accused: number[];
  identified: boolean;
  topScore: number | null;
  threshold: number;
  maxInnocent: number | null;
  observed: number;
  seconds: number;
  error?: string;
  softBits?: Float32Array;
  biases: Float64Array;
  codebook: PackedCodebook;
}

async function reencode(job: Job, output: string, filter: string, crf: number): Promise<void> {
  await ffmpeg(['-i', job.download, '-vf', filter, ...PIRATE_ENCODE, '-crf', String(crf), output]);
}

const made = (path: string, note = '', temporary = true): Suspect => ({ path, note, temporary });

const ATTACKS: Attack[] = [
  {
    name: 'clean download',
    expect: 'pirate',
    make: (job) => Promise.resolve(made(job.download, 'the MP4 as downloaded', false)),
  },
  {
    name: 'CRF 32, 360p',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, 'scale=-2:360', 32);
      return made(out, `x264 veryfast CRF 32, scale=-2:360 (${WIDTH}x${HEIGHT} kept)`);
    },
  },
  {
    name: 'CRF 40, half size',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, 'scale=iw/2:ih/2', 40);
      return made(out, `x264 veryfast CRF 40 at ${WIDTH / 2}x${HEIGHT / 2}`);
    },
  },
  {
    name: 'crop 10% per edge',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, `crop=iw*0.8:ih*0.8:iw*0.1:ih*0.1,scale=${WIDTH}:${HEIGHT}`, 23);
      return made(out, `10% off each edge, scaled back to ${WIDTH}x${HEIGHT}, CRF 23`);
    },
  },
  {
    name: 'brightness +20%, contrast 0.8',
    expect: 'pirate',
    make: async (job, out) => {
      // eq computes out = contrast (Y - 128) + 127.5 + 255.5 brightness (Y in 0-255). A mean luma
      // 20% above the original's, contrast included: 1.2 m = 0.8 (m - 128) + 127.5 + 255.5 b.
      const brightness = (0.4 * job.meanLuma - 25.1) / 255.5;
      await reencode(job, out, `eq=brightness=${brightness.toFixed(3)}:contrast=0.8`, 23);
      return made(
        out,
        `eq=brightness=${brightness.toFixed(3)}:contrast=0.8 (mean luma ${job.meanLuma.toFixed(0)} → ${(1.2 * job.meanLuma).toFixed(0)}), CRF 23`,
      );
    },
  },
  {
    name: '25 → 30 fps',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, 'fps=30', 23);
      return made(out, 'fps=30, CRF 23');
    },
  },
  {
    name: `contiguous ${CUT_FRACTION * 100}% cut`,
    expect: 'pirate',
    make: async (job, out) => {
      const length = CUT_FRACTION * DURATION;
      await ffmpeg([
        ...['-ss', job.cutStart.toFixed(2), '-i', job.download, '-t', length.toFixed(2)],
        ...PIRATE_ENCODE,
        ...['-crf', '23', out],
      ]);
      return made(
        out,
        `${job.cutStart.toFixed(1)}–${(job.cutStart + length).toFixed(1)} s re-encoded, CRF 23`,
      );
    },
  },
  {
    name: 'HLS segments → MKV',
    expect: 'pirate',
    make: async (job, out) => {
      const segments = job.embedded.renditions[0].segments.map((segment) =>
        codewordBit(job.codebook.codeword(job.pirate), segment.index) === 1 ? segment.a : segment.b,
      );
      await ffmpeg(['-i', `concat:${segments.join('|')}`, '-map', '0', '-c', 'copy', out]);
      return made(out, `${segments.length} TS segments concatenated, -c copy to .mkv`);
    },
  },
  {
    name: 'collusion of 2 (random halves)',
    expect: 'colluders',
    make: (job) =>
      Promise.resolve(
        made(
          job.collusion,
          `#${job.colluders[0]} + #${job.colluders[1]}, half the segments each, remuxed`,
          false,
        ),
      ),
  },
  {
    name: 'unmarked encode',
    expect: 'nobody',
    make: async (job, out) => {
      await ffmpeg(['-i', job.source, ...PIRATE_ENCODE, '-crf', '23', out]);
      return made(out, 'x264 veryfast CRF 23 of the original');
    },
  },
  {
    name: 'different video',
    expect: 'nobody',
    make: (job) =>
      Promise.resolve(made(job.lookalike, `${job.content.lookalike.description}`, false)),
  },
];

const benchStart = process.hrtime.bigint();
const elapsed = (): number => Number(process.hrtime.bigint() - benchStart) / 1e9;
function log(message: string): void {
  process.stdout.write(`[${elapsed().toFixed(0).padStart(5)} s] ${message}\n`);
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0].slice(0, 160) : String(error);
}

function randomInt(prng: Prng, below: number): number {
  return Math.floor(prng.nextFloat() * below);
}

async function makeClip(graph: string, seconds: number, path: string): Promise<void> {
  await ffmpeg([
    ...['-f', 'lavfi', '-i', graph, '-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14', '-pix_fmt', 'yuv420p', path],
  ]);
}

interface Media {
  source: string;
  lookalike: string;
  seconds: number;
}

async function makeMedia(content: Content, dir: string): Promise<Media> {
  await mkdir(dir, { recursive: true });
  const source = join(dir, 'original.mp4');
  const lookalike = join(dir, 'different.mp4');
  const [, seconds] = await timed(async () => {
    await makeClip(content.graph, DURATION, source);
    await makeClip(content.lookalike.graph, LOOKALIKE_DURATION, lookalike);
  });
  return { source, lookalike, seconds };
}

async function remuxTo(path: string, segmentPaths: string[]): Promise<void> {
  const remux = remuxToMp4(segmentPaths);
  try {
    await pipeline(remux.stream, createWriteStream(path));
  } catch (error) {
    remux.cancel();
    throw error;
  }
}

async function prepareJob(content: Content, media: Media, dir: string, prng: Prng): Promise<Job> {
  const embedded = await embedVariants({
    input: media.source,
    outputDir: join(dir, 'variants'),
    key: JOB_KEY,
    segmentDuration: SEGMENT,
    renditions: [{ height: HEIGHT }],
  });
  const reference = await readReference(embedded.referencePath);
  const segments = embedded.renditions[0].segments;
  const segmentCount = segments.length;
  const biases = tardosBiases(JOB_KEY, segmentCount);
  const codebook = new PackedCodebook(segmentCount, AUTOGRAPHS);
  for (let i = 0; i < AUTOGRAPHS; i++) {
    codebook.add(generateCodeword(CODEWORD_SECRET, `autograph-${i}`, biases));
  }
  const pirate = randomInt(prng, AUTOGRAPHS);
  const first = randomInt(prng, AUTOGRAPHS);
  const second = (first + 1 + randomInt(prng, AUTOGRAPHS - 1)) % AUTOGRAPHS;
  const variantOf = (autograph: number, index: number): string =>
    codewordBit(codebook.codeword(autograph), index) === 1 ? segments[index].a : segments[index].b;

  const download = join(dir, 'download.mp4');
  await remuxTo(
    download,
    segments.map((segment) => variantOf(pirate, segment.index)),
  );
  // Exactly half the segments from each colluder, which half drawn at random.
  const order = segments.map((segment) => segment.index);
  for (let i = order.length - 1; i > 0; i--) {
    const j = randomInt(prng, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fromFirst = new Set(order.slice(0, Math.floor(order.length / 2)));
  const collusion = join(dir, 'collusion.mp4');
  await remuxTo(
    collusion,
    segments.map((segment) =>
      variantOf(fromFirst.has(segment.index) ? first : second, segment.index),
    ),
  );

  let lumaSum = 0;
  for (const value of reference.segmentMeans) lumaSum += value;
  return {
    content,
    dir,
    source: media.source,
    lookalike: media.lookalike,
    embedded,
    reference,
    segmentCount,
    biases,
    codebook,
    pirate,
    colluders: [first, second],
    download,
    collusion,
    cutStart: Math.round(prng.nextFloat() * (1 - CUT_FRACTION) * DURATION * 10) / 10,
    meanLuma: lumaSum / reference.segmentMeans.length,
  };
}

/** The autographs whose copies went into a suspect copy of this attack. */
function guiltyOf(job: Job, attack: Attack): number[] {
  if (attack.expect === 'pirate') return [job.pirate];
  return attack.expect === 'colluders' ? [...job.colluders] : [];
}

/** A trial before any evidence: nobody accused, nothing observed. */
function emptyTrial(job: Job, attack: Attack, note: string): Trial {
  return {
    content: job.content.name,
    attack: attack.name,
    expect: attack.expect,
    note,
    guilty: guiltyOf(job, attack),
    accused: [],
    identified: false,
    topScore: null,
    threshold: Infinity,
    maxInnocent: null,
    observed: 0,
    seconds: 0,
    biases: job.biases,
    codebook: job.codebook,
  };
}

/** Runs extraction and accusation on one suspect copy, as a backtrace would. */
async function examine(job: Job, attack: Attack, suspect: Suspect): Promise<Trial> {
  const trial = emptyTrial(job, attack, suspect.note);
  const { guilty } = trial;
  const start = process.hrtime.bigint();
  try {
    const result = await extractSoftBits({
      suspect: suspect.path,
      reference: job.reference,
      key: JOB_KEY,
    });
    trial.seconds = Number(process.hrtime.bigint() - start) / 1e9;
    trial.observed = result.segmentsObserved;
    trial.softBits = result.softBits;
    const { alignment } = result;
    const crop = alignment.geometry;
    const cropNote =
      crop.left || crop.right || crop.top || crop.bottom
        ? `, crop l/r/t/b ${[crop.left, crop.right, crop.top, crop.bottom].map((c) => `${decimal(c * 100, 1)}%`).join('/')}`
        : '';
    trial.note += alignment.matched
      ? `; aligned at ${decimal(alignment.offsetFrames / FPS, 1)} s, rate ${alignment.rate.toFixed(3)}${cropNote}, ${alignment.locks} lock(s), mark/noise ${(result.markAmplitude / Math.max(1e-9, result.noiseLevel)).toFixed(2)}`
      : '; not aligned with the original';

    const verdict = accuse({
      softBits: result.softBits,
      codebook: job.codebook,
      biases: job.biases,
    });
    trial.threshold = verdict.threshold;
    trial.accused = verdict.accused.map((accusation) => accusation.index);
    if (verdict.observedWeight > 0) {
      const scores = scoreCodewords(result.softBits, job.codebook, job.biases);
      let top = -Infinity;
      let maxInnocent = -Infinity;
      scores.forEach((score, index) => {
        top = Math.max(top, score);
        if (!guilty.includes(index)) maxInnocent = Math.max(maxInnocent, score);
      });
      trial.topScore = top;
      trial.maxInnocent = maxInnocent;
    }
  } catch (error) {
    trial.seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (error instanceof ExtractionError) {
      trial.observed = error.segmentsObserved ?? 0;
      trial.error = `${error.code}: ${error.segmentsObserved ?? '?'} segments observed, ${error.segmentsNeeded ?? '?'} needed`;
    } else {
      trial.error = `extraction failed: ${message(error)}`;
    }
  }
  const innocentAccused = trial.accused.filter((index) => !guilty.includes(index));
  trial.identified =
    attack.expect === 'pirate'
      ? trial.accused.length === 1 && trial.accused[0] === job.pirate
      : attack.expect === 'colluders'
        ? trial.accused.length >= 1 && innocentAccused.length === 0
        : trial.accused.length === 0;
  return trial;
}

/** Attacks of one job, the next suspect copy encoded while the current one is extracted. */
async function runAttacks(job: Job, onTrial: (trial: Trial) => void): Promise<Trial[]> {
  const trials: Trial[] = [];
  const prepare = (index: number): Promise<Settled<Suspect>> => {
    const attack = ATTACKS[index];
    const extension = attack.name.includes('MKV') ? 'mkv' : 'mp4';
    return settle(attack.make(job, join(job.dir, `attack-${index}.${extension}`)));
  };
  let next = prepare(0);
  for (let index = 0; index < ATTACKS.length; index++) {
    const attack = ATTACKS[index];
    const suspect = await next;
    if (index + 1 < ATTACKS.length) next = prepare(index + 1);
    let trial: Trial;
    if (suspect.ok) {
      trial = await examine(job, attack, suspect.value);
      if (suspect.value.temporary) await rm(suspect.value.path, { force: true });
    } else {
      trial = { ...emptyTrial(job, attack, ''), error: `attack failed: ${message(suspect.error)}` };
    }
    trials.push(trial);
    onTrial(trial);
  }
  return trials;
}

/** toFixed without a negative zero ("-0.0"). */
function decimal(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

const fixed = (value: number | null, digits = 2): string =>
  value === null || !Number.isFinite(value) ? '—' : decimal(value, digits);

function accusedText(trial: Trial): string {
  if (trial.accused.length === 0) return 'nobody';
  return trial.accused
    .map((index) => `#${index}${trial.guilty.includes(index) ? '' : ' (innocent!)'}`)
    .join(', ');
}

function tableRow(trial: Trial): string {
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
function falseAccusations(trials: Trial[]): string[] {
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
function collusionCapacity(): string[] {
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
function chartOf(trials: Trial[]): { svg: string; caption: string } | null {
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

async function main(): Promise<void> {
  const seed = Number(process.env.BENCH_SEED ?? Math.floor(Math.random() * 1e6));
  const prng = seededPrng(`bench-robustness-seed-${seed}`, 'choices');
  const startLoad = loadavg();
  const root = await mkdtemp(join(tmpdir(), 'bench-robustness-'));
  log(
    `bench:robustness — ${CONTENTS.length} contents × ${ATTACKS.length} attacks, ${DURATION} s ${WIDTH}x${HEIGHT} ${FPS} fps, ` +
      `${SEGMENT} s segments, ${AUTOGRAPHS} autographs, seed ${seed}; work dir ${root}`,
  );
  const trials: Trial[] = [];
  const costs: string[] = [];
  try {
    const mediaFor = (index: number): Promise<Settled<Media>> =>
      settle(makeMedia(CONTENTS[index], join(root, CONTENTS[index].name)));
    let media = mediaFor(0);
    for (let index = 0; index < CONTENTS.length; index++) {
      const content = CONTENTS[index];
      log(`${content.name}: generating the original and the look-alike (lavfi)…`);
      const generated = await media;
      if (!generated.ok) throw generated.error;
      log(`${content.name}: embedding A/B variants…`);
      const dir = join(root, content.name);
      const [job, embedSeconds] = await timed(() =>
        prepareJob(content, generated.value, dir, prng),
      );
      log(
        `${content.name}: ${job.segmentCount} segments embedded in ${embedSeconds.toFixed(0)} s; pirate #${job.pirate}, ` +
          `colluders #${job.colluders[0]} + #${job.colluders[1]}`,
      );
      // The next content's media are generated while this one's attacks run.
      if (index + 1 < CONTENTS.length) media = mediaFor(index + 1);
      const [contentTrials, attackSeconds] = await timed(() =>
        runAttacks(job, (trial) =>
          log(
            `${trial.content} | ${trial.attack} | ${trial.identified ? '✔' : '✘'} ${accusedText(trial)} | ` +
              `top ${fixed(trial.topScore)} thr ${fixed(trial.threshold)} max innocent ${fixed(trial.maxInnocent)} | ` +
              `${trial.observed} segments | ${trial.seconds.toFixed(1)} s${trial.error ? ` | ${trial.error}` : ''}`,
          ),
        ),
      );
      trials.push(...contentTrials);
      const extractSeconds = contentTrials.reduce((sum, trial) => sum + trial.seconds, 0);
      costs.push(
        `| ${content.name} | ${generated.value.seconds.toFixed(0)} s | ${embedSeconds.toFixed(0)} s | ${attackSeconds.toFixed(0)} s | ${(extractSeconds / contentTrials.length).toFixed(1)} s |`,
      );
      // Its variants, copies and originals are no longer needed (the next content has its own dir).
      await rm(dir, { recursive: true, force: true });
    }

    log('false-accusation check…');
    const falseAccusationLines = falseAccusations(trials);
    log('collusion capacity…');
    const capacityLines = collusionCapacity();
    const chart = chartOf(trials);
    if (chart) {
      const svgPath = new URL('../../bench/results/soft-bits.svg', import.meta.url);
      await mkdir(new URL('.', svgPath), { recursive: true });
      await writeFile(svgPath, chart.svg);
    }

    const failures = trials.filter((trial) => !trial.identified);
    const cpu = cpus();
    const lines = [
      `# bench:robustness — ${CONTENTS.length} generated contents × ${ATTACKS.length} attacks`,
      '',
      `Run ${new Date().toISOString()} on ${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} cores), ` +
        `${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${process.platform}/${process.arch}, Node ${process.version}; ` +
        `load average at start ${startLoad.map((load) => load.toFixed(1)).join(' / ')}, at end ${loadavg()
          .map((load) => load.toFixed(1))
          .join(' / ')}. ` +
        `Total ${(elapsed() / 60).toFixed(1)} min, peak RSS ${peakRssMiB().toFixed(0)} MiB. Seed ${seed} (\`BENCH_SEED=${seed}\` replays the choices).`,
      '',
      '## Setup',
      '',
      `- Originals: ${DURATION} s, ${WIDTH}x${HEIGHT}, ${FPS} fps, generated with ffmpeg lavfi (x264 CRF 14):`,
      ...CONTENTS.map((content) => `  - **${content.name}**: ${content.description}.`),
      `- \`embedVariants\`: ${SEGMENT} s segments, one rendition at ${HEIGHT}p, default strength, the default ladder's x264 settings (capped VBR ${defaultEncoderSettings(HEIGHT).videoBitrate} kbit/s average, ${defaultEncoderSettings(HEIGHT).maxBitrate} peak; preset medium, AQ and psy-rd on).`,
      `- ${AUTOGRAPHS} autographs: \`generateCodeword(secret, 'autograph-' + i, tardosBiases(jobKey, segments))\`. ` +
        "The pirate and the two colluders are drawn at random; the download is the pirate's A/B segments remuxed by `remuxToMp4`.",
      `- Each copy goes through \`extractSoftBits\` (the job's reference and key) and \`accuse\` (ε = ${DEFAULT_FALSE_ACCUSATION_PROBABILITY}, too-short rule: ${minimumObservedSegments()} segments).`,
      '- ✔ = exactly the pirate accused; for the collusion at least one colluder and no innocent; for the unmarked encode and the different video nobody.',
      '- Top score: the highest score of the 100 codewords; margin = top score − threshold; max innocent: the best score of a codeword that is not in the copy.',
      "- Extraction time is measured while the next attack's ffmpeg encode runs on the other core.",
      '',
      '## Results',
      '',
      '| content | attack | identified | expected | accused | top score | threshold | margin | max innocent | segments observed | extraction (s) | notes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...trials.map(tableRow),
      '',
      failures.length === 0
        ? `All ${trials.length} trials ✔.`
        : `**${failures.length} of ${trials.length} trials ✘**: ${failures.map((trial) => `${trial.content} / ${trial.attack}${trial.error ? ` (${trial.error})` : ''}`).join('; ')}.`,
      '',
      ...falseAccusationLines,
      ...capacityLines,
      '## Soft bits of two suspect copies',
      '',
      chart
        ? `![soft bits: ${chart.caption}](soft-bits.svg)`
        : 'No copy with soft bits to chart (every cut / CRF 40 extraction failed).',
      '',
      '## Costs',
      '',
      '| content | generating original + look-alike | embedding + downloads | attacks + extractions | mean extraction |',
      '| --- | --- | --- | --- | --- |',
      ...costs,
    ];
    report('robustness', lines);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  log('done');
}

await main();
