import {
  coarseSearch,
  fineSearch,
  polishLock,
  rescoreRunnerUp,
  type BufferedFrame,
  type SearchedLock,
  type SearchSample,
  type TimeLock,
} from './align.js';
import { ReferenceEstimator } from './segment-correlation.js';
import { dimmedBandsOf } from './dimmed-bands.js';
import { barsOf, type CropGeometry, IDENTITY_GEOMETRY, overlayOf } from './geometry.js';
import { estimateGeometry, sameGeometry } from './geometry-search.js';
import { windowEvidence } from './window-evidence.js';
import { InsetSearch } from './inset-search.js';
import { isUnique, matchesPicture, MIN_SEARCH_SAMPLES } from './lock-rules.js';
import {
  FlatFrames,
  MAX_MARK_SEGMENTS,
  placeByMark,
  placeFlatByMark,
  placeOnLine,
} from './mark-placement.js';
import { type KeyMaterial } from './prng.js';
import { type Plane } from './resample.js';
import { CROP_HYPOTHESES, FIRST_SEARCHES, MIRRORED } from './search-hypotheses.js';
import { type DetectionReference } from './reference.js';
import {
  COARSE_CELLS,
  CoarseSignature,
  MIN_NORMALIZED_COARSE_DEVIATION,
  MIN_SIGNATURE_DEVIATION,
  SignatureProjector,
} from './signature-matching.js';

/** Seconds of copy gathered before a global search (and dropped by half after a failed one). */
const SEARCH_WINDOW_SECONDS = 10;
/**
 * A window only the mark can place grows up to this: a test card shrunk to 180p at CRF 40
 * keeps a mark / noise of about 1 per segment, (amplitude / noise)² about 2 where chance
 * gives 1: over 120 segments that is at the placement threshold (1.92), over 160 clear of it
 * (1.78). The window's running view sums then take about 41 MB at 25 fps.
 */
const MAX_SEARCH_WINDOW_SECONDS = 180;
/** Copy frames sampled for a global search. */
const MAX_SEARCH_SAMPLES = 48;
const MAX_CANDIDATES = 16;
/** The fastest speed ratio searched (original frames per copy frame). */
export const MAX_SEARCH_RATE = 25 / 24;
/**
 * Then, for the first two searches of a copy only, a picture-in-picture search (see
 * InsetSearch): it costs as much as a few plain ones, which another video should not pay
 * every window.
 */
const INSET_SEARCHES = 2;
/** After this many failed searches in a row, searches back off (another video: stay fast). */
const SEARCHES_BEFORE_BACKOFF = 4;
const MAX_BACKOFF_WINDOWS = 6;
/** Alternations of crop estimate and offset polish on the first lock. */
const GEOMETRY_ROUNDS = 3;

/** A confirmed lock and the search window it was found in (tracking starts on it). */
export interface FoundLock {
  lock: TimeLock;
  window: BufferedFrame[];
}

/**
 * The global search for the original's time line (step 1 of the Detector's method): buffers a
 * window of the copy, samples up to 48 informative frames, correlates their coarse signatures
 * with every offset of the original for a few speed ratios, refines the best candidates with
 * full signatures and a few crop hypotheses, polishes (offset, rate), and confirms the lock
 * (see lock-rules.ts), or places it by the mark when the picture matches at many times or
 * the window is too flat to match (one colour) where the original is flat too. On
 * the first lock it also estimates the copy's geometry (crop, and camera terms for a filmed
 * screen); a first lock that nearly matches (a filmed screen seen through a crop) is refined
 * so before it is judged, unless bars or an overlay explain it. A window the mark could not
 * place grows (up to 180 s) before the next search; failed searches keep half the window, and
 * back off after a few in a row.
 */
