import { type TimeLock } from './align.js';
import { type CropGeometry, IDENTITY_GEOMETRY } from './geometry.js';

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

/** A least-squares line original frame = offset + rate x copy frame through matched frames. */
export class LineFit {
  /** n, Σk, Σj, Σk², Σkj for copy frame k and original frame j. */
  private n = 0;
  private k = 0;
  private j = 0;
  private kk = 0;
  private kj = 0;

  add(frame: number, original: number): void {
    this.n++;
    this.k += frame;
    this.j += original;
    this.kk += frame * frame;
    this.kj += frame * original;
  }

  /** The fitted line; `fallback` where fewer than two frames (or one copy frame) fix it. */
  line(fallback: Pick<TimeLock, 'offset' | 'rate'>): Pick<TimeLock, 'offset' | 'rate'> {
    const { n, k, j, kk, kj } = this;
    const spread = n * kk - k * k;
    const rate = n >= 2 && spread > 0 ? (n * kj - k * j) / spread : fallback.rate;
    const offset = n >= 1 ? (j - rate * k) / n : fallback.offset;
    return { offset, rate };
  }
}

/**
 * What the alignment summary is made of: the locks, and a least-squares line (original frame
 * against copy frame) through the frames matched in the first aligned stretch.
 */
export class AlignmentRecord {
  private firstLock: TimeLock | null = null;
  private locks = 0;
  private readonly fit = new LineFit();

  locked(lock: TimeLock): void {
    this.firstLock ??= lock;
    this.locks++;
  }

  /** A copy frame matched at original frame `original` (fitted during the first stretch). */
  matched(frame: number, original: number): void {
    if (this.locks === 1) this.fit.add(frame, original);
  }

  summary(geometry: CropGeometry | null, framesAligned: number): AlignmentSummary {
    const { offset, rate } = this.fit.line(this.firstLock ?? { offset: 0, rate: 1 });
    return {
      matched: this.firstLock !== null && framesAligned > 0,
      offsetFrames: offset,
      rate,
      confidence: this.firstLock?.correlation ?? 0,
      geometry: { ...(geometry ?? IDENTITY_GEOMETRY) },
      framesAligned,
      locks: this.locks,
    };
  }
}
