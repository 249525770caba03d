import { type BufferedFrame, type TimeLock } from './align.js';
import { type DecodedStart } from './detector.js';
import { copyFormatOf, copySamples, type JobSignature, signatureScore } from './job-signature.js';
import { LockSearch } from './lock-search.js';
import { type MediaInfo, probeMedia } from './media.js';
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

export interface FoundOriginals {
  /** Best first; none → []. */
  found: FoundOriginal[];
  /**
   * What was decoded of the copy for the first one, for its extraction to go on from (see
   * extractSoftBits): the decoder is paused, and must be closed (`rest.return()`) by whoever
   * holds it, used or not. Null when nothing was found.
   */
  start: DecodedStart | null;
}

/**
 * Which candidate originals a copy comes from, in two stages per 10 s window of the copy's
 * start (up to 40 s, until one locks). First every candidate's job signature ranks it by the
 * coarse search of the alignment (one pass over a few bytes per second of its original);
 * then the full lock search of the alignment (the rules that confirm a lock: good and unique
 * in time) runs on the best few only. Returns every confirmed candidate that matches as well
 * as the best one (copies of one original: the picture cannot tell them apart), best first,
 * and the decoded start of the copy for the extraction against the first: finding the job
 * then costs a backtrace only what its extraction would not have done anyway.
 */
export async function findOriginals(
  suspect: string,
  candidates: OriginalCandidate[],
  signal?: AbortSignal,
): Promise<FoundOriginals> {
  const copy = new CopyWindows(suspect, signal);
  try {
    for (let index = 0; index * WINDOW_SECONDS < SEARCHED_SECONDS; index++) {
      const ranked = await rankBySignature(copy, index, candidates, signal);
      if (ranked === null) break;
      const located = await confirmByLock(copy, index, ranked, signal);
      if (located.length === 0) continue;
      const [best] = located;
      // A lock on the first window is on the copy's first frames: the extraction starts on it.
      const start = await copy.handOver(best.format, index === 0 ? best.lock : null);
      return {
        found: located.map(({ id, correlation, framesRead }) => ({ id, correlation, framesRead })),
        start,
      };
    }
    return { found: [], start: null };
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

/** A confirmed candidate, with its lock and the copy format it was found in. */
interface Located extends FoundOriginal {
  lock: TimeLock;
  format: JobSignature;
}

/** Second stage: the full lock search on the best ranks of window `index`. */
async function confirmByLock(
  copy: CopyWindows,
  index: number,
  ranked: Ranked[],
  signal?: AbortSignal,
): Promise<Located[]> {
  const best = ranked[0]?.score ?? -1;
  /** First-stage score of the first candidate that locked. */
  let lockedScore: number | null = null;
  const locked: Located[] = [];
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
    const reference = await candidate.reference();
    // The copy was decoded as the signature says: its reference must agree to be searched.
    if (copyFormatOf(reference) !== copyFormatOf(format)) continue;
    const search = new LockSearch(reference, candidate.key);
    for (const frame of window.frames) search.hold(frame);
    const found = search.finish(null);
    if (found) {
      lockedScore ??= score;
      locked.push({
        id: candidate.id,
        correlation: found.lock.correlation,
        framesRead: window.framesRead,
        lock: found.lock,
        format,
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

interface CopyReader {
  frames: AsyncGenerator<RawFrame>;
  /** Every frame decoded so far, from the copy's first (64x36 luma: 2.3 kB a frame). */
  decoded: BufferedFrame[];
  index: number;
  window: CopyWindow;
}

/**
 * The copy's start, probed once and decoded once per format (frame rate and detection size)
 * as the windows are asked for, in order; the decoded frames are kept to hand over.
 */
class CopyWindows {
  private readonly readers = new Map<string, CopyReader>();
  private info: Promise<MediaInfo> | null = null;

  constructor(
    private readonly suspect: string,
    private readonly signal?: AbortSignal,
  ) {}

  async window(format: JobSignature, index: number): Promise<CopyWindow> {
    const reader = await this.readerOf(format);
    const limit = Math.round(WINDOW_SECONDS * format.frameRate);
    while (reader.index < index) {
      const frames: BufferedFrame[] = [];
      while (frames.length < limit) {
        this.signal?.throwIfAborted();
        const next = await reader.frames.next();
        if (next.done) break;
        frames.push({ frame: next.value.index, view: next.value.data });
      }
      reader.decoded.push(...frames);
      reader.index++;
      const framesRead = reader.window.framesRead + frames.length;
      reader.window = { frames, samples: copySamples(frames, format), framesRead };
    }
    return reader.window;
  }

  /** The probe, the frames decoded in `format` and its paused decoder, no longer closed here. */
  async handOver(format: JobSignature, lock: TimeLock | null): Promise<DecodedStart> {
    const key = copyFormatOf(format);
    const reader = await this.readerOf(format);
    this.readers.delete(key);
    return { info: await this.probe(), frames: reader.decoded, rest: reader.frames, lock };
  }

  async close(): Promise<void> {
    for (const { frames } of this.readers.values()) await frames.return(undefined);
  }

  private probe(): Promise<MediaInfo> {
    return (this.info ??= probeMedia(this.suspect));
  }

  private async readerOf(format: JobSignature): Promise<CopyReader> {
    const key = copyFormatOf(format);
    let reader = this.readers.get(key);
    if (!reader) {
      const frames = readFrames(this.suspect, {
        width: format.detectionWidth,
        height: format.detectionHeight,
        grayOnly: true,
        fps: format.frameRate,
        info: await this.probe(),
      });
      reader = {
        frames,
        decoded: [],
        index: -1,
        window: { frames: [], samples: [], framesRead: 0 },
      };
      this.readers.set(key, reader);
    }
    return reader;
  }
}
