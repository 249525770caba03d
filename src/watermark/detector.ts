import { type BufferedFrame, type TimeLock } from './align.js';
import { AlignedSegments } from './aligned-segments.js';
import { type AlignmentSummary, AlignmentRecord } from './alignment-record.js';
import { DEFAULT_FALSE_ACCUSATION_PROBABILITY } from './codes.js';
import { SegmentCorrelator } from './segment-correlation.js';
import { softBitsFromObservations } from './soft-bits.js';
import { type CropGeometry } from './geometry.js';
import { LineTracker, type AlignedFrameSink, type CropMatching } from './line-tracker.js';
import { type FoundLock, LockSearch, MAX_SEARCH_RATE } from './lock-search.js';
import { type MediaInfo, probeMedia } from './media.js';
import { type RawFrame, readFrames } from './media-frames.js';
import { type KeyMaterial } from './prng.js';
import { type DetectionReference } from './reference.js';
import { ReferenceMatcher, SignatureProjector } from './signature-matching.js';
import { minimumObservedSegments } from './accuse.js';

export { type AlignmentSummary } from './alignment-record.js';

export {
  type Accusation,
  type AccuseOptions,
  type AccuseResult,
  HISTOGRAM_BIN_WIDTH,
  type ScoreHistogram,
  accuse,
  minimumObservedSegments,
} from './accuse.js';

/**
 * Extraction: decode a suspect copy once, streaming, at the detection size (luma only, at the
 * original's frame rate), align it with the original, and produce one soft bit per segment of
 * the original's timeline. See `Detector` for the method and `extractSoftBits` for the API.
 */

export type ExtractionErrorCode = 'too_short' | 'bad_reference';

export class ExtractionError extends Error {
  override readonly name = 'ExtractionError';

  constructor(
    readonly code: ExtractionErrorCode,
    message: string,
    /** For `too_short`: segments of the original the copy covers, and how many are needed. */
    readonly segmentsObserved?: number,
    readonly segmentsNeeded?: number,
  ) {
    super(message);
  }
}

export interface ExtractionResult {
  /** One value per segment of the original, in [-1, 1]; sign = symbol (+1 = variant A). */
  softBits: Float32Array;
  /** Segments with a non-zero soft bit. */
  segmentsObserved: number;
  /** The too-short rule: fewer observed segments than this cannot accuse anyone. */
  segmentsNeeded: number;
  /** Copy frames decoded (at the original's frame rate). */
  framesRead: number;
  alignment: AlignmentSummary;
  /** Estimated mark amplitude (luma levels at detection size); ~0 for an unmarked copy. */
  markAmplitude: number;
  /** Median noise standard deviation of one segment's projection, same unit. */
  noiseLevel: number;
}

export interface ExtractOptions {
  /** Path of the suspect video. */
  suspect: string;
  /** The job's detection reference (see reference.ts). */
  reference: DetectionReference;
  /** The job key the variants were embedded with. */
  key: KeyMaterial;
  /** False-accusation probability per innocent the caller will use (perInnocentProbability): sets the too-short rule. */
  epsilon?: number;
  /** Segments the copy must cover (default: the too-short rule at `epsilon`; 0: no minimum). */
  segmentsNeeded?: number;
  /** Called with the fraction of the copy decoded, in [0, 1]. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** What was decoded of `suspect` already (finding its job): the extraction goes on from it. */
  start?: DecodedStart;
}

/**
 * The start of a copy decoded by other work (finding its job) at the reference's frame rate
 * and detection size: its probe, its first frames, the paused decoder of the rest, and the
 * lock found on those first frames against this reference, if any (they are then not searched
 * again).
 */
export interface DecodedStart {
  info: MediaInfo;
  /** Frames 0 to n-1 of the copy. */
  frames: BufferedFrame[];
  /** Frames n onwards. */
  rest: AsyncGenerator<RawFrame>;
  lock: TimeLock | null;
}

/**
 * Decodes `suspect` and returns its soft bits. Memory stays flat: frames are decoded at the
 * detection size and only a search window (seconds) and the open segments are held.
 *
 * Throws ExtractionError `too_short` when the copy covers fewer segments than
 * `minimumObservedSegments(epsilon)` (checked from the probed duration before decoding, and
 * again on the segments actually observed). A copy that never aligns with the original
 * (another video) is not an error: it returns all-zero soft bits with `alignment.matched`
 * false, which accuse nobody.
 */
