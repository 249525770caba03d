import { type BufferedFrame, LineScorer, type TimeLock } from './align.js';
import { type CropGeometry } from './geometry.js';
import { SegmentAccumulator, SegmentCorrelator } from './segment-correlation.js';
import { isRivalOf } from './lock-rules.js';
import { type KeyMaterial } from './prng.js';
import { type DetectionReference } from './reference.js';
import { rootOfIncreasing } from './roots.js';
import { MIN_SIGNATURE_DEVIATION, normalizeInPlace } from './signature-matching.js';

/**
 * Placing by the mark: over n segments of the window, the mean (amplitude / noise)² must be
 * one that chance reaches with probability at most MARK_CHANCE (`markEnergyThreshold`: 20
 * over 2 segments, 6 over 10, 2.6 over 50), and at least `rivalRatio(n)` times the best
 * placement a segment or more away: 4 up to MAX_MARK_SEGMENTS segments, then less (1.75 over
 * 48), since a mean over more segments strays less from its expectation (about 1 where no
 * mark is). A wrong placement could only lose the pirate, never accuse an innocent, whose
 * codeword is independent of any placement.
 */
const MARK_CHANCE = 1e-7;
const MARK_RIVAL_RATIO = 4;
const MIN_MARK_SEGMENTS = 2;
/** Rates this close to 1 are the original's speed (0.1 %: a frame in 40 s). */
const SAME_RATE = 0.001;
/** Segments of a search window scored per placement: plenty of evidence, bounded cost. */
export const MAX_MARK_SEGMENTS = 12;

function rivalRatio(segments: number): number {
  return 1 + (MARK_RIVAL_RATIO - 1) * Math.min(1, MAX_MARK_SEGMENTS / segments);
}

/** A placement's mean (amplitude / noise)² and the segments it was measured on. */
interface MarkEnergy {
  energy: number;
  segments: number;
}

/** The rule of placing by the mark (above): strong, and clearly ahead of the best `rival`. */
function passesMarkRule({ energy, segments }: MarkEnergy, rival: number): boolean {
  return energy >= markEnergyThreshold(segments) && energy >= rivalRatio(segments) * rival;
}

/**
 * Places a window whose picture matches the original at many times (a test card, a slide, a
 * long still shot: the signatures cannot tell those times apart) by the mark itself. Every
 * segment of the original carries a pattern of its own, so the buffered frames project
 * strongly on their segments' patterns only when the segment boundaries fall where they
 * were embedded. The times the signatures cannot rule out (at the lock's speed) are
 * scored by the mean (amplitude / noise)² of their segments, then the best is refined frame
 * by frame; it must be strong and clearly ahead of any placement a segment away (see
 * MARK_CHANCE). An unmarked copy stays unplaced. `maxSegments`: segments scored per placement
 * (more for a window gathered over several searches).
 */
export function placeByMark(
  reference: DetectionReference,
  key: KeyMaterial,
  buffer: BufferedFrame[],
  lock: TimeLock,
  samples: BufferedFrame[],
  maxSegments = MAX_MARK_SEGMENTS,
): TimeLock | null {
  const scorer = new LineScorer(reference, samples, lock.geometry);
  // A still picture matches at any speed, so the lock's rate may be anything: the original's
  // speed is tried too, and the mark tells which holds.
  const rates = Math.abs(lock.rate - 1) > SAME_RATE ? [1, lock.rate] : [1];
  const energyOf = new PlacementEnergy(reference, key, buffer, lock.geometry, maxSegments);
  let best: { offset: number; energy: number; rate: number } | null = null;
  for (const rate of rates) {
    const placed = placeAmong(
      reference,
      energyOf,
      rate,
      (offset) => scorer.score(offset, rate).score,
      (score) => isRivalOf({ score }, lock),
    );
    if (placed && !(best && best.energy >= placed.energy)) best = { ...placed, rate };
  }
  return best && { ...scorer.score(best.offset, best.rate), runnerUp: lock.runnerUp };
}

