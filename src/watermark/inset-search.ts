import {
  coarseSearch,
  fineSearch,
  polishLock,
  type SearchedLock,
  type BufferedFrame,
  type SearchSample,
  type TimeLock,
} from './align.js';
import { type CropGeometry } from './geometry.js';
import { insetByActivity, polishInset } from './inset-activity.js';
import { matchesPicture, MIN_SEARCH_SAMPLES } from './lock-rules.js';
import { type DetectionReference } from './reference.js';
import {
  COARSE_CELLS,
  type CoarseSignature,
  MIN_NORMALIZED_COARSE_DEVIATION,
  MIN_SIGNATURE_DEVIATION,
  SignatureProjector,
} from './signature-matching.js';

/**
 * Picture-in-picture: the original shrunk into part of another picture (a reaction video, a
 * news inset). A search over the inset's size and place, run only when the plain searches
 * found nothing (see LockSearch):
 * 0. an inset that changes unlike what surrounds it is found by that (inset-activity.ts) and
 *    placed finely by the signatures: a grainy film, whose signatures match only within a
 *    quarter pixel of its place, is found so, and its lock, a near miss, confirmed by the mark;
 * 1. else, screen: for every inset on a grid (sizes INSET_SCALES of the frame, places a
 *    quarter of the inset apart), the best coarse time match at the original's speed of a few
 *    copy frames seen through it;
 * 2. for the best few: the full coarse and fine time search through the inset, then a pattern
 *    search of its place and size on the fine match score (the grid is too coarse for the
 *    16x9 signature), then the usual polish of the time line.
 * About 200 coarse searches of 12 samples at one speed: a fraction of a second per window.
 */

/** Inset widths tried, as a share of the frame's (the aspect ratio is kept). */
const INSET_SCALES = [0.3, 0.4, 0.5];
/** Grid spacing of the screened places, as a share of the inset's size. */
const GRID_SPACING = 1 / 4;
/** Copy frames seen through each screened inset. */
const SCREEN_SAMPLES = 12;
/** Screened insets given the full search. */
const FINALISTS = 3;
/** Pattern search steps of the inset's place and size, as shares of the grid spacing. */
const REFINE_STEPS = [1 / 2, 1 / 4, 1 / 8, 1 / 16];
/**
 * The fine match score a finalist needs before its place and size are refined: through a
 * grid inset at most an eighth of its size off, the original still matches about 0.7 (40 %
 * inset, fractal); another video scores under 0.1.
 */
const MIN_FINALIST_SCORE = 0.2;
const MAX_SEARCH_SAMPLES = 48;
/**
 * Through an inset placed by how it changes, a picture with no structure coarser than its grain
 * (26x14 detection pixels) matches its signatures at about 0.65, under the lock rule's 0.9;
 * another video under 0.5 through any inset. Such a lock's line is left to the mark to
 * confirm (LockSearch, once the inset's place is refined from the mean views).
 */
const NEAR_MISS_CORRELATION = 0.5;
const MAX_CANDIDATES = 16;

/** An inset `scale` of the frame wide and high, its top left corner at (x, y) of the frame. */
export interface Inset {
  scale: number;
  x: number;
  y: number;
}

/** The crop geometry of an inset: the borders around it in units of the inset's size. */
export function insetGeometry({ scale, x, y }: Inset): CropGeometry {
  return {
    left: -x / scale,
    right: -(1 - x - scale) / scale,
    top: -y / scale,
    bottom: -(1 - y - scale) / scale,
  };
}

/** The insets of the screening grid, each fully inside the frame. */
function insetGrid(): Inset[] {
  const insets: Inset[] = [];
  for (const scale of INSET_SCALES) {
    const spacing = scale * GRID_SPACING;
    const steps = Math.ceil((1 - scale) / spacing - 1e-9);
    const places = Array.from({ length: steps + 1 }, (_, i) => Math.min(i * spacing, 1 - scale));
    for (const y of places) for (const x of places) insets.push({ scale, x, y });
  }
  return insets;
}

export class InsetSearch {
  /** Built on the first search: a copy that matches plainly never needs it. */
  private grid: { inset: Inset; projector: SignatureProjector }[] | null = null;
  private readonly separation: number;
  /**
   * A lock through an inset placed by how it changes (insetByActivity) that only nearly
   * matches (see NEAR_MISS_CORRELATION), for the mark to test; else null.
   */
  private nearMiss: TimeLock | null = null;

  constructor(
    private readonly reference: DetectionReference,
    private readonly coarse: CoarseSignature,
    private readonly coarseTable: () => Float32Array,
  ) {
    this.separation = Math.max(7, Math.round(reference.frameRate / 2));
  }

  /** A lock through an inset that shows the original picture, or null. */
  find(window: BufferedFrame[]): SearchedLock | null {
    this.nearMiss = null;
    const active = this.findActive(window);
    if (active) return active;
    this.grid ??= insetGrid().map((inset) => ({
      inset,
      projector: new SignatureProjector(this.reference, insetGeometry(inset)),
    }));
    const screened = this.grid.map(({ inset, projector }) => ({
      inset,
      score: this.bestTimeScore(window, projector, SCREEN_SAMPLES),
    }));
    screened.sort((a, b) => b.score - a.score);
    for (const { inset, score } of screened.slice(0, FINALISTS)) {
      if (score <= 0) break;
      const found = this.searchThrough(window, inset);
      if (found) return found;
    }
    return null;
  }

