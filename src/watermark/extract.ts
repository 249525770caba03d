import {
  COARSE_CELLS,
  CoarseSignature,
  coarseSearch,
  fineSearch,
  LineScorer,
  MIN_SIGNATURE_DEVIATION,
  polishLock,
  ReferenceMatcher,
  SignatureProjector,
  type BufferedFrame,
  type SearchSample,
  type TimeLock,
} from './align.js';
import { DEFAULT_FALSE_ACCUSATION_PROBABILITY } from './codes.js';
import {
  type SegmentObservation,
  ReferenceEstimator,
  SegmentAccumulator,
  SegmentCorrelator,
  softBitsFromObservations,
} from './detect.js';
import {
  type CropGeometry,
  estimateGeometry,
  type GeometryEvidence,
  IDENTITY_GEOMETRY,
} from './geometry.js';
import { probeMedia, readFrames } from './media.js';
import { type KeyMaterial } from './prng.js';
import { type DetectionReference } from './reference.js';
import { rootOfIncreasing } from './roots.js';
import { minimumObservedSegments } from './accuse.js';

export {
  type Accusation,
  type AccuseOptions,
  type AccuseResult,
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

export interface AlignmentSummary {
  /** False when no part of the copy could be matched with the original (all soft bits 0). */
  matched: boolean;
  /**
   * Original frame shown by the copy's first frame: least squares over the frames matched
   * in the first aligned stretch (an edited copy has one stretch per lock).
   */
  offsetFrames: number;
  /** Original frames per copy frame, both at the original's frame rate (1 = same speed). */
  rate: number;
  /** Mean signature correlation of the matching frames at the first lock; 0 if none. */
  confidence: number;
  /** Estimated crop of the copy relative to the original. */
  geometry: CropGeometry;
  /** Copy frames mapped to a frame of the original. */
  framesAligned: number;
  /** Times the alignment was (re)acquired: more than 1 when the copy was edited or re-cut. */
  locks: number;
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
  /** False-accusation probability the caller will use: sets the too-short rule. */
  epsilon?: number;
  /** Called with the fraction of the copy decoded, in [0, 1]. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
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
  const needed = minimumObservedSegments(epsilon);
  const detector = new Detector(reference, options.key);

  const frames = readFrames(options.suspect, {
    width: reference.detectionWidth,
    height: reference.detectionHeight,
    grayOnly: true,
    fps: reference.frameRate,
  })[Symbol.asyncIterator]();
  try {
    // The probe (duration) runs while ffmpeg starts: both cost a process start.
    const [info, first] = await Promise.all([probeMedia(options.suspect), frames.next()]);
    const expectedFrames = Math.max(1, Math.round(info.duration_s * reference.frameRate));
    // Even at the fastest searched speed the copy cannot reach more segments than this.
    const reachable =
      Math.ceil((expectedFrames * MAX_SEARCH_RATE) / reference.framesPerSegment) + 1;
    if (reachable < needed) throw tooShort(Math.min(reachable, reference.segmentCount), needed);

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
    await frames.return?.(undefined);
  }
  const result = detector.finish(needed);
  options.onProgress?.(1);
  if (result.alignment.matched && result.segmentsObserved < needed) {
    throw tooShort(result.segmentsObserved, needed);
  }
  return result;
}

function tooShort(observed: number, needed: number): ExtractionError {
  return new ExtractionError(
    'too_short',
    `the copy covers ${observed} segments of the original; at least ${needed} are needed ` +
      'before anyone can be accused',
    observed,
    needed,
  );
}

/** Seconds of copy gathered before a global search (and dropped by half after a failed one). */
const SEARCH_WINDOW_SECONDS = 10;
const MAX_SEARCH_WINDOW_SECONDS = 60;
/** Copy frames sampled for a global search, and the fewest informative ones worth a search. */
const MAX_SEARCH_SAMPLES = 48;
const MIN_SEARCH_SAMPLES = 8;
const MAX_CANDIDATES = 16;
const MAX_SEARCH_RATE = 25 / 24;
/** Symmetric crops tried when the geometry is still unknown (refined after the lock). */
const CROP_HYPOTHESES = [-0.05, 0, 0.05, 0.1];
/**
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
/**
 * Placing by the mark (see `placeByMark`): over n segments of the window, the mean
 * (amplitude / noise)² must be one that chance reaches with probability at most MARK_CHANCE
 * (`markEnergyThreshold`: 20 over 2 segments, 6 over 10), and at least MARK_RIVAL_RATIO
 * times the best placement a segment or more away. A wrong placement could only lose the
 * pirate, never accuse an innocent, whose codeword is independent of any placement.
 */
const MARK_CHANCE = 1e-7;
const MARK_RIVAL_RATIO = 4;
const MIN_MARK_SEGMENTS = 2;
/** Segments of the window scored per placement: plenty of evidence, bounded cost. */
const MAX_MARK_SEGMENTS = 12;
/** After this many failed searches in a row, searches back off (another video: stay fast). */
const SEARCHES_BEFORE_BACKOFF = 4;
const MAX_BACKOFF_WINDOWS = 6;
/**
 * Tracking works on blocks of one second: the block's offset against the current line is
 * searched in half frames within ±TRACK_RADIUS, on the block's mean correlation, so slowly
 * changing pictures (whose neighbouring frames correlate almost equally) still place it right.
 */
const TRACK_BLOCK_SECONDS = 1;
const TRACK_RADIUS = 3;
const TRACK_STEP = 0.5;
/** Tie-breaker towards the current line (static pictures): per frame of shift. */
const TRACK_PRIOR_PER_FRAME = 1e-4;
/** Share of a block's shift attributed to a speed error, and the speed drift allowed. */
const RATE_GAIN = 0.25;
const MAX_RATE_DRIFT = 0.05;
/**
 * A frame moves one frame off the line (a dropped or repeated frame) only when that
 * correlates better by this much: smaller differences are compression noise.
 */
const FRAME_SHIFT_MARGIN = 0.002;
/**
 * A frame matches when its correlation reaches max(MIN_MATCH, MATCH_FRACTION x the lock's
 * correlation).
 */
const MIN_MATCH = 0.35;
const MATCH_FRACTION = 0.6;
/** Tracking is lost after this long without a match; the copy is then searched again. */
const LOST_SECONDS = 2;
/** Copy segments compared with the original to estimate the crop. */
const GEOMETRY_EVIDENCE_SEGMENTS = 6;
/** Alternations of crop estimate and offset polish on the first lock. */
const GEOMETRY_ROUNDS = 3;

/**
 * The streaming detector: push the copy's detection views (suspect coordinates, detection size,
 * original frame rate) in order, then `finish`.
 *
 * Alignment method:
 * 1. Search: the first ~10 s are buffered. Up to 48 informative frames are sampled; their
 *    coarse signatures (4x3, normalised) are correlated with every offset of the original for
 *    a few speed ratios (1, 24/25, 25/24): O(original frames x 48 x 12). The best 16 local
 *    maxima are refined with full 16x9 signatures over ±3 frames and a few crop hypotheses,
 *    then polished (offset, rate). A lock needs a mean correlation ≥ MIN_LOCK_CORRELATION
 *    (0.9) and no rival ≥ 1 s away nearly as good (see MIN_LOCK_SCORE). A picture that
 *    matches well but at many times (a still or nearly static shot) is placed by the mark
 *    instead (`placeByMark`).
 * 2. Geometry: on the first lock the crop is estimated by comparing the buffered segments'
 *    mean views with the original's (see `estimateGeometry`); it then holds for the whole copy.
 * 3. Tracking: the mapping is a line, original = offset + rate x copy frame. Each block of one
 *    second is placed on it by searching its shift (±3 frames in half frames) on the block's
 *    mean signature correlation: O(13 x 144) per frame. The shift moves the line, and part of
 *    it the rate (a tracking loop), so speed changes do not drift. Each frame may then move one
 *    frame off the line when that matches clearly better (dropped or repeated frames). Flat
 *    frames follow the line; blocks that match nothing wait and are interpolated when matching
 *    resumes; after 2 s without a match (a cut, an insert) the detector searches again.
 * Each aligned frame is added to the accumulator of its original segment; a segment is turned
 * into an observation (`SegmentCorrelator`) once tracking has moved two segments past it.
 */
export class Detector {
  private readonly viewSize: number;
  private readonly signatureSize: number;
  private readonly windowFrames: number;
  private readonly lostFrames: number;
  private readonly identityProjector: SignatureProjector;
  private readonly estimator: ReferenceEstimator;
  private readonly coarse: CoarseSignature;
  private coarseTable: Float32Array | null = null;

  private framesSeen = 0;
  private searching = true;
  private searchBuffer: BufferedFrame[] = [];
  /** Frames before this one are not buffered (search back-off). */
  private ignoreUntil = 0;
  private failedSearches = 0;

  private geometry: CropGeometry | null = null;
  private projector: SignatureProjector | null = null;
  private matcher: ReferenceMatcher | null = null;
  private correlator: SegmentCorrelator | null = null;

  // Tracking state: original = lineOffset + lineRate x copy frame.
  private lock: TimeLock | null = null;
  private lineOffset = 0;
  private lineRate = 1;
  private matched = false;
  private readonly blockFrames: number;
  private block: BufferedFrame[] = [];
  /** Normalised signatures of the block's frames (reused) and whether each is informative. */
  private readonly blockSignatures: Float32Array[] = [];
  private readonly blockInformative: Uint8Array;
  /** The last aligned frame (copy frame, original frame): interpolation of waiting frames. */
  private lastFrame = 0;
  private lastOriginal = 0;
  private matchThreshold = MIN_MATCH;
  private pending: BufferedFrame[] = [];
  private leadingMisses = 0;
  private lastSegment = -1;

  private readonly open = new Map<number, SegmentAccumulator>();
  private readonly spare: SegmentAccumulator[] = [];
  private readonly observations: SegmentObservation[][];

  // Summary.
  private firstLock: TimeLock | null = null;
  private locks = 0;
  private framesAligned = 0;
  private readonly fit = { n: 0, k: 0, j: 0, kk: 0, kj: 0 };

  constructor(
    private readonly reference: DetectionReference,
    private readonly key: KeyMaterial,
  ) {
    checkReference(reference);
    this.viewSize = reference.detectionWidth * reference.detectionHeight;
    this.signatureSize = reference.signatureWidth * reference.signatureHeight;
    const rate = reference.frameRate;
    this.windowFrames = Math.min(
      Math.round(MAX_SEARCH_WINDOW_SECONDS * rate),
      Math.max(Math.round(SEARCH_WINDOW_SECONDS * rate), 3 * reference.framesPerSegment),
    );
    this.lostFrames = Math.max(4, Math.round(LOST_SECONDS * rate));
    this.blockFrames = Math.max(8, Math.round(TRACK_BLOCK_SECONDS * rate));
    this.blockInformative = new Uint8Array(this.blockFrames);
    this.identityProjector = new SignatureProjector(reference, IDENTITY_GEOMETRY);
    this.coarse = new CoarseSignature(reference.signatureWidth, reference.signatureHeight);
    this.estimator = new ReferenceEstimator(reference);
    this.observations = Array.from({ length: reference.segmentCount }, () => []);
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
    if (!this.searching) {
      this.track(frame);
      return;
    }
    if (frame.frame < this.ignoreUntil) return;
    this.searchBuffer.push(frame);
    if (this.searchBuffer.length >= this.windowFrames) this.search(false);
  }

  /** Ends the copy: last search if still searching, closes every segment, makes the soft bits. */
  finish(segmentsNeeded = 0): ExtractionResult {
    if (this.searching && this.searchBuffer.length > 0) this.search(true);
    if (!this.searching && this.block.length > 0) this.trackBlock();
    for (const accumulator of [...this.open.values()]) this.close(accumulator);
    const { softBits, segmentsObserved, markAmplitude, noiseLevel } = softBitsFromObservations(
      this.observations,
      this.reference.segmentCount,
    );
    const { n, k, j, kk, kj } = this.fit;
    const spread = n * kk - k * k;
    const rate = n >= 2 && spread > 0 ? (n * kj - k * j) / spread : (this.firstLock?.rate ?? 1);
    const offset = n >= 1 ? (j - rate * k) / n : (this.firstLock?.offset ?? 0);
    return {
      softBits,
      segmentsObserved,
      segmentsNeeded,
      framesRead: this.framesSeen,
      alignment: {
        matched: this.firstLock !== null && this.framesAligned > 0,
        offsetFrames: offset,
        rate,
        confidence: this.firstLock?.correlation ?? 0,
        geometry: { ...(this.geometry ?? IDENTITY_GEOMETRY) },
        framesAligned: this.framesAligned,
        locks: this.locks,
      },
      markAmplitude,
      noiseLevel,
    };
  }

  private search(final: boolean): void {
    const buffer = this.searchBuffer;
    const found = this.findLock(buffer);
    const lock = found ? this.confirm(buffer, found.lock, found.samples) : null;
    if (!lock) {
      this.failedSearches++;
      if (final) return;
      if (this.failedSearches > SEARCHES_BEFORE_BACKOFF) {
        // Probably another video, or a long insert: skip ahead rather than search every 5 s.
        const windows = Math.min(
          MAX_BACKOFF_WINDOWS,
          2 ** (this.failedSearches - SEARCHES_BEFORE_BACKOFF - 1),
        );
        this.ignoreUntil = this.framesSeen + Math.round((windows * this.windowFrames) / 2);
        this.searchBuffer = [];
      } else {
        this.searchBuffer = buffer.slice(buffer.length >> 1);
      }
      return;
    }

    this.failedSearches = 0;
    this.searchBuffer = [];
    if (!this.geometry) this.setGeometry(lock.geometry);
    this.firstLock ??= lock;
    this.locks++;
    this.lock = lock;
    this.searching = false;
    this.matched = false;
    this.lineOffset = lock.offset;
    this.lineRate = lock.rate;
    this.leadingMisses = 0;
    this.pending = [];
    this.block = [];
    this.matchThreshold = Math.max(MIN_MATCH, MATCH_FRACTION * lock.correlation);
    for (const frame of buffer) {
      // Tracking may be lost again inside the buffer: the rest waits for the next search.
      if (this.searching) this.searchBuffer.push(frame);
      else this.track(frame);
    }
  }

  /**
   * Refines a lock the search found and confirms it: unique in time, or else placed by the
   * mark. Refinement may reveal a bad lock (the crop wanders off): it must still pass the rule.
   */
  private confirm(
    buffer: BufferedFrame[],
    found: TimeLock,
    samples: BufferedFrame[],
  ): TimeLock | null {
    const lock = this.refine(buffer, found, samples);
    if (!matchesPicture(lock)) return null;
    return isUnique(lock) ? lock : this.placeByMark(buffer, lock, samples);
  }

  /**
   * On the first lock, estimates the crop, alternating with polishing the time line (each
   * sharpens the other) until both settle. Later locks keep the copy's crop.
   */
  private refine(buffer: BufferedFrame[], found: TimeLock, samples: BufferedFrame[]): TimeLock {
    const polishSteps = Math.round(this.reference.frameRate);
    let lock = found;
    if (this.geometry) return lock;
    for (let round = 0; round < GEOMETRY_ROUNDS; round++) {
      const geometry = this.estimateGeometry(buffer, lock, round === 0);
      const polished = polishLock(this.reference, samples, { ...lock, geometry }, polishSteps);
      const settled =
        sameGeometry(geometry, lock.geometry) &&
        polished.offset === lock.offset &&
        polished.rate === lock.rate;
      lock = polished;
      if (settled) break;
    }
    return lock;
  }

  /** The lock, if any, and the frames sampled to find it. */
  private findLock(buffer: BufferedFrame[]): { lock: TimeLock; samples: BufferedFrame[] } | null {
    const reference = this.reference;
    const stride = Math.max(1, Math.floor(buffer.length / MAX_SEARCH_SAMPLES));
    const samples: SearchSample[] = [];
    const sampleFrames: BufferedFrame[] = [];
    const normalized = new Float32Array(this.signatureSize);
    for (let i = 0; i < buffer.length && samples.length < MAX_SEARCH_SAMPLES; i += stride) {
      const deviation = this.identityProjector.normalizedSignature(buffer[i].view, normalized);
      if (deviation < MIN_SIGNATURE_DEVIATION) continue;
      const coarse = this.coarse.compute(normalized, new Float32Array(COARSE_CELLS));
      samples.push({ frame: buffer[i].frame, coarse });
      sampleFrames.push(buffer[i]);
    }
    if (samples.length < MIN_SEARCH_SAMPLES) return null;

    this.coarseTable ??= this.coarse.table(reference);
    const separation = Math.max(7, Math.round(reference.frameRate / 2));
    const candidates = coarseSearch(
      this.coarseTable,
      reference.frameCount,
      samples,
      MAX_CANDIDATES,
      separation,
    );
    const geometries = this.geometry
      ? [this.geometry]
      : CROP_HYPOTHESES.map((crop) => ({ left: crop, right: crop, top: crop, bottom: crop }));
    const lock = fineSearch(
      reference,
      sampleFrames,
      candidates,
      geometries,
      Math.round(reference.frameRate),
    );
    if (!lock) return null;
    // Polished before it is judged: a candidate a few frames or a rate off scores low.
    const polished = polishLock(reference, sampleFrames, lock, Math.round(reference.frameRate));
    return matchesPicture(polished) ? { lock: polished, samples: sampleFrames } : null;
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
  private placeByMark(
    buffer: BufferedFrame[],
    lock: TimeLock,
    samples: BufferedFrame[],
  ): TimeLock | null {
    const reference = this.reference;
    const segmentFrames = reference.framesPerSegment;
    const scorer = new LineScorer(reference, samples, lock.geometry);
    const correlator = new SegmentCorrelator(reference, this.key, lock.geometry);
    const accumulator = new SegmentAccumulator(this.viewSize, this.signatureSize);
    const viewSums = runningViewSums(buffer, this.viewSize);
    const first = buffer[0].frame;
    const last = buffer[buffer.length - 1].frame;
    const energies = new Map<number, MarkEnergy>();
    const placementAt = (offset: number): MarkEnergy => {
      let placement = energies.get(offset);
      if (placement === undefined) {
        placement = this.markEnergy(buffer, viewSums, offset, correlator, accumulator);
        energies.set(offset, placement);
      }
      return placement;
    };
    const energyAt = (offset: number): number => placementAt(offset).energy;

    // Signature scores of every time, then the mark's energy at the times they cannot rule
    // out: at each local peak, and every half segment along a plateau (a perfectly still shot).
    const lowest = -last;
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
   * when fewer than MIN_MARK_SEGMENTS are. `viewSums` are the buffer's running view sums
   * (`runningViewSums`), so a segment's view sum costs one subtraction whatever its length.
   */
  private markEnergy(
    buffer: BufferedFrame[],
    viewSums: Float32Array,
    offset: number,
    correlator: SegmentCorrelator,
    accumulator: SegmentAccumulator,
  ): MarkEnergy {
    const { framesPerSegment, frameCount, signatures } = this.reference;
    const { viewSize, signatureSize } = this;
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

  /** Crop estimate from the buffered frames, grouped by original segment under the lock. */
  private estimateGeometry(
    buffer: BufferedFrame[],
    lock: TimeLock,
    tryStartCrops: boolean,
  ): CropGeometry {
    const reference = this.reference;
    // Only frames that match under the lock: part of the buffer may be something else (an
    // intro, an insert) that would pull the crop anywhere.
    const projector = new SignatureProjector(reference, lock.geometry);
    const matcher = new ReferenceMatcher(reference, projector.cells);
    const signature = new Float32Array(projector.cells.length);
    const threshold = Math.max(MIN_MATCH, MATCH_FRACTION * lock.correlation);
    const groups = new Map<number, SegmentAccumulator>();
    for (const { frame, view } of buffer) {
      const original = Math.round(lock.offset + lock.rate * frame);
      if (original < 0 || original >= reference.frameCount) continue;
      projector.normalizedSignature(view, signature);
      if (matcher.correlate(signature, original) < threshold) continue;
      const segment = Math.floor(original / reference.framesPerSegment);
      let group = groups.get(segment);
      if (!group) {
        group = new SegmentAccumulator(this.viewSize, this.signatureSize);
        group.reset(segment);
        groups.set(segment, group);
      }
      const base = original * this.signatureSize;
      group.add(view, reference.signatures.subarray(base, base + this.signatureSize));
    }
    // Well-filled segments spread over the whole buffer: a slightly wrong rate is then wrong
    // in both directions rather than systematically.
    const all = [...groups.values()];
    const fullest = all.reduce((most, group) => Math.max(most, group.frames), 0);
    const filled = all.filter((group) => 2 * group.frames >= fullest);
    const step = Math.max(1, filled.length / GEOMETRY_EVIDENCE_SEGMENTS);
    const evidence: GeometryEvidence[] = [];
    for (let position = 0; position < filled.length; position += step) {
      const group = filled[Math.floor(position)];
      const suspect = new Float32Array(this.viewSize);
      for (let i = 0; i < suspect.length; i++) suspect[i] = group.viewSum[i] / group.frames;
      const original = new Float32Array(this.viewSize);
      this.estimator.estimate(group.segment, group.signatureSum, group.frames, original);
      evidence.push({ suspect, original, weight: group.frames });
    }
    if (evidence.length === 0) return lock.geometry;
    const width = reference.detectionWidth;
    const height = reference.detectionHeight;
    return estimateGeometry(evidence, width, height, lock.geometry, tryStartCrops).geometry;
  }

  private setGeometry(geometry: CropGeometry): void {
    this.geometry = geometry;
    this.projector = new SignatureProjector(this.reference, geometry);
    this.matcher = new ReferenceMatcher(this.reference, this.projector.cells);
    this.correlator = new SegmentCorrelator(this.reference, this.key, geometry);
  }

  private track(frame: BufferedFrame): void {
    this.block.push(frame);
    if (this.block.length >= this.blockFrames) this.trackBlock();
  }

  /** Places the current block on the line (see the class comment) and assigns its frames. */
  private trackBlock(): void {
    const projector = this.projector;
    const matcher = this.matcher;
    if (!projector || !matcher) throw new Error('tracking without a geometry');
    const frames = this.block;
    this.block = [];
    while (this.blockSignatures.length < frames.length) {
      this.blockSignatures.push(new Float32Array(projector.cells.length));
    }
    let informative = 0;
    for (let i = 0; i < frames.length; i++) {
      const deviation = projector.normalizedSignature(frames[i].view, this.blockSignatures[i]);
      this.blockInformative[i] = deviation >= MIN_SIGNATURE_DEVIATION ? 1 : 0;
      informative += this.blockInformative[i];
    }
    if (informative < Math.max(3, frames.length / 4)) {
      // A fade or black stretch cannot be matched: it follows the line.
      if (!this.matched) return;
      if (this.pending.length > 0) this.addPending(frames);
      else for (const frame of frames) this.assign(frame.view, this.lineAt(frame.frame));
      return;
    }

    const { shift, matches } = this.bestShift(frames, matcher, informative);
    if (2 * matches < informative) {
      if (this.matched) {
        this.addPending(frames);
      } else {
        // Before the first match, unmatched frames are dropped: they precede the locked part
        // (the lock vouched for the search buffer, so a whole buffer of them is a bad lock).
        this.leadingMisses += frames.length;
        if (this.leadingMisses > this.windowFrames) this.lose(frames);
      }
      return;
    }

    // Move the line by the shift at the block's middle; part of the shift corrects the rate.
    const middle = frames[frames.length >> 1].frame;
    const previousRate = this.lineRate;
    if (this.matched) {
      const lockRate = this.lock?.rate ?? 1;
      const rate = previousRate + (RATE_GAIN * shift) / frames.length;
      const low = lockRate * (1 - MAX_RATE_DRIFT);
      const high = lockRate * (1 + MAX_RATE_DRIFT);
      this.lineRate = rate < low ? low : rate > high ? high : rate;
    }
    this.lineOffset += shift + (previousRate - this.lineRate) * middle;
    this.flushPending(frames[0].frame, this.lineAt(frames[0].frame));
    for (let i = 0; i < frames.length; i++) {
      const { frame, view } = frames[i];
      let original = this.lineAt(frame);
      if (this.blockInformative[i] === 1) {
        original = this.refineFrame(this.blockSignatures[i], original, matcher);
      }
      // The summary line fits the first aligned stretch (an edited copy has several).
      if (this.blockInformative[i] === 1 && this.locks === 1) {
        this.fit.n++;
        this.fit.k += frame;
        this.fit.j += original;
        this.fit.kk += frame * frame;
        this.fit.kj += frame * original;
      }
      this.assign(view, original);
      this.lastFrame = frame;
      this.lastOriginal = original;
    }
    this.matched = true;
  }

  /** The block's best shift against the line, and how many informative frames match there. */
  private bestShift(
    frames: BufferedFrame[],
    matcher: ReferenceMatcher,
    informative: number,
  ): { shift: number; matches: number } {
    let bestShift = 0;
    let bestScore = -Infinity;
    for (let shift = -TRACK_RADIUS; shift <= TRACK_RADIUS; shift += TRACK_STEP) {
      let sum = 0;
      for (let i = 0; i < frames.length; i++) {
        if (this.blockInformative[i] === 0) continue;
        const original = Math.round(this.lineOffset + this.lineRate * frames[i].frame + shift);
        sum += matcher.correlate(this.blockSignatures[i], original);
      }
      const distance = shift < 0 ? -shift : shift;
      const score = sum / informative - TRACK_PRIOR_PER_FRAME * distance;
      if (score > bestScore) {
        bestScore = score;
        bestShift = shift;
      }
    }
    let matches = 0;
    for (let i = 0; i < frames.length; i++) {
      if (this.blockInformative[i] === 0) continue;
      const original = Math.round(this.lineOffset + this.lineRate * frames[i].frame + bestShift);
      if (matcher.correlate(this.blockSignatures[i], original) >= this.matchThreshold) matches++;
    }
    return { shift: bestShift, matches };
  }

  /** The frame on the line, or its neighbour when that matches clearly better. */
  private refineFrame(
    signature: Float32Array,
    original: number,
    matcher: ReferenceMatcher,
  ): number {
    const here = matcher.correlate(signature, original);
    const before = matcher.correlate(signature, original - 1);
    const after = matcher.correlate(signature, original + 1);
    if (before > here + FRAME_SHIFT_MARGIN && before >= after) return original - 1;
    if (after > here + FRAME_SHIFT_MARGIN) return original + 1;
    return original;
  }

  private lineAt(frame: number): number {
    return Math.round(this.lineOffset + this.lineRate * frame);
  }

  private addPending(frames: BufferedFrame[]): void {
    this.pending.push(...frames);
    if (this.pending.length > this.lostFrames) this.lose(this.pending);
  }

  /** Tracking lost: those frames start the next search. */
  private lose(frames: BufferedFrame[]): void {
    this.searching = true;
    this.pending = [];
    this.block = [];
    this.searchBuffer = [...frames];
  }

  /** Frames that matched nothing between two matches: placed by linear interpolation. */
  private flushPending(frame: number, original: number): void {
    if (this.pending.length === 0) return;
    const slope = (original - this.lastOriginal) / (frame - this.lastFrame);
    for (const waiting of this.pending) {
      this.assign(
        waiting.view,
        Math.round(this.lastOriginal + slope * (waiting.frame - this.lastFrame)),
      );
    }
    this.pending = [];
  }

  private assign(view: Uint8Array, original: number): void {
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

  private close(accumulator: SegmentAccumulator): void {
    this.open.delete(accumulator.segment);
    const observation = this.correlator?.observe(accumulator);
    if (observation) this.observations[accumulator.segment].push(observation);
    this.spare.push(accumulator);
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

/** A placement's mean (amplitude / noise)² and the segments it was measured on. */
interface MarkEnergy {
  energy: number;
  segments: number;
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

/** The window shows the original's picture (see MIN_LOCK_SCORE). */
function matchesPicture(lock: TimeLock): boolean {
  return (
    lock.score >= MIN_LOCK_SCORE &&
    lock.correlation >= MIN_LOCK_CORRELATION &&
    lock.inliers >= MIN_SEARCH_SAMPLES
  );
}

/** No time a second or more away matches nearly as well (see MIN_LOCK_SCORE). */
function isUnique(lock: TimeLock): boolean {
  return !isRivalOf({ score: lock.runnerUp }, lock);
}

function isRivalOf(candidate: Pick<TimeLock, 'score'>, lock: TimeLock): boolean {
  return (
    1 - candidate.score < LOCK_DISTANCE_RATIO * (1 - lock.score) + LOCK_DISTANCE_MARGIN &&
    candidate.score > LOCK_RIVAL_SHARE * lock.score
  );
}

function sameGeometry(a: CropGeometry, b: CropGeometry): boolean {
  return a.left === b.left && a.right === b.right && a.top === b.top && a.bottom === b.bottom;
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