/** Share of a flat window that must fall on flat frames of the original for a placement. */
const FLAT_SHARE = 0.8;

/**
 * Places a window too flat to match by its signatures (a plain excerpt of a stretch where
 * the original fades to one colour) by the mark, among the times where the original is flat
 * too (`flatFrames`: per original frame, 1 when its signature is flat). The copy is assumed
 * at the original's speed and under `geometry` (the identity before a first lock: nothing
 * in a flat picture can tell a crop). Tracking then follows the line from the lock on.
 */
export function placeFlatByMark(
  reference: DetectionReference,
  key: KeyMaterial,
  window: BufferedFrame[],
  geometry: CropGeometry,
  flatFrames: FlatFrames,
): TimeLock | null {
  const first = window[0].frame;
  const span = window[window.length - 1].frame - first + 1;
  const placed = placeAmong(
    reference,
    new PlacementEnergy(reference, key, window, geometry, MAX_MARK_SEGMENTS),
    1,
    (offset) => flatFrames.within(offset + first, span) / span,
    (share) => share >= FLAT_SHARE,
  );
  if (placed === null) return null;
  return placedByMarkOnly(window, placed.offset, 1, geometry);
}

/**
 * Places a window on `line` (original = offset + rate x copy frame), the line tracking
 * followed until the signatures could no longer tell times apart (a picture whose detail
 * became finer than the signature cells under the copy's geometry: the end of a fractal
 * zoom): within half a segment of it, by the mark, under the rule of placeByMark against the
 * placements a segment before and after. Null when the copy left the line (a cut).
 */
export function placeOnLine(
  reference: DetectionReference,
  key: KeyMaterial,
  window: BufferedFrame[],
  line: Pick<TimeLock, 'offset' | 'rate'>,
  geometry: CropGeometry,
): TimeLock | null {
  const energyOf = new PlacementEnergy(reference, key, window, geometry, MAX_MARK_SEGMENTS);
  const segmentFrames = reference.framesPerSegment;
  const { rate } = line;
  // The copy may have slipped off the line (dropped frames, a rate a hair off): up to half a
  // segment either way, short of the rivals a segment away.
  const radius = Math.floor(segmentFrames / 2);
  let best = { offset: line.offset, energy: -Infinity, segments: 0 };
  for (let shift = -radius; shift <= radius; shift++) {
    const offset = line.offset + shift;
    const placement = energyOf.at(offset, rate);
    if (placement.energy > best.energy) best = { offset, ...placement };
  }
  const rival = Math.max(
    energyOf.at(best.offset - segmentFrames, rate).energy,
    energyOf.at(best.offset + segmentFrames, rate).energy,
  );
  return passesMarkRule(best, rival) ? placedByMarkOnly(window, best.offset, rate, geometry) : null;
}

/** A lock the mark placed on `window`: tracking follows its line through the window. */
function placedByMarkOnly(
  window: BufferedFrame[],
  offset: number,
  rate: number,
  geometry: CropGeometry,
): TimeLock {
  const unmatched = { score: 0, correlation: 0, inliers: 0, runnerUp: -1 };
  return { offset, rate, geometry, ...unmatched, followsUntil: window[window.length - 1].frame };
}

/** Which frames of the original have a flat signature, counted over any run of frames. */
export class FlatFrames {
  /** Entry k: flat frames among frames 0..k-1. */
  private readonly counts: Int32Array;

  constructor(reference: DetectionReference) {
    const size = reference.signatureWidth * reference.signatureHeight;
    const signature = new Float32Array(size);
    this.counts = new Int32Array(reference.frameCount + 1);
    for (let frame = 0; frame < reference.frameCount; frame++) {
      signature.set(reference.signatures.subarray(frame * size, (frame + 1) * size));
      const flat = normalizeInPlace(signature, size) < MIN_SIGNATURE_DEVIATION ? 1 : 0;
      this.counts[frame + 1] = this.counts[frame] + flat;
    }
  }

