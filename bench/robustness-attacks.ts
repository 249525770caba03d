/** bench:robustness: what is done to a leaked download, and the records of a trial. */
import {
  codewordBit,
  type DetectionReference,
  type EmbedResult,
  type PackedCodebook,
} from '../src/watermark/index.js';
import { type Content, CUT_FRACTION, DURATION, HEIGHT, WIDTH } from './robustness-clips.js';
import { ffmpeg } from './support.js';

/** What a pirate's re-encode looks like: x264, fast preset, no audio (the sources have none). */
export const PIRATE_ENCODE = [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-pix_fmt',
  'yuv420p',
  '-an',
];

export type Expectation = 'pirate' | 'colluders' | 'nobody';

export interface Job {
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
  /** The coalition of the collusion-of-3 rows. */
  trio: [number, number, number];
  /** Three scenes (seconds of the original) cut out by the scene-cut row, in order. */
  scenesCut: { start: number; length: number }[];
  /** Two chapters of `length` seconds starting at `first` and `second` swapped. */
  chapters: { first: number; second: number; length: number };
  /** Remuxes the copy whose segment i comes from autograph `autographOf(i)`'s download. */
  copyOf: (autographOf: (segment: number) => number, path: string) => Promise<void>;
  /** Mean luma of the original (0-255), from the detection reference. */
  meanLuma: number;
}

export interface Suspect {
  path: string;
  /** Parameters chosen for this copy (shown in the table). */
  note: string;
  /** A file made for this trial only, deleted after extraction. */
  temporary: boolean;
}

export interface Attack {
  /** Short name for BENCH_ATTACKS (a listed prefix selects the attack). */
  id: string;
  name: string;
  expect: Expectation;
  make: (job: Job, output: string) => Promise<Suspect>;
  /** Colluders of a 'colluders' row (default: the two of the collusion of 2). */
  coalition?: (job: Job) => number[];
  /** Container of the suspect copy (default mp4). */
  extension?: string;
}

export interface Trial {
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

export async function reencode(
  job: Job,
  output: string,
  filter: string,
  crf: number,
): Promise<void> {
  await ffmpeg(['-i', job.download, '-vf', filter, ...PIRATE_ENCODE, '-crf', String(crf), output]);
}

export const made = (path: string, note = '', temporary = true): Suspect => ({
  path,
  note,
  temporary,
});

/** The attacks of the first robustness issue: re-encodes, crops, partial copies, 2 colluders. */
export const BASIC_ATTACKS: Attack[] = [
  {
    id: 'clean',
    name: 'clean download',
    expect: 'pirate',
    make: (job) => Promise.resolve(made(job.download, 'the MP4 as downloaded', false)),
  },
  {
    id: 'crf32',
    name: 'CRF 32, 360p',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, 'scale=-2:360', 32);
      return made(out, `x264 veryfast CRF 32, scale=-2:360 (${WIDTH}x${HEIGHT} kept)`);
    },
  },
  {
    id: 'crf40',
    name: 'CRF 40, half size',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, 'scale=iw/2:ih/2', 40);
      return made(out, `x264 veryfast CRF 40 at ${WIDTH / 2}x${HEIGHT / 2}`);
    },
  },
  {
    id: 'crop',
    name: 'crop 10% per edge',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, `crop=iw*0.8:ih*0.8:iw*0.1:ih*0.1,scale=${WIDTH}:${HEIGHT}`, 23);
      return made(out, `10% off each edge, scaled back to ${WIDTH}x${HEIGHT}, CRF 23`);
    },
  },
  {
    id: 'brightness',
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
    id: 'fps30',
    name: '25 → 30 fps',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, 'fps=30', 23);
      return made(out, 'fps=30, CRF 23');
    },
  },
  {
    id: 'cut40',
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
    id: 'hls-mkv',
    name: 'HLS segments → MKV',
    expect: 'pirate',
    extension: 'mkv',
    make: async (job, out) => {
      const segments = job.embedded.renditions[0].segments.map((segment) =>
        codewordBit(job.codebook.codeword(job.pirate), segment.index) === 1 ? segment.a : segment.b,
      );
      await ffmpeg(['-i', `concat:${segments.join('|')}`, '-map', '0', '-c', 'copy', out]);
      return made(out, `${segments.length} TS segments concatenated, -c copy to .mkv`);
    },
  },
  {
    id: 'collusion2',
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
    id: 'unmarked',
    name: 'unmarked encode',
    expect: 'nobody',
    make: async (job, out) => {
      await ffmpeg(['-i', job.source, ...PIRATE_ENCODE, '-crf', '23', out]);
      return made(out, 'x264 veryfast CRF 23 of the original');
    },
  },
  {
    id: 'different',
    name: 'different video',
    expect: 'nobody',
    make: (job) =>
      Promise.resolve(made(job.lookalike, `${job.content.lookalike.description}`, false)),
  },
];
