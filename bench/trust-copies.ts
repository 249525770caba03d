/**
 * bench:trust-copies — what a backtrace costs and gains beyond one copy and one known job:
 * finding the job of a copy among 100 (two stages: job signatures, then the lock search on
 * the best few) against extracting the same copy, and the multi-copy gain (clips that alone
 * are too short, together naming the pirate). Writes bench/results/trust-copies.md.
 * One content (fractal), 180 s, 1 s segments, 100 autographs (see bench:robustness).
 * `BENCH_PART=copies` runs the several-copies part alone (its section of the file is replaced).
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accuse,
  decodeJobSignature,
  type DetectionReference,
  encodeJobSignature,
  extractFromCopies,
  extractSoftBits,
  findOriginals,
  framesPerSegment,
  jobSignatureOf,
  minimumObservedSegments,
  perInnocentProbability,
  readFrames,
  readReference,
  ReferenceBuilder,
  seededPrng,
  writeReference,
} from '../src/watermark/index.js';
import { BASIC_ATTACKS, type Job } from './robustness-attacks.js';
import {
  AUTOGRAPHS,
  CONTENTS,
  FPS,
  HEIGHT,
  JOB_KEY,
  makeMedia,
  SEGMENT,
  WIDTH,
} from './robustness-clips.js';
import { prepareJob } from './robustness-trials.js';
import { ffmpeg, peakRssMiB, report, timed } from './support.js';
import { TOTAL_EPSILON } from './trust-model.js';

const CANDIDATE_JOBS = 100;
/** Backtraces of each kind per copy (alternating): medians are reported. */
const RUNS = 5;
/** Where the real job sits among the candidates (not first: the order must not matter). */
const REAL_AT = 57;
const CLIP_SECONDS = 30;
const CLIP_STARTS = [10, 75, 140];

const start = Date.now();
function log(message: string): void {
  process.stdout.write(`[${((Date.now() - start) / 1000).toFixed(0).padStart(5)} s] ${message}\n`);
}
const seconds = (value: number): string => value.toFixed(2);

/**
 * A different video as long as the original, for the job search: the look-alike's signatures
 * repeated to the original's length, rotated by `shift` frames so no two decoys are alike.
 */
function decoyOf(
  lookalike: DetectionReference,
  original: DetectionReference,
  shift: number,
): DetectionReference {
  const size = lookalike.signatureWidth * lookalike.signatureHeight;
  const signatures = new Uint8Array(original.frameCount * size);
  for (let frame = 0; frame < original.frameCount; frame++) {
    const from = (frame + shift) % lookalike.frameCount;
    signatures.set(lookalike.signatures.subarray(from * size, (from + 1) * size), frame * size);
  }
  const view = lookalike.detectionWidth * lookalike.detectionHeight;
  const segmentMeans = new Float32Array(original.segmentCount * view);
  for (let segment = 0; segment < original.segmentCount; segment++) {
    const from =
      (segment + Math.floor(shift / lookalike.framesPerSegment)) % lookalike.segmentCount;
    segmentMeans.set(
      lookalike.segmentMeans.subarray(from * view, (from + 1) * view),
      segment * view,
    );
  }
  return { ...original, signatures, segmentMeans };
}

async function referenceOf(path: string): Promise<DetectionReference> {
  const builder = new ReferenceBuilder(WIDTH, HEIGHT, FPS, SEGMENT, framesPerSegment(FPS, SEGMENT));
  for await (const frame of readFrames(path, { width: WIDTH, height: HEIGHT, grayOnly: true })) {
    builder.addFrame(frame.data);
  }
  return builder.finish();
}

interface StoredJob {
  id: string;
  key: string;
  referencePath: string;
  signaturePath: string;
}

/** The candidates as the service hands them over: signature and reference read when needed. */
const candidatesOf = (jobs: StoredJob[]) =>
  jobs.map(({ id, key, referencePath, signaturePath }) => ({
    id,
    key,
    signature: async () => decodeJobSignature(await readFile(signaturePath)),
    reference: () => readReference(referencePath),
  }));