  /** Flat frames of the original among frames from..from+length-1 (outside it: none). */
  within(from: number, length: number): number {
    const last = this.counts.length - 1;
    const clamp = (frame: number): number => Math.min(last, Math.max(0, frame));
    return this.counts[clamp(from + length)] - this.counts[clamp(from)];
  }
}

/**
 * The placement (offset, at the copy's `rate`), and its energy, that the mark picks among
 * the times whose signature score (`scoreAt`) is `plausible`: the mark's energy is measured
 * at each local peak of the score and every half segment along a plateau, the best refined
 * frame by frame; null unless strong and well ahead of any placement a segment away (see
 * MARK_CHANCE).
 */
function placeAmong(
  reference: DetectionReference,
  energyOf: PlacementEnergy,
  rate: number,
  scoreAt: (offset: number) => number,
  plausible: (score: number) => boolean,
): { offset: number; energy: number } | null {
  const segmentFrames = reference.framesPerSegment;
  const { buffer } = energyOf;
  const energies = new Map<number, MarkEnergy>();
  const placementAt = (offset: number): MarkEnergy => {
    let placement = energies.get(offset);
    if (placement === undefined) {
      placement = energyOf.at(offset, rate);
      energies.set(offset, placement);
    }
    return placement;
  };
  const energyAt = (offset: number): number => placementAt(offset).energy;

  // The score of every time whose window keeps a frame inside the original, then the mark's
  // energy at the plausible ones: at each local peak, and every half segment along a plateau
  // (a perfectly still shot, a flat stretch).
  const first = Math.floor(rate * buffer[0].frame);
  const lowest = -Math.ceil(rate * buffer[buffer.length - 1].frame);
  const scores = new Float64Array(reference.frameCount - first - lowest);
  for (let i = 0; i < scores.length; i++) scores[i] = scoreAt(lowest + i);
  const step = Math.max(1, Math.floor(segmentFrames / 2));
  let best = Number.NaN;
  let lastEvaluated = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (!plausible(scores[i])) continue;
    // A peak rises above a neighbour; a plateau (a still picture) is sampled by `step`.
    const before = scores[i - 1]; // undefined at the ends: compares false
    const here = scores[i];
    const after = scores[i + 1];
    const peak = !(before > here) && !(after > here) && (before < here || after < here);
    if (!peak && i - lastEvaluated < step) continue;
    lastEvaluated = i;
    const offset = lowest + i;
    if (Number.isNaN(best) || energyAt(offset) > energyAt(best)) best = offset;
  }
  if (Number.isNaN(best)) return null;
  const coarseBest = best;
  for (let offset = coarseBest - step + 1; offset < coarseBest + step; offset++) {
    if (energyAt(offset) > energyAt(best)) best = offset;
  }
  let rival = 0;
  for (const [offset, placement] of energies) {
    if (Math.abs(offset - best) >= segmentFrames && placement.energy > rival) {
      rival = placement.energy;
    }
  }
  const placement = placementAt(best);
  return passesMarkRule(placement, rival) ? { offset: best, energy: placement.energy } : null;
}

/**
 * Mean (amplitude / noise)² of the buffered frames' segments under original = offset + rate x
 * copy frame (rounded), over the first `maxSegments` segments seen for at least half their
 * length; 0 when fewer than MIN_MARK_SEGMENTS are. The buffer's running view sums, made once
 * for every placement and rate, make a segment's view sum cost one subtraction whatever its
 * length.
 */
class PlacementEnergy {
  private readonly viewSize: number;
  private readonly signatureSize: number;
  private readonly correlator: SegmentCorrelator;
  private readonly accumulator: SegmentAccumulator;
  private readonly viewSums: Float32Array;