export class LockSearch {
  readonly windowFrames: number;
  private readonly maxWindowFrames: number;
  /** Frames the window gathers before the next search. */
  private searchAt: number;
  private readonly viewSize: number;
  private readonly signatureSize: number;
  /** Per first search, the projector of its view (see SearchHypotheses). */
  private readonly viewProjectors: Map<CropGeometry, SignatureProjector>;
  /** The view of later searches, once the copy's geometry is known. */
  private copyView: SignatureProjector | null = null;
  private readonly estimator: ReferenceEstimator;
  private readonly coarse: CoarseSignature;
  private coarseTable: Float32Array | null = null;
  /** Coarse signatures and their tables of views keeping only some cells (bars), per view. */
  private readonly partialCoarse = new WeakMap<SignatureProjector, CoarseSignature>();
  private readonly partialTables = new WeakMap<CoarseSignature, Float32Array>();
  private readonly insets: InsetSearch;
  private insetSearches = 0;
  /**
   * An inset whose picture matched the original at times only the mark can tell apart (a
   * test card shrunk into another picture): searched through again as the window grows.
   */
  private pendingInset: CropGeometry | null = null;
  /** Built on the first flat window (see placeFlat). */
  private flatFrames: FlatFrames | null = null;
  /** Where the copy may go on after tracking was lost (see placeOnLine). */
  private lostLine: Pick<TimeLock, 'offset' | 'rate'> | null = null;

  private window: BufferedFrame[] = [];
  /** Frames before this one are not buffered (search back-off). */
  private ignoreUntil = 0;
  private failedSearches = 0;
  /** The window grew to its longest since the last lock (it grows once: bounded cost). */
  private grown = false;

  constructor(
    private readonly reference: DetectionReference,
    private readonly key: KeyMaterial,
  ) {
    this.viewSize = reference.detectionWidth * reference.detectionHeight;
    this.signatureSize = reference.signatureWidth * reference.signatureHeight;
    const rate = reference.frameRate;
    this.windowFrames = Math.min(
      Math.round(MAX_SEARCH_WINDOW_SECONDS * rate),
      Math.max(Math.round(SEARCH_WINDOW_SECONDS * rate), 3 * reference.framesPerSegment),
    );
    this.maxWindowFrames = Math.round(MAX_SEARCH_WINDOW_SECONDS * rate);
    this.searchAt = this.windowFrames;
    this.viewProjectors = new Map(
      FIRST_SEARCHES.map(({ view }) => [view, new SignatureProjector(reference, view)]),
    );
    this.coarse = new CoarseSignature(reference.signatureWidth, reference.signatureHeight);
    this.estimator = new ReferenceEstimator(reference);
    this.insets = new InsetSearch(reference, this.coarse, () => this.table());
  }

  /**
   * Buffers a copy frame; searches when the window is full. `geometry` is the copy's crop
   * once known (null before the first lock).
   */
  push(frame: BufferedFrame, geometry: CropGeometry | null): FoundLock | null {
    if (frame.frame < this.ignoreUntil) return null;
    this.window.push(frame);
    if (this.window.length < this.searchAt) return null;
    return this.search(geometry, frame.frame + 1);
  }

  /** Buffers a frame without searching (frames left over when tracking was lost). */
  hold(frame: BufferedFrame): void {
    this.window.push(frame);
  }

  /** Tracking was lost: these frames start the next window; `line` is where it may go on. */
  restart(frames: BufferedFrame[], line: Pick<TimeLock, 'offset' | 'rate'>): void {
    this.lostLine = line;
    this.window = [...frames];
    this.searchAt = this.windowFrames;
  }

  /** The copy ended: a last search on what is buffered. */
  finish(geometry: CropGeometry | null): FoundLock | null {
    return this.window.length > 0 ? this.search(geometry, null) : null;
  }

