import { type BufferedFrame, type TimeLock } from './align.js';
import { type GeometryEvidence } from './geometry-search.js';
import { matchThreshold } from './lock-rules.js';
import { type DetectionReference } from './reference.js';
import { type ReferenceEstimator, SegmentAccumulator } from './segment-correlation.js';
import { ReferenceMatcher, SignatureProjector } from './signature-matching.js';

/** Copy segments compared with the original to estimate the geometry. */
const GEOMETRY_EVIDENCE_SEGMENTS = 6;

/**
 * The evidence of the geometry search on a search window: the window's frames grouped by the
 * original segment the lock places them in, each group's mean view beside the original's view
 * of the same frames (see estimateGeometry), for up to 6 well-filled segments.
 */
export function windowEvidence(
  reference: DetectionReference,
  estimator: ReferenceEstimator,
  window: BufferedFrame[],
  lock: TimeLock,
): GeometryEvidence[] {
  const viewSize = reference.detectionWidth * reference.detectionHeight;
  const signatureSize = reference.signatureWidth * reference.signatureHeight;
  // Only frames that match under the lock: part of the window may be something else (an
  // intro, an insert) that would pull the crop anywhere.
  const projector = new SignatureProjector(reference, lock.geometry);
  const matcher = new ReferenceMatcher(reference, projector.cells);
  const signature = new Float32Array(projector.cells.length);
  const threshold = matchThreshold(lock);
  const groups = new Map<number, SegmentAccumulator>();
  for (const { frame, view } of window) {
    const original = Math.round(lock.offset + lock.rate * frame);
    if (original < 0 || original >= reference.frameCount) continue;
    projector.normalizedSignature(view, signature);
    if (matcher.correlate(signature, original) < threshold) continue;
    const segment = Math.floor(original / reference.framesPerSegment);
    let group = groups.get(segment);
    if (!group) {
      group = new SegmentAccumulator(viewSize, signatureSize);
      group.reset(segment);
      groups.set(segment, group);
    }
    const base = original * signatureSize;
    group.add(view, reference.signatures.subarray(base, base + signatureSize));
  }
  // Well-filled segments spread over the whole window: a slightly wrong rate is then wrong
  // in both directions rather than systematically.
  const all = [...groups.values()];
  const fullest = all.reduce((most, group) => Math.max(most, group.frames), 0);
  const filled = all.filter((group) => 2 * group.frames >= fullest);
  const step = Math.max(1, filled.length / GEOMETRY_EVIDENCE_SEGMENTS);
  const evidence: GeometryEvidence[] = [];
  for (let position = 0; position < filled.length; position += step) {
    const group = filled[Math.floor(position)];
    const suspect = new Float32Array(viewSize);
    for (let i = 0; i < suspect.length; i++) suspect[i] = group.viewSum[i] / group.frames;
    const original = new Float32Array(viewSize);
    estimator.estimate(group.segment, group.signatureSum, group.frames, original);
    evidence.push({ suspect, original, weight: group.frames });
  }
  return evidence;
}
