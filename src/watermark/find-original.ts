import { type BufferedFrame } from './align.js';
import { LockSearch } from './lock-search.js';
import { readFrames } from './media-frames.js';
import { type KeyMaterial } from './prng.js';
import { type DetectionReference } from './reference.js';

/** Seconds from the start of a copy searched for each candidate original: a few search windows. */
const SEARCHED_SECONDS = 40;

export interface OriginalCandidate {
  id: string;
  reference: DetectionReference;
  key: KeyMaterial;
}

export interface FoundOriginal {
  id: string;
  /** Mean signature correlation of the lock (see lock-rules.ts). */
  correlation: number;
  /** Copy frames decoded to find it. */
  framesRead: number;
}

/**
 * Which candidate original a copy comes from, by the alignment's own global search: the first
 * seconds of the copy are decoded once (per frame rate and detection size among the candidates)
 * and searched against each candidate's signatures, with the same rules that confirm a lock
 * (a match that is good and unique in time). Of several matches the best correlation wins;
 * none → null.
 */
export async function findOriginal(
  suspect: string,
  candidates: OriginalCandidate[],
  signal?: AbortSignal,
): Promise<FoundOriginal | null> {
  const groups = new Map<string, OriginalCandidate[]>();
  for (const candidate of candidates) {
    const { frameRate, detectionWidth, detectionHeight } = candidate.reference;
    const key = `${frameRate}:${detectionWidth}x${detectionHeight}`;
    groups.set(key, [...(groups.get(key) ?? []), candidate]);
  }
  let best: FoundOriginal | null = null;
  for (const group of groups.values()) {
    const frames = await openingFrames(suspect, group[0].reference, signal);
    for (const candidate of group) {
      signal?.throwIfAborted();
      const correlation = lockCorrelation(candidate, frames);
      if (correlation !== null && (best === null || correlation > best.correlation)) {
        best = { id: candidate.id, correlation, framesRead: frames.length };
      }
    }
  }
  return best;
}

function lockCorrelation(candidate: OriginalCandidate, frames: BufferedFrame[]): number | null {
  const search = new LockSearch(candidate.reference, candidate.key);
  for (const frame of frames) {
    const found = search.push(frame, null);
    if (found) return found.lock.correlation;
  }
  return search.finish(null)?.lock.correlation ?? null;
}

/** The copy's first SEARCHED_SECONDS as detection views at the reference's frame rate. */
async function openingFrames(
  suspect: string,
  reference: DetectionReference,
  signal?: AbortSignal,
): Promise<BufferedFrame[]> {
  const limit = Math.round(SEARCHED_SECONDS * reference.frameRate);
  const frames: BufferedFrame[] = [];
  for await (const raw of readFrames(suspect, {
    width: reference.detectionWidth,
    height: reference.detectionHeight,
    grayOnly: true,
    fps: reference.frameRate,
  })) {
    signal?.throwIfAborted();
    frames.push({ frame: raw.index, view: raw.data });
    if (frames.length >= limit) break;
  }
  return frames;
}