export async function extractSoftBits(options: ExtractOptions): Promise<ExtractionResult> {
  const { reference, signal } = options;
  signal?.throwIfAborted();
  const epsilon = options.epsilon ?? DEFAULT_FALSE_ACCUSATION_PROBABILITY;
  const needed = options.segmentsNeeded ?? minimumObservedSegments(epsilon);
  const detector = new Detector(reference, options.key);
  const { start } = options;

  // One probe, for the duration and the decoder (or the one finding the job made).
  const info = start?.info ?? (await probeMedia(options.suspect));
  const frames =
    start?.rest ??
    readFrames(options.suspect, {
      width: reference.detectionWidth,
      height: reference.detectionHeight,
      grayOnly: true,
      fps: reference.frameRate,
      info,
    });
  try {
    const expectedFrames = Math.max(1, Math.round(info.duration_s * reference.frameRate));
    // Even at the fastest searched speed the copy cannot reach more segments than this.
    const reachable =
      Math.ceil((expectedFrames * MAX_SEARCH_RATE) / reference.framesPerSegment) + 1;
    if (reachable < needed) throw tooShort(Math.min(reachable, reference.segmentCount), needed);
    const first = await frames.next();

    if (start?.lock) detector.startOn({ lock: start.lock, window: start.frames });
    else for (const { view } of start?.frames ?? []) detector.push(view);
    const progressStep = Math.max(1, Math.floor(expectedFrames / 100));
    for (let next = first; !next.done; next = await frames.next()) {
      signal?.throwIfAborted();
      detector.push(next.value.data);
      if (options.onProgress && next.value.index % progressStep === 0) {
        options.onProgress(Math.min(1, next.value.index / expectedFrames));
      }
    }
  } finally {
    // Stops ffmpeg when leaving early (too short, aborted, failed).
    await frames.return(undefined);
  }
  const result = detector.finish(needed);
  options.onProgress?.(1);
  if (result.alignment.matched && result.segmentsObserved < needed) {
    throw tooShort(result.segmentsObserved, needed);
  }
  return result;
}

export function tooShort(observed: number, needed: number, copies = 1): ExtractionError {
  const what = copies === 1 ? 'the copy covers' : `the ${copies} copies together cover`;
  return new ExtractionError(
    'too_short',
    `${what} ${observed} segments of the original; at least ${needed} are needed ` +
      'before anyone can be accused',
    observed,
    needed,
  );
}

/**
 * The streaming detector: push the copy's detection views (suspect coordinates, detection size,
 * original frame rate) in order, then `finish`.
 *
 * Alignment method:
 * 1. Search (`LockSearch`): the first ~10 s are buffered. Up to 48 informative frames are
 *    sampled; their coarse signatures (4x3, normalised) are correlated with every offset of the
 *    original for a few speed ratios (1, 24/25, 25/24): O(original frames x 48 x 12). The best
 *    16 local maxima are refined with full 16x9 signatures over ±3 frames and a few crop
 *    hypotheses, then polished (offset, rate). A lock needs a mean correlation ≥
 *    MIN_LOCK_CORRELATION (0.9) and no rival ≥ 1 s away nearly as good (see lock-rules.ts). A
 *    picture that matches well but at many times (a still or nearly static shot) is placed by
 *    the mark instead (`placeByMark`; rivals are scored again under the crop refined on the
 *    lock, so a picture that repeats is never locked on a wrong repeat), and so is a window
 *    too flat to match anything, among the original's flat stretches (`placeFlatByMark`). A
 *    window the mark cannot place yet grows up to 180 s before the next search. Until a first
 *    lock, a window that matches nothing is also searched between bars, mirrored, without the
 *    cells of an overlay (`overlayOf`), and as an inset in another picture (`InsetSearch`: an
 *    inset that changes unlike its surroundings is found by that, `insetByActivity`, and one
 *    whose signatures only nearly match, a grainy film, is placed by the mark on its line).
 * 2. Geometry: on the first lock the crop, and for a filmed screen or a rotated copy its
 *    keystone, tilt, lens barrel and rotation (`camera-geometry.ts`), are estimated by comparing
 *    the buffered segments' mean views with the original's (see `estimateGeometry`), without a
 *    player's semi-transparent bars (`dimmedBandsOf`); they then hold for the whole copy, and
 *    what an overlay covers is not read.
 * 3. Tracking (`LineTracker`): each block of one second is placed on the line original =
 *    offset + rate x copy frame, which follows speed changes, dropped and repeated frames;
 *    after 2 s without a match (a cut, an insert) the detector searches again. A window the
 *    search cannot place by its signatures may still go on along the line tracking lost (a
 *    picture whose detail became finer than the signature cells): the mark tells
 *    (`placeOnLine`), and tracking follows the line through that window.
 * Each aligned frame is added to the accumulator of its original segment (`AlignedSegments`);
 * a segment is turned into an observation once tracking has moved two segments past it,
 * its pixels weighted down where the last segments were far noisier than the rest
 * (`NoiseHistory`: the edges of a heavily re-encoded test card), and what the last segments
 * departed from the original by alike taken out where that clearly lowers the noise
 * (`ResidualBackground`: a still picture filmed off a screen).
 */
export class Detector {
  private readonly viewSize: number;
  private readonly search: LockSearch;
  private readonly record = new AlignmentRecord();
  private framesSeen = 0;
  /** Fixed on the first lock. */
  private crop: CopyCrop | null = null;
  /** Null while searching. */
  private tracker: LineTracker | null = null;