  /** `framesSeen` is null for the last search (nothing to back off from). */
  private search(geometry: CropGeometry | null, framesSeen: number | null): FoundLock | null {
    const window = this.window;
    const found = this.findLock(window, geometry);
    const { lock: placed, ambiguous } = found
      ? this.confirm(window, found, geometry)
      : { lock: this.placeFlat(window, geometry), ambiguous: false };
    const lock = placed ?? (ambiguous ? null : this.placeOnLostLine(window, geometry));
    this.searchAt = this.windowFrames;
    if (lock) {
      this.failedSearches = 0;
      this.grown = false;
      this.window = [];
      return { lock, window };
    }
    if (framesSeen === null) return null;
    if (ambiguous && !this.grown) {
      // The original's picture at times only the mark can tell apart, and the mark too weak
      // to tell them over this window (a camcorder copy of a test card that repeats every
      // 12 s, or a heavily re-encoded one): the window doubles per search, up to
      // MAX_SEARCH_WINDOW_SECONDS, so that the mark is read over more segments; once per lock
      // (cost), then it is a failed search like others.
      if (window.length < this.maxWindowFrames) {
        this.searchAt = Math.min(this.maxWindowFrames, 2 * window.length);
        return null;
      }
      this.grown = true;
    }
    this.failedSearches++;
    if (this.failedSearches > SEARCHES_BEFORE_BACKOFF) {
      // Probably another video, or a long insert: skip ahead rather than search every 5 s.
      const windows = Math.min(
        MAX_BACKOFF_WINDOWS,
        2 ** (this.failedSearches - SEARCHES_BEFORE_BACKOFF - 1),
      );
      this.ignoreUntil = framesSeen + Math.round((windows * this.windowFrames) / 2);
      this.window = [];
    } else {
      this.window = window.slice(window.length >> 1);
    }
    return null;
  }

  /**
   * Refines a lock the search found and confirms it: unique in time, or else placed by the
   * mark. Refinement may reveal a bad lock (the crop wanders off): it must still pass the rule,
   * against its rivals scored again under the refined geometry.
   */
  private confirm(
    window: BufferedFrame[],
    { lock: found, samples, candidates }: SearchedLock,
    geometry: CropGeometry | null,
  ): { lock: TimeLock | null; ambiguous: boolean } {
    const lock = geometry
      ? found
      : rescoreRunnerUp(
          this.reference,
          samples,
          candidates,
          this.refine(window, found, samples),
          Math.round(this.reference.frameRate),
        );
    if (!matchesPicture(lock)) return { lock: null, ambiguous: false };
    if (isUnique(lock)) return { lock, ambiguous: false };
    const markSegments = Math.max(
      MAX_MARK_SEGMENTS,
      Math.round((MAX_MARK_SEGMENTS * window.length) / this.windowFrames),
    );
    const placed = placeByMark(this.reference, this.key, window, lock, samples, markSegments);
    return { lock: placed, ambiguous: placed === null };
  }

  /**
   * A window too flat for the signatures (nearly every frame one colour) is placed by the mark
   * among the original's flat stretches; a window with a picture never is.
   */
  private placeFlat(window: BufferedFrame[], geometry: CropGeometry | null): TimeLock | null {
    const projector = geometry
      ? (this.copyView ??= this.viewOf(geometry))
      : this.viewOf(IDENTITY_GEOMETRY);
    const { samples } = this.sample(window, projector, this.coarseOf(projector));
    if (samples.length >= MIN_SEARCH_SAMPLES) return null;
    this.flatFrames ??= new FlatFrames(this.reference);
    const copyGeometry = geometry ?? IDENTITY_GEOMETRY;
    return placeFlatByMark(this.reference, this.key, window, copyGeometry, this.flatFrames);
  }

  /**
   * A window the signatures cannot place, by the mark: on the line tracking lost, or before
   * a first lock on the line of an inset that only nearly matches (InsetSearch.nearMissLock).
   */
  private placeOnLostLine(window: BufferedFrame[], geometry: CropGeometry | null): TimeLock | null {
    if (geometry) {
      return this.lostLine
        ? placeOnLine(this.reference, this.key, window, this.lostLine, geometry)
        : null;
    }
    // The inset's place refined as a first lock's crop is (mean views, not the mark), then
    // the mark tests the line.
    const nearMiss = this.insets.nearMissLock;
    if (!nearMiss) return null;
    const refined = this.estimateCrop(window, nearMiss, false);
    return placeOnLine(this.reference, this.key, window, nearMiss, refined);
  }

