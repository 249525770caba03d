import { type BufferedFrame } from './align.js';
import { copyFormatOf, copySamples, type JobSignature, signatureScore } from './job-signature.js';
import { LockSearch } from './lock-search.js';
import { readFrames, type RawFrame } from './media-frames.js';
import { type KeyMaterial } from './prng.js';
import { type DetectionReference } from './reference.js';

/** Seconds of copy in one search window, and the most searched from the copy's start. */
const WINDOW_SECONDS = 10;
const SEARCHED_SECONDS = 40;
/** The best ranks of the first stage that get a full lock search until one locks... */
const LOCKED_RANKS = 3;
/**
 * ...and every candidate this close to the best first-stage score: copies of one original
 * score alike, and all of them must reach the second stage.
 */
const SAME_ORIGINAL_SCORE = 0.02;
/** Locks this close to the best one match as well: the picture cannot tell them apart. */
const SAME_ORIGINAL_CORRELATION = 0.01;

export interface OriginalCandidate {
  id: string;
  /** Read when needed and dropped after use: memory does not grow with the candidates. */
  signature: () => Promise<JobSignature>;
  reference: () => Promise<DetectionReference>;
  key: KeyMaterial;
}

export interface FoundOriginal {
  id: string;
  /** Mean signature correlation of the lock (see lock-rules.ts). */
  correlation: number;
  /** Copy frames decoded to find it (per copy format). */
  framesRead: number;
}

/**
 * Which candidate originals a copy comes from, in two stages per 10 s window of the copy's
 * start (up to 40 s, until one locks). First every candidate's job signature ranks it by the
 * coarse search of the alignment (one pass over a few bytes per second of its original);
 * then the full lock search of the alignment (the rules that confirm a lock: good and unique
 * in time) runs on the best few only. Returns every confirmed candidate that matches as well
 * as the best one (copies of one original: the picture cannot tell them apart), best first;
 * none → [].
 */
export async function findOriginals(
  suspect: string,
  candidates: OriginalCandidate[],
  signal?: AbortSignal,
): Promise<FoundOriginal[]> {
  const copy = new CopyWindows(suspect, signal);
  try {
    for (let index = 0; index * WINDOW_SECONDS < SEARCHED_SECONDS; index++) {
      const ranked = await rankBySignature(copy, index, candidates, signal);
      if (ranked === null) break;
      const found = await confirmByLock(copy, index, ranked, signal);
      if (found.length > 0) return found;
    }
    return [];
  } finally {
    await copy.close();
  }
}

interface Ranked {
  candidate: OriginalCandidate;
  score: number;
  format: JobSignature;
}

/** First stage: every candidate's signature score on window `index`, best first; null: the copy ended. */
async function rankBySignature(
  copy: CopyWindows,
  index: number,
  candidates: OriginalCandidate[],
  signal?: AbortSignal,
): Promise<Ranked[] | null> {
  const ranked: Ranked[] = [];
  let framesLeft = false;
  for (const candidate of candidates) {
    signal?.throwIfAborted();
    const signature = await candidate.signature();
    const window = await copy.window(signature, index);
    if (window.frames.length === 0) continue;
    framesLeft = true;
    const score = signatureScore(signature, window.samples);
    // Only the format is kept: the entries are dropped with the signature.
    if (score > -1) ranked.push({ candidate, score, format: { ...signature, coarse: EMPTY } });
  }
  ranked.sort((a, b) => b.score - a.score);
  return framesLeft ? ranked : null;
}

const EMPTY = new Int8Array(0);

/** Second stage: the full lock search on the best ranks of window `index`. */
async function confirmByLock(
  copy: CopyWindows,
  index: number,
  ranked: Ranked[],
  signal?: AbortSignal,
): Promise<FoundOriginal[]> {
  const best = ranked[0]?.score ?? -1;
  /** First-stage score of the first candidate that locked. */
  let lockedScore: number | null = null;
  const locked: FoundOriginal[] = [];
  for (const [rank, { candidate, score, format }] of ranked.entries()) {
    // Once one locked, only those that rank as well (copies of its original) are searched;
    // before that, the best few and any that rank as well as the best.
    const stop =
      lockedScore === null
        ? rank >= LOCKED_RANKS && score < best - SAME_ORIGINAL_SCORE
        : score < lockedScore - SAME_ORIGINAL_SCORE;
    if (stop) break;
    signal?.throwIfAborted();
    const window = await copy.window(format, index);
    const search = new LockSearch(await candidate.reference(), candidate.key);
    for (const frame of window.frames) search.hold(frame);
    const found = search.finish(null);
    if (found) {
      lockedScore ??= score;
      locked.push({
        id: candidate.id,
        correlation: found.lock.correlation,
        framesRead: window.framesRead,
      });
    }
  }
  const top = Math.max(...locked.map(({ correlation }) => correlation));
  return locked
    .filter(({ correlation }) => correlation >= top - SAME_ORIGINAL_CORRELATION)
    .sort((a, b) => b.correlation - a.correlation);
}

interface CopyWindow {
  frames: BufferedFrame[];
  samples: ReturnType<typeof copySamples>;
  framesRead: number;
}

/**
 * The copy's start, decoded once per format (frame rate and detection size) as the windows
 * are asked for, in order; only the current window of each format is kept.
 */
class CopyWindows {
  private readonly readers = new Map<
    string,
    { frames: AsyncGenerator<RawFrame>; index: number; window: CopyWindow }
  >();

  constructor(
    private readonly suspect: string,
    private readonly signal?: AbortSignal,
  ) {}

  async window(format: JobSignature, index: number): Promise<CopyWindow> {
    const key = copyFormatOf(format);
    let reader = this.readers.get(key);
    if (!reader) {
      reader = {
        frames: readFrames(this.suspect, {
          width: format.detectionWidth,
          height: format.detectionHeight,
          grayOnly: true,
          fps: format.frameRate,
        }),
        index: -1,
        window: { frames: [], samples: [], framesRead: 0 },
      };
      this.readers.set(key, reader);
    }
    const limit = Math.round(WINDOW_SECONDS * format.frameRate);
    while (reader.index < index) {
      const frames: BufferedFrame[] = [];
      while (frames.length < limit) {
        this.signal?.throwIfAborted();
        const next = await reader.frames.next();
        if (next.done) break;
        frames.push({ frame: next.value.index, view: next.value.data });
      }
      reader.index++;
      const framesRead = reader.window.framesRead + frames.length;
      reader.window = { frames, samples: copySamples(frames, format), framesRead };
    }
    return reader.window;
  }

  async close(): Promise<void> {
    for (const { frames } of this.readers.values()) await frames.return(undefined);
  }
}
