import { type CropGeometry } from './geometry.js';
import { type DetectionReference } from './reference.js';
import {
  COARSE_CELLS,
  MIN_SIGNATURE_DEVIATION,
  ReferenceMatcher,
  SignatureProjector,
} from './signature-matching.js';

/**
 * Temporal alignment of a suspect with the original: the searches of the time line original =
 * offset + rate x suspect frame, on the signatures of signature-matching.ts. A coarse search
 * over every offset (`coarseSearch`), a fine one with full signatures and crop hypotheses
 * (`fineSearch`), and a polish of offset and rate (`polishLock`), all scored by `LineScorer`.
 */

/** One suspect frame picked for the global search. */
export interface SearchSample {
  /** Frame number in the suspect (at the reference's frame rate). */
  frame: number;
  /** Its normalised coarse signature. */
  coarse: Float32Array;
}

/** Frame-rate ratios (original frames per suspect frame) the global search tries. */
export const SEARCH_RATES = [1, 24 / 25, 25 / 24];

export interface TimeCandidate {
  /** Original frame = offset + rate * suspect frame. */
  offset: number;
  rate: number;
  score: number;
}

/**
 * Added to a coarse score per share of the samples inside the original: between times that
 * correlate alike (a still picture correlates alike everywhere), those that keep the whole
 * window inside the original rank first, instead of lines hanging over its start or end.
 * Small beside real differences of correlation (0.3 vs 0.99), larger than compression noise.
 */
const COVERAGE_BONUS = 0.01;

/**
 * Global search of the offset for each rate: the mean correlation of the samples' coarse
 * signatures with the reference at offset + rate * frame (plus COVERAGE_BONUS per share of
 * samples inside), for every offset that keeps at least half the samples inside the original.
 * Returns the best local maxima, best first, at least `separation` frames apart for a given
 * rate. O(reference frames x samples x 12) per rate.
 */