  /**
   * On the first lock, estimates the crop, alternating with polishing the time line (each
   * sharpens the other) until both settle. Later locks keep the copy's crop.
   */
  private refine(window: BufferedFrame[], found: TimeLock, samples: BufferedFrame[]): TimeLock {
    const polishSteps = Math.round(this.reference.frameRate);
    let lock = found;
    for (let round = 0; round < GEOMETRY_ROUNDS; round++) {
      const geometry = this.estimateCrop(window, lock, round === 0);
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

  /** The lock, if any, and the frames sampled to find it (see FIRST_SEARCHES). */
  private findLock(window: BufferedFrame[], geometry: CropGeometry | null): SearchedLock | null {
    if (geometry) {
      // Later searches keep the copy's geometry, seen through itself when the copy shows every
      // cell (bars around the picture) or has bars over it, else through the first search's
      // view that shares its mirror.
      this.copyView ??= this.viewOf(geometry);
      return this.findLockUnder(window, this.copyView, [geometry]);
    }
    if (this.pendingInset) {
      const found = this.findLockUnder(window, this.viewOf(this.pendingInset), [this.pendingInset]);
      if (found) return found;
    }
    const nearMisses: SearchedLock[] = [];
    for (const { view, crops } of FIRST_SEARCHES) {
      const found = this.findLockUnder(window, this.viewOf(view), crops, nearMisses);
      if (found) return found;
    }
    // Bars or an overlay explain a near miss more simply than a camera does (a pillarboxed
    // copy nearly matches through a crop too): they are looked for first.
    const framed = this.findFramed(window) ?? this.findOverlaid(window);
    if (framed) return framed;
    for (const nearMiss of nearMisses) {
      const refined = this.refine(window, nearMiss.lock, nearMiss.samples);
      if (matchesPicture(refined)) return { ...nearMiss, lock: refined };
    }
    if (this.insetSearches >= INSET_SEARCHES) return null;
    this.insetSearches++;
    const inset = this.insets.find(window);
    this.pendingInset = inset?.lock.geometry ?? null;
    return inset;
  }

  /**
   * Black bars found in the window itself (a 4:3 centre crop pillarboxed into 16:9, any
   * matte): the crops seen between them.
   */
  private findFramed(window: BufferedFrame[]): SearchedLock | null {
    const bars = barsOf(...this.viewsOf(window));
    return bars ? this.findLockMasked(window, { bars }) : null;
  }

  /**
   * An overlay found in the window itself (a logo, subtitles: still while the picture moves):
   * the crops seen without the cells it covers. Pictures whose every cell varies little (a
   * cellular automaton under grain) are swamped by a bright logo otherwise.
   */
  private findOverlaid(window: BufferedFrame[]): SearchedLock | null {
    const overlay = overlayOf(...this.viewsOf(window));
    return overlay ? this.findLockMasked(window, { overlay }) : null;
  }

  private viewsOf(window: BufferedFrame[]): [Plane[], number, number] {
    const { detectionWidth: width, detectionHeight: height } = this.reference;
    return [window.map(({ view }) => view), width, height];
  }

  /** The crop hypotheses under bars or an overlay, read from signatures that leave them out. */
  private findLockMasked(
    window: BufferedFrame[],
    mask: Pick<CropGeometry, 'bars' | 'overlay'>,
  ): SearchedLock | null {
    const view = new SignatureProjector(this.reference, { ...IDENTITY_GEOMETRY, ...mask });
    return this.findLockUnder(
      window,
      view,
      CROP_HYPOTHESES.map((crop) => ({ ...crop, ...mask })),
    );
  }

  private viewOf(geometry: CropGeometry): SignatureProjector {
    const known = this.viewProjectors.get(geometry);
    if (known) return known;
    const own = new SignatureProjector(this.reference, geometry);
    if (own.cells.length === this.signatureSize || geometry.bars || geometry.overlay) return own;
    return this.viewOf(geometry.mirrored ? MIRRORED : IDENTITY_GEOMETRY);
  }

  /**
   * A lock that nearly matches (see isNearMiss) goes to `nearMisses`, when given: its geometry
   * may be refined later (the first lock of a filmed copy: see NEAR_MISS_CORRELATION).
   */
  private findLockUnder(
    window: BufferedFrame[],
    projector: SignatureProjector,
    geometries: CropGeometry[],
    nearMisses?: SearchedLock[],
  ): SearchedLock | null {
    const reference = this.reference;
    const coarse = this.coarseOf(projector);
    const { samples, sampleFrames } = this.sample(window, projector, coarse);
    if (samples.length < MIN_SEARCH_SAMPLES) return null;

    const separation = Math.max(7, Math.round(reference.frameRate / 2));
    const candidates = coarseSearch(
      this.tableOf(coarse),
      reference.frameCount,
      samples,
      MAX_CANDIDATES,
      separation,
    );
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
    const searched = { lock: polished, samples: sampleFrames, candidates };
    if (matchesPicture(polished)) return searched;
    if (isNearMiss(polished)) nearMisses?.push(searched);
    return null;
  }

  /**
   * The coarse signatures of the cells `projector` keeps: a view with bars over the picture
   * keeps only some, and the search table must then be made of the same ones.
   */
  private coarseOf(projector: SignatureProjector): CoarseSignature {
    if (projector.cells.length === this.signatureSize) return this.coarse;
    let coarse = this.partialCoarse.get(projector);
    if (!coarse) {
      const { signatureWidth, signatureHeight } = this.reference;
      coarse = new CoarseSignature(signatureWidth, signatureHeight, projector.cells);
      this.partialCoarse.set(projector, coarse);
    }
    return coarse;
  }

  /** The search table of `coarse`, made once per view (the copy's view after its first lock). */
  private tableOf(coarse: CoarseSignature): Float32Array {
    if (coarse === this.coarse) return this.table();
    let table = this.partialTables.get(coarse);
    if (!table) {
      table = coarse.table(this.reference);
      this.partialTables.set(coarse, table);
    }
    return table;
  }

  /** Up to MAX_SEARCH_SAMPLES informative frames spread over the window, seen through `projector`. */
  private sample(
    window: BufferedFrame[],
    projector: SignatureProjector,
    coarseSignature: CoarseSignature,
  ): { samples: SearchSample[]; sampleFrames: BufferedFrame[] } {
    const stride = Math.max(1, Math.floor(window.length / MAX_SEARCH_SAMPLES));
    const samples: SearchSample[] = [];
    const sampleFrames: BufferedFrame[] = [];
    const normalized = new Float32Array(this.signatureSize);
    for (let i = 0; i < window.length && samples.length < MAX_SEARCH_SAMPLES; i += stride) {
      const deviation = projector.normalizedSignature(window[i].view, normalized);
      if (deviation < MIN_SIGNATURE_DEVIATION) continue;
      const coarse = new Float32Array(COARSE_CELLS);
      coarseSignature.compute(normalized, coarse, 0, MIN_NORMALIZED_COARSE_DEVIATION);
      samples.push({ frame: window[i].frame, coarse });
      sampleFrames.push(window[i]);
    }
    return { samples, sampleFrames };
  }

  private table(): Float32Array {
    return (this.coarseTable ??= this.coarse.table(this.reference));
  }

  /** Crop estimate from the window's frames, grouped by original segment under the lock. */
  private estimateCrop(
    window: BufferedFrame[],
    lock: TimeLock,
    tryStartCrops: boolean,
  ): CropGeometry {
    const evidence = windowEvidence(this.reference, this.estimator, window, lock);
    if (evidence.length === 0) return lock.geometry;
    const { detectionWidth: width, detectionHeight: height } = this.reference;
    // A player's semi-transparent controls are found under the first lock's crop, before the
    // search could read the picture as squeezed away from them (see dimmed-bands.ts).
    const bands =
      tryStartCrops && !lock.geometry.overlay && !lock.geometry.bars
        ? dimmedBandsOf(evidence, width, height, lock.geometry)
        : null;
    const guess = bands ? { ...lock.geometry, overlay: bands } : lock.geometry;
    return estimateGeometry(evidence, width, height, guess, tryStartCrops, true).geometry;
  }
}

/**
 * A filmed screen seen through a crop only matches at about this correlation (0.78 for a
 * fine-grained picture filmed off-axis, issue 11): under the lock rule's 0.9, yet far above
 * another video (under 0.5). Such a lock gets its geometry, camera terms included, refined
 * before it is judged; another video never pays for it.
 */
const NEAR_MISS_CORRELATION = 0.65;
const NEAR_MISS_SCORE = 0.3;

function isNearMiss(lock: TimeLock): boolean {
  return (
    lock.correlation >= NEAR_MISS_CORRELATION &&
    lock.score >= NEAR_MISS_SCORE &&
    lock.inliers >= MIN_SEARCH_SAMPLES
  );
}
