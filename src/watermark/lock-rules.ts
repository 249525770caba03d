import { type TimeLock } from './align.js';

/**
 * When a search has found the original's time line, and when a frame matches under it.
 *
 * Lock rule, on the samples of the search window (see LineScorer for the score):
 * - score ≥ MIN_LOCK_SCORE: a good part of the window matches the line (a window may still
 *   start with something else);
 * - the matching samples correlate at MIN_LOCK_CORRELATION or more on average: another video
 *   stays below 0.5 (0.45 for another zoom of the same fractal), a copy of the original, even
 *   cropped and heavily compressed, above 0.98;
 * - the best line one second or more away is clearly worse: its distance to a perfect score
 *   (1 - score) at least LOCK_DISTANCE_RATIO times the lock's plus LOCK_DISTANCE_MARGIN (a
 *   relative rule, because in slow pictures neighbours one second away also match well), or,
 *   for a window only partly of the original, a score under LOCK_RIVAL_SHARE of the lock's.
 */
const MIN_LOCK_SCORE = 0.3;
const MIN_LOCK_CORRELATION = 0.9;
const LOCK_DISTANCE_RATIO = 1.5;
const LOCK_DISTANCE_MARGIN = 0.004;
/** Or, when only part of the window matches: the rival scores at most this share of the lock. */
const LOCK_RIVAL_SHARE = 0.7;
/** The fewest informative copy frames worth a search (and matching a lock). */
export const MIN_SEARCH_SAMPLES = 8;
/**
 * A frame matches when its correlation reaches max(MIN_MATCH, MATCH_FRACTION x the lock's
 * correlation).
 */
const MIN_MATCH = 0.35;
const MATCH_FRACTION = 0.6;

/** The window shows the original's picture (see MIN_LOCK_SCORE). */
export function matchesPicture(lock: TimeLock): boolean {
  return (
    lock.score >= MIN_LOCK_SCORE &&
    lock.correlation >= MIN_LOCK_CORRELATION &&
    lock.inliers >= MIN_SEARCH_SAMPLES
  );
}

/** No time a second or more away matches nearly as well (see MIN_LOCK_SCORE). */
export function isUnique(lock: TimeLock): boolean {
  return !isRivalOf({ score: lock.runnerUp }, lock);
}

export function isRivalOf(candidate: Pick<TimeLock, 'score'>, lock: TimeLock): boolean {
  return (
    1 - candidate.score < LOCK_DISTANCE_RATIO * (1 - lock.score) + LOCK_DISTANCE_MARGIN &&
    candidate.score > LOCK_RIVAL_SHARE * lock.score
  );
}

/** The correlation a frame needs to match under `lock` (see MIN_MATCH). */
export function matchThreshold(lock: TimeLock): number {
  return Math.max(MIN_MATCH, MATCH_FRACTION * lock.correlation);
}
