import { type BufferedFrame, type TimeLock } from './align.js';
import { LineFit } from './alignment-record.js';
import { matchThreshold } from './lock-rules.js';
import { type DetectionReference } from './reference.js';
import {
  MIN_SIGNATURE_DEVIATION,
  type ReferenceMatcher,
  type SignatureProjector,
} from './signature-matching.js';

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
/** Tracking is lost after this long without a match; the copy is then searched again. */
const LOST_SECONDS = 2;

/** Where the tracker sends the copy frames it places on the original. */
export interface AlignedFrameSink {
  /** A copy frame (its view) shown at original frame `original` (maybe outside the original). */
  assign(view: Uint8Array, original: number): void;
  /** An informative frame placed by its own signature (the summary line is fitted on these). */
  matched(frame: number, original: number): void;
}

/** The copy's signatures under its crop, and the matcher of the reference over those cells. */
export interface CropMatching {
  projector: SignatureProjector;
  matcher: ReferenceMatcher;
}

/**
 * Tracking after one lock (step 3 of the Detector's method): the mapping is a line, original =
 * offset + rate x copy frame. Each block of one second is placed on it by searching its shift
 * (±3 frames in half frames) on the block's mean signature correlation: O(13 x 144) per frame.
 * The shift moves the line, and part of it the rate (a tracking loop), so speed changes do not
 * drift. Each frame may then move one frame off the line when that matches clearly better
 * (dropped or repeated frames). Flat frames follow the line; blocks that match nothing wait and
 * are interpolated when matching resumes; after 2 s without a match (a cut, an insert) the
 * tracking is lost and the frames go back to the search.
 */
export class LineTracker {
  private readonly blockFrames: number;
  private readonly lostFrames: number;
  private readonly matchThreshold: number;
  private lineOffset: number;
  private lineRate: number;
  /** False until a block matches under this lock (true from the start for one the mark placed). */
  private matched: boolean;
  private block: BufferedFrame[] = [];
  /** Normalised signatures of the block's frames (reused) and whether each is informative. */
  private readonly blockSignatures: Float32Array[] = [];
  private readonly blockInformative: Uint8Array;
  /** The last aligned frame (copy frame, original frame): interpolation of waiting frames. */
  private lastFrame = 0;
  private lastOriginal: number;
  /** Frames that matched nothing since the last match. */
  private pending: BufferedFrame[] = [];
  /** Frames dropped before the first match under this lock. */
  private leadingMisses = 0;
  /** Every frame matched under this lock (see fittedLine). */
  private readonly fit = new LineFit();

  constructor(
    reference: DetectionReference,
    private readonly lock: TimeLock,
    private readonly crop: CropMatching,
    /** Unmatched frames tolerated before the first match (the search window's length). */
    private readonly maxLeadingMisses: number,
    private readonly sink: AlignedFrameSink,
  ) {
    const rate = reference.frameRate;
    this.lostFrames = Math.max(4, Math.round(LOST_SECONDS * rate));
    this.blockFrames = Math.max(8, Math.round(TRACK_BLOCK_SECONDS * rate));
    this.blockInformative = new Uint8Array(this.blockFrames);
    this.matchThreshold = matchThreshold(lock);
    this.lineOffset = lock.offset;
    this.lineRate = lock.rate;
    this.matched = lock.followsUntil !== undefined;
    this.lastOriginal = Math.round(lock.offset);
  }

  /** Tracks one copy frame; returns the frames to search again when tracking is lost. */
  push(frame: BufferedFrame): BufferedFrame[] | null {
    this.block.push(frame);
    return this.block.length >= this.blockFrames ? this.trackBlock() : null;
  }

  /** The copy ended: places the last, partial block. */
  finish(): void {
    if (this.block.length > 0) this.trackBlock();
  }

  /** Places the current block on the line and assigns its frames (null), or gives up. */
  private trackBlock(): BufferedFrame[] | null {
    const { projector, matcher } = this.crop;
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
    // A fade or black stretch cannot be matched: it follows the line. So does a block of the
    // window the mark placed: its signatures could not place it (a spurious match would move
    // the line and its rate).
    const placedByMark = frames[0].frame <= (this.lock.followsUntil ?? -1);
    if (placedByMark || informative < Math.max(3, frames.length / 4)) {
      return this.matched ? this.followLine(frames) : null;
    }

    const { shift, matches } = this.bestShift(frames, matcher, informative);
    if (2 * matches < informative) {
      if (this.matched) return this.addPending(frames);
      // Before the first match, unmatched frames are dropped: they precede the locked part
      // (the lock vouched for the search window, so a whole window of them is a bad lock).
      this.leadingMisses += frames.length;
      return this.leadingMisses > this.maxLeadingMisses ? frames : null;
    }

    // Move the line by the shift at the block's middle; part of the shift corrects the rate.
    const middle = frames[frames.length >> 1].frame;
    const previousRate = this.lineRate;
    if (this.matched) {
      const rate = previousRate + (RATE_GAIN * shift) / frames.length;
      const low = this.lock.rate * (1 - MAX_RATE_DRIFT);
      const high = this.lock.rate * (1 + MAX_RATE_DRIFT);
      this.lineRate = rate < low ? low : rate > high ? high : rate;
    }
    this.lineOffset += shift + (previousRate - this.lineRate) * middle;
    this.flushPending(frames[0].frame, this.lineAt(frames[0].frame));
    for (let i = 0; i < frames.length; i++) {
      const { frame, view } = frames[i];
      let original = this.lineAt(frame);
      if (this.blockInformative[i] === 1) {
        original = this.refineFrame(this.blockSignatures[i], original, matcher);
        this.sink.matched(frame, original);
        this.fit.add(frame, original);
      }
      this.sink.assign(view, original);
      this.lastFrame = frame;
      this.lastOriginal = original;
    }
    this.matched = true;
    return null;
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

  /** Frames the signatures cannot place are assigned along the line (after any waiting). */
  private followLine(frames: BufferedFrame[]): BufferedFrame[] | null {
    if (this.pending.length > 0) return this.addPending(frames);
    for (const frame of frames) this.sink.assign(frame.view, this.lineAt(frame.frame));
    return null;
  }

  /**
   * Where the copy may go on once tracking is lost: the least-squares line through every frame
   * matched under this lock. Not the line followed last: where a picture stops telling times
   * apart, the last blocks still match but their shifts wander, and with them the line's rate.
   */
  get fittedLine(): Pick<TimeLock, 'offset' | 'rate'> {
    return this.fit.line(this.lock);
  }

  private lineAt(frame: number): number {
    return Math.round(this.lineOffset + this.lineRate * frame);
  }

  /** Frames that match nothing wait; too many of them and tracking is lost (returned). */
  private addPending(frames: BufferedFrame[]): BufferedFrame[] | null {
    this.pending.push(...frames);
    return this.pending.length > this.lostFrames ? this.pending : null;
  }

  /** Frames that matched nothing between two matches: placed by linear interpolation. */
  private flushPending(frame: number, original: number): void {
    if (this.pending.length === 0) return;
    const slope = (original - this.lastOriginal) / (frame - this.lastFrame);
    for (const waiting of this.pending) {
      this.sink.assign(
        waiting.view,
        Math.round(this.lastOriginal + slope * (waiting.frame - this.lastFrame)),
      );
    }
    this.pending = [];
  }
}
