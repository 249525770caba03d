/** bench:robustness: one job (embedding, downloads) and its trials (extraction, accusation). */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  accuse,
  codewordBit,
  type CropGeometry,
  embedVariants,
  ExtractionError,
  extractSoftBits,
  generateCodeword,
  PackedCodebook,
  type Prng,
  readReference,
  remuxToMp4,
  scoreCodewords,
  symbolForBit,
  tardosBiases,
} from '../src/watermark/index.js';
import { type Attack, type Job, type Suspect, type Trial } from './robustness-attacks.js';
import { ATTACKS } from './robustness-selection.js';
import {
  AUTOGRAPHS,
  type Content,
  CODEWORD_SECRET,
  CUT_FRACTION,
  DURATION,
  FPS,
  HEIGHT,
  JOB_KEY,
  type Media,
  SEGMENT,
} from './robustness-clips.js';

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0].slice(0, 160) : String(error);
}

export function randomInt(prng: Prng, below: number): number {
  return Math.floor(prng.nextFloat() * below);
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

export async function prepareJob(
  content: Content,
  media: Media,
  dir: string,
  prng: Prng,
): Promise<Job> {
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

  // Drawn after the choices above so that a seed replays them as before.
  const cutStart = Math.round(prng.nextFloat() * (1 - CUT_FRACTION) * DURATION * 10) / 10;
  const others = Array.from({ length: AUTOGRAPHS }, (_, i) => i).filter((i) => i !== pirate);
  const trio = [0, 1, 2].map(() => others.splice(randomInt(prng, others.length), 1)[0]);

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
    cutStart,
    trio: [trio[0], trio[1], trio[2]],
    scenesCut: scenesToCut(prng),
    chapters: chaptersToSwap(prng),
    copyOf: (autographOf, path) =>
      remuxTo(
        path,
        segments.map((segment) => variantOf(autographOf(segment.index), segment.index)),
      ),
    meanLuma: lumaSum / reference.segmentMeans.length,
  };
}

/** Three scenes of 5-15 s, one in each third of the film. */
function scenesToCut(prng: Prng): Job['scenesCut'] {
  return [0, 1, 2].map((third) => {
    const length = 5 + Math.round(10 * prng.nextFloat());
    const start = (third * DURATION) / 3 + 5 + prng.nextFloat() * (DURATION / 3 - 10 - length);
    return { start: Math.round(start * 10) / 10, length };
  });
}

/** Two consecutive-ish chapters of 40 s, the first starting in 10-50 s, 10-30 s apart. */
function chaptersToSwap(prng: Prng): Job['chapters'] {
  const length = 40;
  const first = 10 + Math.round(40 * prng.nextFloat());
  const second = first + length + 10 + Math.round(20 * prng.nextFloat());
  return { first, second, length };
}

/** The autographs whose copies went into a suspect copy of this attack. */
function guiltyOf(job: Job, attack: Attack): number[] {
  if (attack.expect === 'pirate') return [job.pirate];
  if (attack.expect === 'nobody') return [];
  return attack.coalition?.(job) ?? [...job.colluders];
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

/** The share of observed segments (soft bit ≠ 0) whose sign is the codeword's symbol. */
function bitsRight(softBits: Float32Array, codeword: Uint32Array): string {
  let observed = 0;
  let right = 0;
  softBits.forEach((bit, segment) => {
    if (bit === 0) return;
    observed++;
    if (Math.sign(bit) === symbolForBit(codewordBit(codeword, segment))) right++;
  });
  return `${decimal((100 * right) / observed, 1)} %`;
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
      ? `; aligned at ${decimal(alignment.offsetFrames / FPS, 1)} s, rate ${alignment.rate.toFixed(3)}${cropNote}${cameraNote(crop)}, ${alignment.locks} lock(s), mark/noise ${(result.markAmplitude / Math.max(1e-9, result.noiseLevel)).toFixed(2)}`
      : '; not aligned with the original';
    if (attack.expect === 'pirate' && trial.observed > 0) {
      trial.note += `, ${bitsRight(result.softBits, job.codebook.codeword(job.pirate))} of segment bits right`;
    }

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
export async function runAttacks(job: Job, onTrial: (trial: Trial) => void): Promise<Trial[]> {
  const trials: Trial[] = [];
  const prepare = (index: number): Promise<Settled<Suspect>> => {
    const attack = ATTACKS[index];
    const extension = attack.extension ?? 'mp4';
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
export function decimal(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** The camera terms the detector measured, if any (see camera-geometry.ts). */
function cameraNote({ camera }: CropGeometry): string {
  if (!camera) return '';
  const { keystone, tilt, barrel, rotation } = camera;
  const terms = [
    keystone ? `keystone ${keystone.toFixed(3)}` : '',
    tilt ? `tilt ${tilt.toFixed(3)}` : '',
    barrel ? `barrel ${barrel.toFixed(3)}` : '',
    rotation ? `rotation ${decimal((rotation * 180) / Math.PI, 2)}°` : '',
  ].filter(Boolean);
  return terms.length > 0 ? `, camera: ${terms.join(', ')}` : '';
}