  constructor(
    private readonly reference: DetectionReference,
    key: KeyMaterial,
    readonly buffer: BufferedFrame[],
    geometry: CropGeometry,
    private readonly maxSegments: number,
  ) {
    this.viewSize = reference.detectionWidth * reference.detectionHeight;
    this.signatureSize = reference.signatureWidth * reference.signatureHeight;
    this.correlator = new SegmentCorrelator(reference, key, geometry);
    this.accumulator = new SegmentAccumulator(this.viewSize, this.signatureSize);
    this.viewSums = runningViewSums(buffer, this.viewSize);
  }

  at(offset: number, rate: number): MarkEnergy {
    const { framesPerSegment, frameCount, signatures } = this.reference;
    const { buffer, viewSums, viewSize, signatureSize, correlator, accumulator } = this;
    const originalOf = (i: number): number => Math.round(offset + rate * buffer[i].frame);
    // Each placement is its own sequence of segments (see NoiseHistory).
    correlator.forget();
    let sum = 0;
    let segments = 0;
    let segment = -1;
    let runStart = 0;
    /** Observes buffer[runStart, runEnd), the frames that fall in `segment`. */
    const closeRun = (runEnd: number): void => {
      const frames = runEnd - runStart;
      if (segment < 0 || 2 * frames < framesPerSegment) return;
      accumulator.reset(segment);
      const { viewSum, signatureSum } = accumulator;
      const from = runStart * viewSize;
      const to = runEnd * viewSize;
      for (let p = 0; p < viewSize; p++) viewSum[p] = viewSums[to + p] - viewSums[from + p];
      for (let i = runStart; i < runEnd; i++) {
        const base = originalOf(i) * signatureSize;
        for (let c = 0; c < signatureSize; c++) signatureSum[c] += signatures[base + c];
      }
      accumulator.frames = frames;
      const observation = correlator.observe(accumulator);
      if (!observation || !(observation.noiseVariance > 0)) return;
      sum += (observation.amplitude * observation.amplitude) / observation.noiseVariance;
      segments++;
    };
    for (let i = 0; i < buffer.length; i++) {
      const original = originalOf(i);
      const inside = original >= 0 && original < frameCount;
      const frameSegment = inside ? Math.floor(original / framesPerSegment) : -1;
      if (frameSegment === segment) continue;
      closeRun(i);
      if (segments === this.maxSegments) break;
      segment = frameSegment;
      runStart = i;
    }
    if (segments < this.maxSegments) closeRun(buffer.length);
    return { energy: segments >= MIN_MARK_SEGMENTS ? sum / segments : 0, segments };
  }
}

/**
 * Running sums of the buffered views: entry k (viewSize values) is the sum of views 0..k-1.
 * Float32 is exact here: the sums are integers below 2^24 (255 x a 180 s window of frames).
 */
function runningViewSums(buffer: BufferedFrame[], viewSize: number): Float32Array {
  const sums = new Float32Array((buffer.length + 1) * viewSize);
  for (let i = 0; i < buffer.length; i++) {
    const { view } = buffer[i];
    const from = i * viewSize;
    const to = from + viewSize;
    for (let p = 0; p < viewSize; p++) sums[to + p] = sums[from + p] + view[p];
  }
  return sums;
}

/**
 * The mean (amplitude / noise)² over `segments` segments that chance (no mark, or the wrong
 * place) reaches with probability at most MARK_CHANCE. There each segment's value is about χ²
 * with one degree of freedom, and the Chernoff bound P(χ²_n ≥ n E) ≤ (E e^(1 − E))^(n / 2)
 * gives E from (n / 2)(E − 1 − ln E) = ln(1 / MARK_CHANCE).
 */
function markEnergyThreshold(segments: number): number {
  const target = (2 * Math.log(1 / MARK_CHANCE)) / segments;
  // E − 1 − ln E increases from 0 at E = 1.
  return rootOfIncreasing((energy) => energy - 1 - Math.log(energy) - target, 1, 2);
}
