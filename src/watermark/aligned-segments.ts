import {
  type SegmentObservation,
  SegmentAccumulator,
  type SegmentCorrelator,
} from './segment-correlation.js';
import { type DetectionReference } from './reference.js';

/**
 * Accumulation of the aligned copy frames by segment of the original: each frame is added to
 * the accumulator of its segment; a segment is turned into an observation (`SegmentCorrelator`)
 * once tracking has moved two segments past it. A segment seen twice (an edited copy) gives
 * two observations.
 */
export class AlignedSegments {
  /** Copy frames assigned to a frame of the original. */
  framesAligned = 0;
  private readonly viewSize: number;
  private readonly signatureSize: number;
  private readonly open = new Map<number, SegmentAccumulator>();
  /** Closed accumulators, reused. */
  private readonly spare: SegmentAccumulator[] = [];
  private readonly observations: SegmentObservation[][];
  private lastSegment = -1;

  constructor(
    private readonly reference: DetectionReference,
    private readonly correlator: SegmentCorrelator,
  ) {
    this.viewSize = reference.detectionWidth * reference.detectionHeight;
    this.signatureSize = reference.signatureWidth * reference.signatureHeight;
    this.observations = Array.from({ length: reference.segmentCount }, () => []);
  }

  /** A copy frame's view shown at original frame `original` (ignored outside the original). */
  add(view: Uint8Array, original: number): void {
    const reference = this.reference;
    if (original < 0 || original >= reference.frameCount) return;
    const segment = Math.floor(original / reference.framesPerSegment);
    let accumulator = this.open.get(segment);
    if (!accumulator) {
      accumulator = this.spare.pop() ?? new SegmentAccumulator(this.viewSize, this.signatureSize);
      accumulator.reset(segment);
      this.open.set(segment, accumulator);
    }
    const base = original * this.signatureSize;
    accumulator.add(view, reference.signatures.subarray(base, base + this.signatureSize));
    this.framesAligned++;
    if (segment !== this.lastSegment) {
      this.lastSegment = segment;
      for (const other of [...this.open.values()]) {
        const distance = other.segment - segment;
        if (distance > 1 || distance < -1) this.close(other);
      }
    }
  }

  /** Closes every open segment; the observations of each segment of the original. */
  finish(): SegmentObservation[][] {
    for (const accumulator of [...this.open.values()]) this.close(accumulator);
    return this.observations;
  }

  private close(accumulator: SegmentAccumulator): void {
    this.open.delete(accumulator.segment);
    const observation = this.correlator.observe(accumulator);
    if (observation) this.observations[accumulator.segment].push(observation);
    this.spare.push(accumulator);
  }
}
