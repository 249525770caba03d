import { type BufferedFrame, LineScorer, type TimeLock } from './align.js';
import { SegmentAccumulator, SegmentCorrelator } from './segment-correlation.js';
import { isRivalOf } from './lock-rules.js';
import { type KeyMaterial } from './prng.js';
import { type DetectionReference } from './reference.js';
import { rootOfIncreasing } from './roots.js';

/**
 * Placing by the mark: over n segments of the window, the mean (amplitude / noise)² must be
 * one that chance reaches with probability at most MARK_CHANCE (`markEnergyThreshold`: 20
 * over 2 segments, 6 over 10), and at least MARK_RIVAL_RATIO times the best placement a
 * segment or more away. A wrong placement could only lose the pirate, never accuse an
 * innocent, whose codeword is independent of any placement.
 */
const MARK_CHANCE = 1e-7;
const MARK_RIVAL_RATIO = 4;
const MIN_MARK_SEGMENTS = 2;
/** Segments of the window scored per placement: plenty of evidence, bounded cost. */
const MAX_MARK_SEGMENTS = 12;

/** A placement's mean (amplitude / noise)² and the segments it was measured on. */
interface MarkEnergy {
  energy: number;
  segments: number;
}

/**
 * Places a window whose picture matches the original at many times (a test card, a slide, a
 * long still shot: the signatures cannot tell those times apart) by the mark itself. Every
 * segment of the original carries a pattern of its own, so the buffered frames project
 * strongly on their segments' patterns only when the segment boundaries fall where they
 * were embedded. The times the signatures cannot rule out (at the original's speed) are
 * scored by the mean (amplitude / noise)² of their segments, then the best is refined frame
 * by frame; it must be strong and clearly ahead of any placement a segment away (see
 * MARK_CHANCE). An unmarked copy stays unplaced.
 */
export function placeByMark(
  reference: DetectionReference,
  key: KeyMaterial,
  buffer: BufferedFrame[],
  lock: TimeLock,
  samples: BufferedFrame[],
): TimeLock | null {
  const segmentFrames = reference.framesPerSegment;
  const scorer = new LineScorer(reference, samples, lock.geometry);
  const energyOf = new PlacementEnergy(reference, key, buffer, lock);
  const energies = new Map<number, MarkEnergy>();
  const placementAt = (offset: number): MarkEnergy => {
    let placement = energies.get(offset);
    if (placement === undefined) {
      placement = energyOf.at(offset);
      energies.set(offset, placement);
    }
    return placement;
  };
  const energyAt = (offset: number): number => placementAt(offset).energy;

  // Signature scores of every time, then the mark's energy at the times they cannot rule
  // out: at each local peak, and every half segment along a plateau (a perfectly still shot).
  const first = buffer[0].frame;
  const lowest = -buffer[buffer.length - 1].frame;
  const scores = new Float64Array(reference.frameCount - first - lowest);
  for (let i = 0; i < scores.length; i++) scores[i] = scorer.score(lowest + i, 1).score;
  const step = Math.max(1, Math.floor(segmentFrames / 2));
  let best = Number.NaN;
  let lastEvaluated = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (!isRivalOf({ score: scores[i] }, lock)) continue;
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
  const { energy, segments } = placementAt(best);
  if (!(energy >= markEnergyThreshold(segments) && energy >= MARK_RIVAL_RATIO * rival)) {
    return null;
  }
  return { ...scorer.score(best, 1), runnerUp: lock.runnerUp };
}

/**
 * Mean (amplitude / noise)² of the buffered frames' segments under original = offset + copy
 * frame, over the first MAX_MARK_SEGMENTS segments seen for at least half their length; 0
 * when fewer than MIN_MARK_SEGMENTS are. The buffer's running view sums make a segment's view
 * sum cost one subtraction whatever its length.
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
    private readonly buffer: BufferedFrame[],
    lock: TimeLock,
  ) {
    this.viewSize = reference.detectionWidth * reference.detectionHeight;
    this.signatureSize = reference.signatureWidth * reference.signatureHeight;
    this.correlator = new SegmentCorrelator(reference, key, lock.geometry);
    this.accumulator = new SegmentAccumulator(this.viewSize, this.signatureSize);
    this.viewSums = runningViewSums(buffer, this.viewSize);
  }

  at(offset: number): MarkEnergy {
    const { framesPerSegment, frameCount, signatures } = this.reference;
    const { buffer, viewSums, viewSize, signatureSize, correlator, accumulator } = this;
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
        const base = (offset + buffer[i].frame) * signatureSize;
        for (let c = 0; c < signatureSize; c++) signatureSum[c] += signatures[base + c];
      }
      accumulator.frames = frames;
      const observation = correlator.observe(accumulator);
      if (!observation || !(observation.noiseVariance > 0)) return;
      sum += (observation.amplitude * observation.amplitude) / observation.noiseVariance;
      segments++;
    };
    for (let i = 0; i < buffer.length; i++) {
      const original = offset + buffer[i].frame;
      const inside = original >= 0 && original < frameCount;
      const frameSegment = inside ? Math.floor(original / framesPerSegment) : -1;
      if (frameSegment === segment) continue;
      closeRun(i);
      if (segments === MAX_MARK_SEGMENTS) break;
      segment = frameSegment;
      runStart = i;
    }
    if (segments < MAX_MARK_SEGMENTS) closeRun(buffer.length);
    return { energy: segments >= MIN_MARK_SEGMENTS ? sum / segments : 0, segments };
  }
}

/**
 * Running sums of the buffered views: entry k (viewSize values) is the sum of views 0..k-1.
 * Float32 is exact here: the sums are integers below 2^24 (255 x a 60 s window of frames).
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
