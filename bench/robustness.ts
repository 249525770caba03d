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
 * Then how long a copy mixed by 3 colluders must be at 100 and 10⁶ autographs (simulated on
 * the clean downloads' measured soft bits).
 *
 * Writes bench/results/robustness.md and bench/results/soft-bits.svg. BENCH_SEED=<integer>
 * replays a run's random choices (pirate, colluders, cut position). BENCH_CONTENTS and
 * BENCH_ATTACKS run a subset (see robustness-selection.ts) into robustness-subset.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  codewordBit,
  DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  defaultEncoderSettings,
  minimumObservedSegments,
  seededPrng,
  symbolForBit,
} from '../src/watermark/index.js';
import { type Trial } from './robustness-attacks.js';
import { ATTACKS, CONTENTS, SUBSET } from './robustness-selection.js';
import {
  AUTOGRAPHS,
  DURATION,
  FPS,
  HEIGHT,
  type Media,
  makeMedia,
  SEGMENT,
  WIDTH,
} from './robustness-clips.js';
import {
  accusedText,
  chartOf,
  collusionCapacity,
  falseAccusations,
  fixed,
  missedBecause,
  tableRow,
} from './robustness-report.js';
import { prepareJob, runAttacks, type Settled, settle } from './robustness-trials.js';
import { coalitionSection } from './robustness-coalitions.js';
import { peakRssMiB, report, timed } from './support.js';

const benchStart = process.hrtime.bigint();
const elapsed = (): number => Number(process.hrtime.bigint() - benchStart) / 1e9;
function log(message: string): void {
  process.stdout.write(`[${elapsed().toFixed(0).padStart(5)} s] ${message}\n`);
}

/**
 * The clean downloads' soft bits times the symbol each segment carries: how sure a real read
 * is (negative: read wrong), for the coalition simulation. Perfect bits without a clean trial.
 */
function measuredConfidences(trials: Trial[]): [number[], string] {
  const clean = trials.filter((trial) => trial.attack === 'clean download' && trial.softBits);
  const confidences = clean.flatMap((trial) =>
    Array.from(
      trial.softBits ?? [],
      (bit, segment) =>
        bit * symbolForBit(codewordBit(trial.codebook.codeword(trial.guilty[0]), segment)),
    ),
  );
  return confidences.length > 0
    ? [
        confidences,
        `the clean downloads' measured soft bits (${clean.map((trial) => trial.content).join(', ')})`,
      ]
    : [[1], 'perfect bits (no clean download in this run)'];
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
    const marks: string[] = [];
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
      const { mark } = job.embedded.renditions[0];
      marks.push(
        `${content.name} ${mark.strength.toFixed(2)} (pilot PSNR-Y ${mark.pilotPsnrY?.toFixed(2) ?? '—'} dB)`,
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
    log('collusion of 3: segments needed…');
    const coalitionLines = coalitionSection(...measuredConfidences(trials));
    const chart = chartOf(trials);
    if (chart && !SUBSET) {
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
      `- \`embedVariants\`: ${SEGMENT} s segments, one rendition at ${HEIGHT}p, the mark's strength budgeted by the engine from a pilot encode (mark-budget.ts), the default ladder's x264 settings (capped VBR ${defaultEncoderSettings(HEIGHT).videoBitrate} kbit/s average, ${defaultEncoderSettings(HEIGHT).maxBitrate} peak; preset medium, AQ and psy-rd on). Strength (luma levels RMS before the mask): ${marks.join(', ')}.`,
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
        : `**${failures.length} of ${trials.length} trials ✘**: ${failures.map((trial) => `${trial.content} / ${trial.attack} (${trial.error ?? missedBecause(trial, DURATION)})`).join('; ')}.`,
      '',
      ...falseAccusationLines,
      ...capacityLines,
      ...coalitionLines,
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
    // A narrowed run (BENCH_CONTENTS / BENCH_ATTACKS) never overwrites the full run's results.
    report(SUBSET ? 'robustness-subset' : 'robustness', lines);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  log('done');
}

await main();