  /**
   * The lock through an inset found by how it changes (insetByActivity), placed finely by the
   * coarse time match through it (polishInset). One that only nearly matches is kept for the
   * mark (`nearMiss`).
   */
  private findActive(window: BufferedFrame[]): SearchedLock | null {
    const { detectionWidth: width, detectionHeight: height } = this.reference;
    const found = insetByActivity(
      window.map(({ view }) => view),
      width,
      height,
    );
    if (!found) return null;
    const timeScore =
      (samples: number) =>
      (inset: Inset): number =>
        this.bestTimeScore(
          window,
          new SignatureProjector(this.reference, insetGeometry(inset)),
          samples,
        );
    const screen = timeScore(SCREEN_SAMPLES);
    const placed = polishInset(found, width, height, screen, timeScore(MAX_SEARCH_SAMPLES));
    return this.searchThrough(window, placed, false);
  }

  /** Samples of the window seen through `projector`, with their coarse signatures. */
  private samplesThrough(
    window: BufferedFrame[],
    projector: SignatureProjector,
    count: number,
  ): { samples: SearchSample[]; frames: BufferedFrame[] } {
    const signatureSize = this.reference.signatureWidth * this.reference.signatureHeight;
    const normalized = new Float32Array(signatureSize);
    const stride = Math.max(1, Math.floor(window.length / count));
    const samples: SearchSample[] = [];
    const frames: BufferedFrame[] = [];
    for (let i = 0; i < window.length && samples.length < count; i += stride) {
      if (projector.normalizedSignature(window[i].view, normalized) < MIN_SIGNATURE_DEVIATION) {
        continue;
      }
      samples.push({
        frame: window[i].frame,
        coarse: this.coarse.compute(
          normalized,
          new Float32Array(COARSE_CELLS),
          0,
          MIN_NORMALIZED_COARSE_DEVIATION,
        ),
      });
      frames.push(window[i]);
    }
    return { samples, frames };
  }

  private bestTimeScore(
    window: BufferedFrame[],
    projector: SignatureProjector,
    count: number,
  ): number {
    const { samples } = this.samplesThrough(window, projector, count);
    if (samples.length < MIN_SEARCH_SAMPLES) return -1;
    // At the original's speed only: the finalists are searched at every speed.
    const [best] = coarseSearch(
      this.coarseTable(),
      this.reference.frameCount,
      samples,
      1,
      this.separation,
      [1],
    );
    return best?.score ?? -1;
  }

  /**
   * The lock through an inset near `start`: its place and size refined on the fine match
   * score when `refine` (a grid inset), else kept (placed already). A lock through a placed
   * inset that fails the picture rule yet matches at NEAR_MISS_CORRELATION is kept as the
   * near miss.
   */
  private searchThrough(window: BufferedFrame[], start: Inset, refine = true): SearchedLock | null {
    const reference = this.reference;
    const projector = new SignatureProjector(reference, insetGeometry(start));
    const { samples, frames } = this.samplesThrough(window, projector, MAX_SEARCH_SAMPLES);
    if (samples.length < MIN_SEARCH_SAMPLES) return null;
    const candidates = coarseSearch(
      this.coarseTable(),
      reference.frameCount,
      samples,
      MAX_CANDIDATES,
      this.separation,
    );
    const radius = Math.round(reference.frameRate);
    const first = fineSearch(reference, frames, candidates, [insetGeometry(start)], radius);
    if (!first || first.score < MIN_FINALIST_SCORE) return null;
    // Place and size: one at a time, shrinking steps, each judged on the fine match around
    // the time found.
    let best = { inset: start, lock: first };
    const at = (inset: Inset): TimeLock | null =>
      inset.scale > 0 &&
      inset.x >= 0 &&
      inset.y >= 0 &&
      inset.x + inset.scale <= 1 + 1e-9 &&
      inset.y + inset.scale <= 1 + 1e-9
        ? fineSearch(reference, frames, [best.lock], [insetGeometry(inset)], radius)
        : null;
    for (const share of refine ? REFINE_STEPS : []) {
      const step = start.scale * GRID_SPACING * share;
      let improved = true;
      while (improved) {
        improved = false;
        for (const key of ['x', 'y', 'scale'] as const) {
          for (const direction of [-1, 1]) {
            const inset = { ...best.inset, [key]: best.inset[key] + direction * step };
            const lock = at(inset);
            if (lock && lock.score > best.lock.score + 1e-6) {
              best = { inset, lock };
              improved = true;
            }
          }
        }
      }
    }
    // Searched again through the inset found: the runner-up must be judged through it too.
    const lock = fineSearch(reference, frames, candidates, [insetGeometry(best.inset)], radius);
    if (!lock) return null;
    const polished = polishLock(reference, frames, lock, radius);
    if (matchesPicture(polished)) return { lock: polished, samples: frames, candidates };
    if (!refine && polished.correlation >= NEAR_MISS_CORRELATION) {
      this.nearMiss = polished;
    }
    return null;
  }

  /** The last near miss's lock (geometry: its inset), for the mark to test; else null. */
  get nearMissLock(): TimeLock | null {
    return this.nearMiss;
  }
}