/** The sections a run writes: `BENCH_PART=copies` runs the several-copies one alone. */
const COPIES_ONLY = process.env.BENCH_PART === 'copies';

async function main(): Promise<void> {
  const startLoad = loadavg();
  const root = await mkdtemp(join(tmpdir(), 'bench-trust-copies-'));
  const content = CONTENTS.find(({ name }) => name === 'fractal') ?? CONTENTS[0];
  log(`making and embedding ${content.name} in ${root}`);
  const media = await makeMedia(content, root);
  const job = await prepareJob(content, media, root, seededPrng('bench-trust', 'choices'));
  const finding = COPIES_ONLY ? null : await findingSection(job, media.lookalike, root);
  const copies = await severalCopiesSection(job, root);

  const endLoad = loadavg();
  const load = (values: number[]) => values.map((l) => l.toFixed(1)).join(' / ');
  const lines = [
    '# bench:trust-copies — finding the job, and several copies of one leak',
    '',
    `Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}; load average at start ${load(startLoad)}, at end ${load(endLoad)} (machine shared with other work). Total ${((Date.now() - start) / 60000).toFixed(1)} min, peak RSS ${peakRssMiB().toFixed(0)} MiB.`,
    '',
    `Content: bench:robustness's **${content.name}** clip, 180 s, ${WIDTH}x${HEIGHT} at ${FPS} fps, ${SEGMENT} s segments, ${AUTOGRAPHS} autographs (one pirate, #${job.pirate}); ε_total = ${TOTAL_EPSILON} per backtrace.`,
    '',
  ];
  if (finding) report('trust-copies', [...lines, ...finding, ...copies]);
  else reportSection(lines, copies);
  await rm(root, { recursive: true, force: true });
}

/**
 * A run of the several-copies part alone: its section replaces the one of the last whole run
 * in trust-copies.md, the rest of which is kept as it was.
 */
function reportSection(lines: string[], section: string[]): void {
  const path = new URL('../../bench/results/trust-copies.md', import.meta.url);
  const previous = readFileSync(path, 'utf8');
  const from = previous.indexOf('## Several copies');
  if (from < 0) throw new Error('trust-copies.md has no several-copies section');
  const kept = previous.slice(0, from).trimEnd().split('\n');
  report('trust-copies', [
    ...kept,
    '',
    ...section,
    '',
    `The section above was re-run alone (\`BENCH_PART=copies\`): ${lines[2]}`,
  ]);
}