  constructor(
    private readonly reference: DetectionReference,
    private readonly key: KeyMaterial,
  ) {
    checkReference(reference);
    this.viewSize = reference.detectionWidth * reference.detectionHeight;
    this.search = new LockSearch(reference, key);
  }

  get framesRead(): number {
    return this.framesSeen;
  }

  /** One copy frame: its luma at the detection size (the view's buffer is kept, not copied). */
  push(view: Uint8Array): void {
    if (view.length !== this.viewSize) {
      throw new RangeError(`view has ${view.length} bytes, expected ${this.viewSize}`);
    }
    const frame = { frame: this.framesSeen++, view };
    if (this.tracker) {
      this.track(this.tracker, frame);
      return;
    }
    const found = this.search.push(frame, this.crop?.geometry ?? null);
    if (found) this.startTracking(found);
  }

  /**
   * Starts on a lock found elsewhere on the copy's first frames (finding its job searched
   * them): they are tracked as if this detector had found it.
   */
  startOn(found: FoundLock): void {
    if (this.framesSeen !== 0 || found.window.some(({ frame }, i) => frame !== i)) {
      throw new RangeError("a lock found elsewhere must be on the copy's first frames");
    }
    this.framesSeen = found.window.length;
    this.startTracking(found);
  }

  /** Ends the copy: last search if still searching, closes every segment, makes the soft bits. */
  finish(segmentsNeeded = 0): ExtractionResult {
    if (!this.tracker) {
      const found = this.search.finish(this.crop?.geometry ?? null);
      if (found) this.startTracking(found);
    }
    this.tracker?.finish();
    const { segmentCount } = this.reference;
    const segments = this.crop?.segments;
    const observations = segments?.finish() ?? Array.from({ length: segmentCount }, () => []);
    const { softBits, segmentsObserved, markAmplitude, noiseLevel } = softBitsFromObservations(
      observations,
      segmentCount,
    );
    return {
      softBits,
      segmentsObserved,
      segmentsNeeded,
      framesRead: this.framesSeen,
      alignment: this.record.summary(this.crop?.geometry ?? null, segments?.framesAligned ?? 0),
      markAmplitude,
      noiseLevel,
    };
  }

  /** A lock was found: tracking starts on it, with the frames of its search window. */
  private startTracking({ lock, window }: FoundLock): void {
    const { matching, segments } = (this.crop ??= this.cropOf(lock.geometry));
    this.record.locked(lock);
    const sink: AlignedFrameSink = {
      assign: (view, original) => segments.add(view, original),
      matched: (frame, original) => this.record.matched(frame, original),
    };
    const tracker = new LineTracker(this.reference, lock, matching, this.search.windowFrames, sink);
    this.tracker = tracker;
    for (const frame of window) {
      // Tracking may be lost again inside the window: the rest waits for the next search.
      if (this.tracker === tracker) this.track(tracker, frame);
      else this.search.hold(frame);
    }
  }

  private track(tracker: LineTracker, frame: BufferedFrame): void {
    const lost = tracker.push(frame);
    if (!lost) return;
    this.tracker = null;
    this.search.restart(lost, tracker.fittedLine);
  }

  private cropOf(geometry: CropGeometry): CopyCrop {
    const projector = new SignatureProjector(this.reference, geometry);
    const matcher = new ReferenceMatcher(this.reference, projector.cells);
    const correlator = new SegmentCorrelator(this.reference, this.key, geometry);
    const segments = new AlignedSegments(this.reference, correlator);
    return { geometry, matching: { projector, matcher }, segments };
  }
}

/** The copy's crop, estimated on the first lock, and what is built on it for the whole copy. */
interface CopyCrop {
  geometry: CropGeometry;
  matching: CropMatching;
  segments: AlignedSegments;
}

function checkReference(reference: DetectionReference): void {
  const { detectionWidth, detectionHeight, signatureWidth, signatureHeight } = reference;
  const problems: string[] = [];
  if (!(reference.frameRate > 0)) problems.push('frame rate');
  if (!(reference.framesPerSegment > 0)) problems.push('frames per segment');
  if (reference.frameCount === 0 || reference.segmentCount === 0) problems.push('no frames');
  if (detectionWidth < signatureWidth || detectionHeight < signatureHeight) problems.push('sizes');
  const signatureBytes = reference.frameCount * signatureWidth * signatureHeight;
  if (reference.signatures.length !== signatureBytes) problems.push('signatures');
  const meanValues = reference.segmentCount * detectionWidth * detectionHeight;
  if (reference.segmentMeans.length !== meanValues) problems.push('segment means');
  if (problems.length > 0) {
    throw new ExtractionError(
      'bad_reference',
      `unusable detection reference: ${problems.join(', ')}`,
    );
  }
}
