import { type Inset } from './inset-search.js';
import { type Plane } from './resample.js';

/**
 * Picture-in-picture found by how the picture changes: a film shrunk into another picture
 * changes from frame to frame unlike what surrounds it (a grainy, fast film over a slow
 * background, or the reverse). The inset is the rectangle of the frame's shape whose coverage
 * (the share of each pixel it covers) best explains the map of the views' changes: placed to a
 * fraction of a pixel, since a pixel the edge crosses changes by the share it covers. The
 * signature grid cannot place an inset of a picture with no structure coarser than its grain
 * (a 40 % inset is 26x14 detection pixels): this can.
 */

/** Inset widths looked for, as shares of the frame's. */
const MIN_SCALE = 0.2;
const MAX_SCALE = 0.7;
/**
 * The rectangle must explain this share of the change map's variance (squared correlation): a
 * clear rectangle, not a patch of motion.
 */
const MIN_SEPARATION = 0.5;
/** Refinement steps of place and size, in pixels. */
const REFINE_STEPS = [0.5, 0.25, 0.125, 0.0625];

/** The inset a window of views shows (see above), or null when no rectangle stands out. */
export function insetByActivity(views: Plane[], width: number, height: number): Inset | null {
  if (views.length < 3) return null;
  const map = new ChangeMap(views, width, height);
  if (!(map.variance > 0)) return null;
  const fitOf = ({ scale, x, y }: Inset): number =>
    scale < MIN_SCALE || scale > MAX_SCALE
      ? -1
      : map.fit(x * width, y * height, scale * width, scale * height);
  // Whole pixels first, then finer steps around the best.
  let best = { inset: { scale: 0, x: 0, y: 0 }, score: -1 };
  for (let columns = Math.ceil(MIN_SCALE * width); columns <= MAX_SCALE * width; columns++) {
    const scale = columns / width;
    for (let top = 0; top + scale * height <= height + 1e-9; top++) {
      for (let left = 0; left + columns <= width; left++) {
        const inset = { scale, x: left / width, y: top / height };
        const score = fitOf(inset);
        if (score > best.score) best = { inset, score };
      }
    }
  }
  const refined = climbInset(best.inset, width, height, fitOf, REFINE_STEPS);
  return refined.score >= MIN_SEPARATION ? refined.inset : null;
}

/**
 * Per pixel, the mean squared change between consecutive views. Squared: a pixel a share of
 * which shows the inset's grain changes by that share of the inset's energy (its absolute
 * change would grow as the root of the share), so a rectangle's coverage models it. Kept as a
 * summed-area table: read bilinearly at fractional corners, it gives the map's sum weighted by
 * a rectangle's coverage in constant time.
 */
class ChangeMap {
  private readonly sums: Float64Array;
  private readonly stride: number;
  private readonly count: number;
  private readonly sum: number;
  /** Sum of squared deviations of the map from its mean. */
  readonly variance: number;

  constructor(
    views: Plane[],
    private readonly width: number,
    private readonly height: number,
  ) {
    const change = new Float64Array(width * height);
    for (let t = 1; t < views.length; t++) {
      for (let p = 0; p < change.length; p++) {
        change[p] += (views[t][p] - views[t - 1][p]) ** 2 / (views.length - 1);
      }
    }
    this.stride = width + 1;
    this.sums = new Float64Array((width + 1) * (height + 1));
    let squares = 0;
    for (let y = 0; y < height; y++) {
      let row = 0;
      for (let x = 0; x < width; x++) {
        row += change[y * width + x];
        squares += change[y * width + x] ** 2;
        this.sums[(y + 1) * this.stride + x + 1] = this.sums[y * this.stride + x + 1] + row;
      }
    }
    this.count = width * height;
    this.sum = this.sums[height * this.stride + width];
    this.variance = squares - (this.sum * this.sum) / this.count;
  }

  /**
   * The squared correlation of the map with the share of each pixel a rectangle covers (its
   * edges at fractional pixels, inside the frame): how much of the map's variance it explains.
   */
  fit(left: number, top: number, columns: number, rows: number): number {
    const right = left + columns;
    const bottom = top + rows;
    const product =
      this.at(right, bottom) - this.at(left, bottom) - this.at(right, top) + this.at(left, top);
    const coverage = columns * rows;
    const coverageSquares = squaredShares(left, right) * squaredShares(top, bottom);
    const coverageVariance = coverageSquares - (coverage * coverage) / this.count;
    if (!(coverageVariance > 0)) return -1;
    const covariance = product - (coverage * this.sum) / this.count;
    return (covariance * covariance) / (coverageVariance * this.variance);
  }