/** Finding the job of two copies among CANDIDATE_JOBS, against extracting them given it. */
async function findingSection(job: Job, lookalikePath: string, root: string): Promise<string[]> {
  const crf40 = BASIC_ATTACKS.find(({ id }) => id === 'crf40');
  if (!crf40) throw new Error('bench:robustness has no CRF 40 attack');
  const attacked = await crf40.make(job, join(root, 'crf40.mp4'));

  log(`writing ${CANDIDATE_JOBS} jobs' references, then their signatures`);
  const lookalike = await referenceOf(lookalikePath);
  await mkdir(join(root, 'jobs'));
  const jobs: StoredJob[] = [];
  for (let i = 0; i < CANDIDATE_JOBS; i++) {
    const real = i === REAL_AT;
    const id = real ? 'original' : `decoy-${i}`;
    const referencePath = join(root, 'jobs', `${id}.agref`);
    await writeReference(
      referencePath,
      real ? job.reference : decoyOf(lookalike, job.reference, i * 37),
    );
    jobs.push({
      id,
      key: real ? JOB_KEY : id,
      referencePath,
      signaturePath: join(root, 'jobs', `${id}.agsig`),
    });
  }
  const [, signingSeconds] = await timed(async () => {
    for (const { referencePath, signaturePath } of jobs) {
      const signature = jobSignatureOf(await readReference(referencePath));
      await writeFile(signaturePath, encodeJobSignature(signature));
    }
  });
  const signatureBytes = (await readFile(jobs[REAL_AT].signaturePath)).length;
  const referenceBytes = (await readFile(jobs[REAL_AT].referencePath)).length;

  const copies = [
    { name: 'CRF 40, half size', path: attacked.path },
    { name: 'clean download', path: job.download },
  ];
  const realJob = jobs[REAL_AT];
  /** A backtrace given the job: its reference read, the copy extracted. */
  const withJob = async (path: string) =>
    extractSoftBits({
      suspect: path,
      reference: await readReference(realJob.referencePath),
      key: JOB_KEY,
    });
  /**
   * A backtrace without it: the job found among all, then the same extraction going on from
   * what finding decoded (probe, frames, the lock of the job found).
   */
  const jobLess = async (path: string) => {
    const [{ found, start }, findSeconds] = await timed(() =>
      findOriginals(path, candidatesOf(jobs)),
    );
    try {
      if (found[0]?.id !== realJob.id || !start)
        throw new Error(`found ${found[0]?.id ?? 'nothing'}`);
      const reference = await readReference(realJob.referencePath);
      const result = await extractSoftBits({ suspect: path, reference, key: JOB_KEY, start });
      return { result, found, findSeconds };
    } finally {
      await start?.rest.return(undefined);
    }
  };
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1];
  const findingRows: string[] = [];
  for (const copy of copies) {
    log(`the ${copy.name}: ${RUNS} backtraces with the job and ${RUNS} without, alternating`);
    const given: number[] = [];
    const without: number[] = [];
    const finding: number[] = [];
    let sameBits = true;
    let named = '';
    for (let run = 0; run < RUNS; run++) {
      const timeGiven = async () => {
        const [result, spent] = await timed(() => withJob(copy.path));
        given.push(spent);
        return result;
      };
      const timeWithout = async () => {
        const [result, spent] = await timed(() => jobLess(copy.path));
        without.push(spent);
        finding.push(result.findSeconds);
        return result;
      };
      // Each kind first in turn: neither gains from the other's warm caches.
      const [reference, found] =
        run % 2 === 0
          ? [await timeGiven(), await timeWithout()]
          : await timeWithout().then(async (result) => [await timeGiven(), result] as const);
      sameBits &&= reference.softBits.every((bit, i) => bit === found.result.softBits[i]);
      named = found.found
        .map(({ id, correlation }) => `${id} (${correlation.toFixed(3)})`)
        .join(', ');
    }
    const extra = median(without) - median(given);
    findingRows.push(
      `| ${copy.name} | ${named} | ${seconds(median(given))} | ${seconds(median(without))} | ${seconds(median(finding))} | ${seconds(extra)} | **${((100 * extra) / median(given)).toFixed(1)} %** | ${sameBits ? 'yes' : 'no'} |`,
    );
  }

  log('two jobs of the same original among the candidates');
  const twice = jobs.map((stored, i) =>
    i === REAL_AT + 1 ? { ...jobs[REAL_AT], id: 'original-again', key: 'another-job-key' } : stored,
  );
  const [{ found: foundTwice, start: unused }, twiceSeconds] = await timed(() =>
    findOriginals(attacked.path, candidatesOf(twice)),
  );
  await unused?.rest.return(undefined);

  return [
    `## Finding the job among ${CANDIDATE_JOBS}`,
    '',
    `${CANDIDATE_JOBS} jobs on disk as the service keeps them: the real one (position ${REAL_AT}) and ${CANDIDATE_JOBS - 1} different videos of the same length (the look-alike fractal of bench:robustness, repeated and rotated), each with its detection reference (${(referenceBytes / 1e6).toFixed(2)} MB) and its job signature (${(signatureBytes / 1e3).toFixed(1)} kB: coarse 4x3 signatures averaged over each half second, as bytes). \`findOriginals\` reads the signatures one by one and ranks every job on 10 s of the copy (24 half-seconds at the copy's speed); the full lock search then runs on the best ranks only, reading their references. It hands the copy's probe, the frames it decoded and the lock of the job found to the extraction, which goes on from them instead of decoding and searching the copy's start again. Computing the ${CANDIDATE_JOBS} signatures from the references (the service does it once per job, when the job succeeds): ${seconds(signingSeconds)} s in all.`,
    '',
    `**How the cost is measured**: per copy, ${RUNS} backtraces given the job (read its reference, \`extractSoftBits\`) alternate with ${RUNS} without it (\`findOriginals\` among the ${CANDIDATE_JOBS}, then read the reference of the job found and \`extractSoftBits\` going on from what finding decoded), in one run; the cost of finding the job is the difference of the medians of the two totals, as a share of the backtrace given the job. The finding step alone (its probe, decoding, ranking and lock searches, part of which the extraction then does not redo) is shown for reference. Not included: listing the owner's jobs and reading the signatures from the database instead of files.`,
    '',
    '| copy | found (lock correlation) | backtrace with the job (s) | without it (s) | of which finding (s) | cost of finding the job (s) | cost / backtrace with the job (goal < 20 %) | same soft bits |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...findingRows,
    '',
    `With a second job of the same original among the ${CANDIDATE_JOBS} (its reference, another key), the CRF 40 copy finds **${foundTwice.map(({ id, correlation }) => `${id} (${correlation.toFixed(3)})`).join(', ')}** in ${seconds(twiceSeconds)} s: both match equally well, and the backtrace traces against each with the bound shared out.`,
    '',
  ];
}