export function coarseSearch(
  table: Float32Array,
  frameCount: number,
  samples: SearchSample[],
  maxCandidates: number,
  separation: number,
  rates: number[] = SEARCH_RATES,
): TimeCandidate[] {
  if (samples.length === 0 || frameCount === 0) return [];
  const first = samples[0].frame;
  const candidates: TimeCandidate[] = [];
  for (const rate of rates) {
    // Original frame of sample i = start + shift[i], start = offset + rate * first.
    const shifts = Int32Array.from(samples, (sample) => Math.round(rate * (sample.frame - first)));
    const span = shifts[shifts.length - 1];
    const lowest = -Math.floor(span / 2);
    const highest = frameCount - 1 - Math.ceil(span / 2);
    if (highest < lowest) continue;
    const sums = new Float64Array(highest - lowest + 1);
    const counts = new Int32Array(highest - lowest + 1);
    for (let i = 0; i < samples.length; i++) {
      // Starts for which this sample lands inside the reference.
      const from = Math.max(lowest, -shifts[i]);
      const to = Math.min(highest, frameCount - 1 - shifts[i]);
      accumulateSample(table, samples[i].coarse, shifts[i], from, to, lowest, sums, counts);
    }
    const scores = new Float64Array(sums.length);
    const minimumCount = samples.length / 2;
    for (let s = 0; s < sums.length; s++) {
      scores[s] =
        counts[s] >= minimumCount
          ? sums[s] / (counts[s] * COARSE_CELLS) + (COVERAGE_BONUS * counts[s]) / samples.length
          : -1;
    }
    for (const index of localMaxima(scores, separation, maxCandidates)) {
      candidates.push({ offset: lowest + index - rate * first, rate, score: scores[index] });
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  return candidates.slice(0, maxCandidates);
}

/**
 * Adds one sample's coarse correlation with the reference at every start in [from, to]. A small
 * function of its own: the JIT optimises it once, instead of re-optimising the whole search.
 */
function accumulateSample(
  table: Float32Array,
  coarse: Float32Array,
  shift: number,
  from: number,
  to: number,
  lowest: number,
  sums: Float64Array,
  counts: Int32Array,
): void {
  for (let start = from; start <= to; start++) {
    const row = (start + shift) * COARSE_CELLS;
    let dot = 0;
    for (let c = 0; c < COARSE_CELLS; c++) dot += coarse[c] * table[row + c];
    sums[start - lowest] += dot;
    counts[start - lowest]++;
  }
}

/** Indexes of the highest values, best first, no two closer than `separation`. */
function localMaxima(scores: Float64Array, separation: number, count: number): number[] {
  const order = Array.from(scores.keys()).filter((i) => scores[i] > -1);
  order.sort((a, b) => scores[b] - scores[a]);
  const picked: number[] = [];
  for (const index of order) {
    if (picked.length >= count) break;
    if (picked.every((other) => Math.abs(other - index) >= separation)) picked.push(index);
  }
  return picked;
}

/** A suspect frame kept for the fine search: its view and its frame number. */
export interface BufferedFrame {
  frame: number;
  view: Uint8Array;
}

export interface TimeLock {
  offset: number;
  rate: number;
  geometry: CropGeometry;
  /** Match quality of the samples on this line, in [0, 1] (see LineScorer). */
  score: number;
  /** Mean signature correlation of the samples that match (correlation ≥ 0.5). */
  correlation: number;
  /** Samples that match. */
  inliers: number;
  /** Best score of a candidate at least `separation` frames away: how ambiguous the lock is. */
  runnerUp: number;
  /**
   * Placed by the mark where the signatures cannot place the window (frames too flat to match,
   * see placeFlatByMark; a picture whose signatures no longer tell times apart, see
   * placeOnLine): tracking follows the line from the start, and through the window's frames up
   * to this copy frame whether they match or not.
   */
  followsUntil?: number;
}

/** A search's lock, the frames it was scored on, and the candidates it was chosen among. */
export interface SearchedLock {
  lock: TimeLock;
  samples: BufferedFrame[];
  candidates: TimeCandidate[];
}

/** Correlations at or below this count as no match at all; 1 as a perfect one. */
const MATCH_FLOOR = 0.5;

/**
 * Scores a time line (original = offset + rate x copy frame) for one geometry on sampled copy
 * frames. Each informative sample contributes max(0, (c - 0.5) / 0.5) for its signature
 * correlation c, and the sum is divided by the number of samples, wherever they map: frames
 * of something else (an intro, an insert) count as misses instead of being pushed outside the
 * original to raise an average. For a copy entirely of the original it is 2 x mean c - 1.
 */
export class LineScorer {
  readonly samples: number;
  private readonly signatures: Float32Array[] = [];
  private readonly frames: number[] = [];
  private readonly matcher: ReferenceMatcher;
  private readonly frameCount: number;

  constructor(
    reference: DetectionReference,
    frames: BufferedFrame[],
    readonly geometry: CropGeometry,
  ) {
    const projector = new SignatureProjector(reference, geometry);
    this.matcher = new ReferenceMatcher(reference, projector.cells);
    this.frameCount = reference.frameCount;
    const signatureSize = reference.signatureWidth * reference.signatureHeight;
    // A geometry that keeps under a quarter of the cells is not worth scoring.
    if (projector.cells.length >= signatureSize / 4) {
      for (const { frame, view } of frames) {
        const signature = new Float32Array(projector.cells.length);
        if (projector.normalizedSignature(view, signature) < MIN_SIGNATURE_DEVIATION) continue;
        this.signatures.push(signature);
        this.frames.push(frame);
      }
    }
    this.samples = this.signatures.length;
  }

  /** The frame in the middle of the samples (rate changes pivot around it). */
  get middleFrame(): number {
    return this.frames[this.frames.length >> 1] ?? 0;
  }

  score(offset: number, rate: number): TimeLock {
    let quality = 0;
    let correlationSum = 0;
    let inliers = 0;
    for (let i = 0; i < this.samples; i++) {
      const original = Math.round(offset + rate * this.frames[i]);
      if (original < 0 || original >= this.frameCount) continue;
      const correlation = this.matcher.correlate(this.signatures[i], original);
      if (correlation <= MATCH_FLOOR) continue;
      quality += (correlation - MATCH_FLOOR) / (1 - MATCH_FLOOR);
      correlationSum += correlation;
      inliers++;
    }
    return {
      offset,
      rate,
      geometry: this.geometry,
      score: this.samples > 0 ? quality / this.samples : 0,
      correlation: inliers > 0 ? correlationSum / inliers : 0,
      inliers,
      runnerUp: -1,
    };
  }
}

/** Half-width (frames) of the fine offset search around each coarse candidate. */
const FINE_RADIUS = 3;

/**
 * Refines coarse candidates with full signatures for each geometry hypothesis (and offsets
 * within FINE_RADIUS frames): the best (offset, rate, geometry), with the best score found at
 * least `separation` frames away as its runner-up. Null when nothing could be scored.
 */
export function fineSearch(
  reference: DetectionReference,
  frames: BufferedFrame[],
  candidates: TimeCandidate[],
  geometries: CropGeometry[],
  separation: number,
): TimeLock | null {
  const results: TimeLock[] = [];
  for (const geometry of geometries) {
    results.push(...refineCandidates(new LineScorer(reference, frames, geometry), candidates));
  }
  if (results.length === 0) return null;
  results.sort((a, b) => b.score - a.score);
  const lock = results[0];
  return { ...lock, runnerUp: rivalScore(results, lock, frames, separation) };
}

/**
 * The lock's runner-up measured again under its own geometry: the best of the candidates it
 * was chosen among, at least `separation` frames away. Needed once the geometry is refined on
 * the lock, which raises the lock's score: rivals scored under the rough search geometry
 * would look clearly worse, and a picture that repeats (a test card whose moving parts loop
 * every 12 s) would lock on whichever repeat the search happened to refine.
 */
export function rescoreRunnerUp(
  reference: DetectionReference,
  frames: BufferedFrame[],
  candidates: TimeCandidate[],
  lock: TimeLock,
  separation: number,
): TimeLock {
  const results = refineCandidates(new LineScorer(reference, frames, lock.geometry), candidates);
  return { ...lock, runnerUp: rivalScore(results, lock, frames, separation) };
}

/** Each candidate's best score under `scorer` within FINE_RADIUS frames of its offset. */
function refineCandidates(scorer: LineScorer, candidates: TimeCandidate[]): TimeLock[] {
  if (scorer.samples === 0) return [];
  return candidates.map((candidate) => {
    let best = scorer.score(candidate.offset - FINE_RADIUS, candidate.rate);
    for (let delta = 1 - FINE_RADIUS; delta <= FINE_RADIUS; delta++) {
      const result = scorer.score(candidate.offset + delta, candidate.rate);
      if (result.score > best.score) best = result;
    }
    return best;
  });
}

/**
 * The best score among `results` at another place than `lock` (-1 if none): the place of a
 * line is the original frame its middle frame maps to (lines of different rates through the
 * same place cross there), another place at least `separation` frames from the lock's.
 */
function rivalScore(
  results: TimeLock[],
  lock: TimeLock,
  frames: BufferedFrame[],
  separation: number,
): number {
  const anchor = frames[frames.length >> 1].frame;
  const lockPlace = lock.offset + lock.rate * anchor;
  let rival = -1;
  for (const result of results) {
    const far = Math.abs(result.offset + result.rate * anchor - lockPlace) >= separation;
    if (far && result.score > rival) rival = result.score;
  }
  return rival;
}

/** Rate steps of the polish (ratio units) and how many of them it may take each way. */
const RATE_STEP = 0.002;
const MAX_RATE_STEPS = 25;

/**
 * Polishes a lock's time mapping for its geometry: for each searched rate (and the lock's), the
 * offset is hill-climbed one frame at a time (at most `maxSteps` each way), keeping the middle
 * sample on the same original frame when the rate changes; then the best rate is hill-climbed
 * in small steps (speed changes outside SEARCH_RATES). Needed because a crop looks like a zoom
 * and a pan like motion: under a wrong geometry the coarse optimum sits a few frames or a
 * rate off, and the geometry estimated there is off too; alternating both converges.
 * The runner-up is kept as it was.
 */
export function polishLock(
  reference: DetectionReference,
  frames: BufferedFrame[],
  lock: TimeLock,
  maxSteps: number,
  rates: number[] = SEARCH_RATES,
): TimeLock {
  const scorer = new LineScorer(reference, frames, lock.geometry);
  if (scorer.samples === 0) return lock;
  const middle = scorer.middleFrame;
  /** Same middle frame, new rate; then the offset climbs. */
  const climbOffset = (from: TimeLock, rate: number): TimeLock => {
    let best = scorer.score(from.offset + (from.rate - rate) * middle, rate);
    for (const direction of [-1, 1]) {
      for (let step = 0; step < maxSteps; step++) {
        const next = scorer.score(best.offset + direction, rate);
        if (!(next.score > best.score)) break;
        best = next;
      }
    }
    return best;
  };

  let best = climbOffset(lock, lock.rate);
  for (const rate of rates) {
    if (rate === lock.rate) continue;
    const candidate = climbOffset(lock, rate);
    if (candidate.score > best.score) best = candidate;
  }
  for (const direction of [-1, 1]) {
    for (let step = 0; step < MAX_RATE_STEPS; step++) {
      const next = climbOffset(best, best.rate + direction * RATE_STEP);
      if (!(next.score > best.score)) break;
      best = next;
    }
  }
  return { ...best, runnerUp: lock.runnerUp };
}