  /** The table at a fractional corner (bilinear). */
  private at(x: number, y: number): number {
    const x0 = Math.min(this.width - 1, Math.floor(x));
    const y0 = Math.min(this.height - 1, Math.floor(y));
    const fx = x - x0;
    const fy = y - y0;
    const i = y0 * this.stride + x0;
    const upper = this.sums[i] + fx * (this.sums[i + 1] - this.sums[i]);
    const below = i + this.stride;
    const lower = this.sums[below] + fx * (this.sums[below + 1] - this.sums[below]);
    return upper + fy * (lower - upper);
  }
}

/** Sum over pixels of the squared share of each that the interval [from, to] covers. */
function squaredShares(from: number, to: number): number {
  const first = Math.floor(from);
  if (Math.ceil(to) - first <= 1) return (to - from) ** 2;
  const whole = Math.floor(to) - Math.ceil(from);
  return (Math.ceil(from) - from) ** 2 + whole + (to - Math.floor(to)) ** 2;
}

/**
 * How far (detection pixels) the change map's estimate may be off: an encoder's ringing along
 * the inset's border, and the film's own border rows, change more than its inside.
 */
const POLISH_RADIUS = 1.5;
const POLISH_GRID = 0.5;
/** Screened places judged again, then moved by these steps (pixels). */
const POLISH_FINALISTS = 3;
const POLISH_STEPS = [0.25, 0.125];

/**
 * An inset found by its changes, placed to an eighth of a pixel by the signatures: through an
 * inset half a pixel off, a grainy film hardly matches at all. Every place and size within
 * POLISH_RADIUS on a grid is `screen`ed (cheap), the best few are `judge`d and moved by
 * shrinking steps while the judgement improves.
 */
export function polishInset(
  start: Inset,
  width: number,
  height: number,
  screen: (inset: Inset) => number,
  judge: (inset: Inset) => number,
): Inset {
  const offsets: number[] = [];
  for (let d = -POLISH_RADIUS; d <= POLISH_RADIUS + 1e-9; d += POLISH_GRID) offsets.push(d);
  const screened: { inset: Inset; score: number }[] = [];
  for (const dx of offsets) {
    for (const dy of offsets) {
      for (const grow of offsets) {
        const inset = moved(start, dx, dy, grow, width, height);
        if (fitsFrame(inset)) screened.push({ inset, score: screen(inset) });
      }
    }
  }
  screened.sort((a, b) => b.score - a.score);
  let best = { inset: start, score: -Infinity };
  for (const finalist of screened.slice(0, POLISH_FINALISTS)) {
    const climbed = climbInset(finalist.inset, width, height, judge, POLISH_STEPS);
    if (climbed.score > best.score) best = climbed;
  }
  return best.inset;
}

/** `inset` moved by (dx, dy) and grown by `grow` detection pixels (its corner held). */
function moved(
  inset: Inset,
  dx: number,
  dy: number,
  grow: number,
  width: number,
  height: number,
): Inset {
  return { scale: inset.scale + grow / width, x: inset.x + dx / width, y: inset.y + dy / height };
}

function fitsFrame(inset: Inset): boolean {
  return (
    inset.scale > 0 &&
    inset.x >= 0 &&
    inset.y >= 0 &&
    inset.x + inset.scale <= 1 + 1e-9 &&
    inset.y + inset.scale <= 1 + 1e-9
  );
}

/**
 * A pattern search of an inset's place and size from `start`: moved, or grown and shrunk with
 * one corner held (its shape is kept), by each of `steps` (detection pixels, coarse to fine)
 * while `judge` improves.
 */
export function climbInset(
  start: Inset,
  width: number,
  height: number,
  judge: (inset: Inset) => number,
  steps: number[],
): { inset: Inset; score: number } {
  let best = { inset: start, score: judge(start) };
  for (const step of steps) {
    const moves = [
      [step, 0, 0],
      [-step, 0, 0],
      [0, step, 0],
      [0, -step, 0],
    ];
    for (const grow of [step, -step]) {
      for (const [heldRight, heldBottom] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        // Grown by `grow` pixels across, it grows by grow x height / width pixels down.
        moves.push([-heldRight * grow, (-heldBottom * grow * height) / width, grow]);
      }
    }
    let improved = true;
    while (improved) {
      improved = false;
      for (const [dx, dy, grow] of moves) {
        const inset = moved(best.inset, dx, dy, grow, width, height);
        if (!fitsFrame(inset)) continue;
        const score = judge(inset);
        if (score > best.score + 1e-6) {
          best = { inset, score };
          improved = true;
        }
      }
    }
  }
  return best;
}