/** Clips too short alone, traced alone and together. */
async function severalCopiesSection(job: Job, root: string): Promise<string[]> {
  const perInnocent = perInnocentProbability(TOTAL_EPSILON, AUTOGRAPHS);
  log(`${CLIP_STARTS.length} clips of ${CLIP_SECONDS} s of the download, alone and together`);
  const clips: string[] = [];
  for (const at of CLIP_STARTS) {
    const clip = join(root, `clip-${at}.mp4`);
    await ffmpeg([
      ...['-ss', String(at), '-t', String(CLIP_SECONDS), '-i', job.download],
      ...['-c:v', 'libx264', '-crf', '23', clip],
    ]);
    clips.push(clip);
  }
  const needed = minimumObservedSegments(perInnocent);
  const clipRow = async (name: string, suspects: string[]): Promise<string> => {
    // No too-short rule in the extraction (it is applied below): each input is scored for
    // what it holds.
    const { softBits, segmentsObserved } = await extractFromCopies({
      suspects,
      reference: job.reference,
      key: JOB_KEY,
      epsilon: 0.5,
    });
    const verdict = accuse({ softBits, codebook: job.codebook, biases: job.biases });
    const pirate = verdict.accused.find(({ index }) => index === job.pirate);
    const accused = verdict.accused.map(({ index }) => `#${index}`).join(', ') || 'nobody';
    const outcome =
      segmentsObserved < needed
        ? `COPY_TOO_SHORT (${segmentsObserved} < ${needed} segments)`
        : `names ${accused}`;
    const threshold = Number.isFinite(verdict.threshold) ? verdict.threshold.toFixed(2) : '—';
    return `| ${name} | ${segmentsObserved} | ${pirate?.score.toFixed(2) ?? 'below the threshold'} | ${threshold} | ${outcome} |`;
  };
  const clipRows: string[] = [];
  for (const [i, clip] of clips.entries()) {
    clipRows.push(await clipRow(`clip at ${CLIP_STARTS[i]} s alone`, [clip]));
  }
  clipRows.push(await clipRow(`the ${clips.length} clips together`, clips));

  return [
    `## Several copies: ${CLIP_STARTS.length} clips of ${CLIP_SECONDS} s of the download`,
    '',
    `Clips of the pirate's clean download at ${CLIP_STARTS.join(' s, ')} s, re-encoded at CRF 23, each aligned on its own and their soft evidence combined per segment (\`extractFromCopies\`); n = ${AUTOGRAPHS} autographs, threshold at ε_total / n. A backtrace needs ${needed} observed segments at n = ${AUTOGRAPHS} (COPY_TOO_SHORT below); the pirate score and threshold are shown for what each input holds.`,
    '',
    '| input | segments observed | pirate score | threshold | backtrace outcome |',
    '| --- | --- | --- | --- | --- |',
    ...clipRows,
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
