import { type CameraTerms } from './camera-geometry.js';
import { type Plane } from './resample.js';

/**
 * Where a suspect's picture sits in the original frame: the fraction of the original width
 * (left, right) and height (top, bottom) cut away on each side before the copy was scaled back
 * to full frame. Negative values mean a border was added (the picture was shrunk). `mirrored`:
 * the copy was then flipped left to right (left and right still name the original's sides).
 * `bars`: black bars laid over the copy's own frame afterwards (a 4:3 centre crop pillarboxed
 * back into 16:9), as shares of the suspect frame: what they cover shows nothing.
 */
export interface CropGeometry {
  left: number;
  right: number;
  top: number;
  bottom: number;
  mirrored?: boolean;
  bars?: Bars;
  /**
   * Suspect pixels (detection size, 1 = covered) under an overlay burnt into the copy (a logo,
   * subtitles, a player's controls): signature cells that read any of them are left out of the
   * matching, and the pixels out of the geometry search.
   */
  overlay?: Uint8Array;
  /**
   * A filmed screen or a rotated copy: perspective, lens and rotation terms on top of the crop
   * (see camera-geometry.ts).
   */
  camera?: CameraTerms;
}

/** Shares of the suspect frame covered by black bars on each side (suspect coordinates). */
export interface Bars {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const IDENTITY_GEOMETRY: Readonly<CropGeometry> = { left: 0, right: 0, top: 0, bottom: 0 };

/** Along one axis: source coordinate = offset + scale * destination coordinate, both in [0, 1]. */
export interface AxisMap {
  offset: number;
  scale: number;
  /** The source interval that shows the picture (default [0, 1]). */
  low?: number;
  high?: number;
}

/**
 * Maps suspect coordinates to original coordinates: samples a plane of the original frame onto
 * the suspect grid.
 */
export function originalOnSuspect(geometry: CropGeometry): { x: AxisMap; y: AxisMap } {
  const width = 1 - geometry.left - geometry.right;
  // Mirrored: the suspect's left edge shows the original's right edge of the kept picture.
  const x = geometry.mirrored
    ? { offset: 1 - geometry.right, scale: -width }
    : { offset: geometry.left, scale: width };
  const y = { offset: geometry.top, scale: 1 - geometry.top - geometry.bottom };
  const bars = geometry.bars;
  if (!bars) return { x, y };
  // The original seen between the bars only.
  const between = (map: AxisMap, from: number, to: number): AxisMap => {
    const ends = [map.offset + map.scale * from, map.offset + map.scale * to];
    return { ...map, low: Math.max(0, Math.min(...ends)), high: Math.min(1, Math.max(...ends)) };
  };
  return {
    x: between(x, bars.left, 1 - bars.right),
    y: between(y, bars.top, 1 - bars.bottom),
  };
}

/**
 * The inverse: samples a suspect plane onto the original grid (pixels outside the crop are
 * invalid).
 */
export function suspectOnOriginal(geometry: CropGeometry): { x: AxisMap; y: AxisMap } {
  const { x, y } = originalOnSuspect({ ...geometry, bars: undefined });
  const bars = geometry.bars ?? { left: 0, right: 0, top: 0, bottom: 0 };
  return {
    x: { offset: -x.offset / x.scale, scale: 1 / x.scale, low: bars.left, high: 1 - bars.right },
    y: { offset: -y.offset / y.scale, scale: 1 / y.scale, low: bars.top, high: 1 - bars.bottom },
  };
}

export interface AxisTaps {
  /** Left (or top) source sample of each destination pixel. */
  first: Int32Array;
  /** Weight of the sample after `first` (bilinear). */
  weight: Float32Array;
  /** 1 when the destination pixel's footprint lies inside the source frame. */
  inside: Uint8Array;
}

/** Footprints may end a hair outside [0, 1] through rounding; they still count as inside. */
const INSIDE_TOLERANCE = 1e-6;

/** A warp's source plane must hold at least sourceWidth x sourceHeight values. */
export function checkSourcePlane(source: Plane, sourceWidth: number, sourceHeight: number): void {
  if (source.length < sourceWidth * sourceHeight) {
    throw new RangeError(`source plane is smaller than ${sourceWidth}x${sourceHeight}`);
  }
}

function axisTaps(destinationSize: number, sourceSize: number, map: AxisMap): AxisTaps {
  const first = new Int32Array(destinationSize);
  const weight = new Float32Array(destinationSize);
  const inside = new Uint8Array(destinationSize);
  // A pixel is inside when its whole footprint is: one straddling a border (black bars) would
  // mix picture and border.
  const halfFootprint = (0.5 * Math.abs(map.scale)) / destinationSize;
  for (let d = 0; d < destinationSize; d++) {
    const position = map.offset + (map.scale * (d + 0.5)) / destinationSize;
    const low = position - halfFootprint;
    const high = position + halfFootprint;
    inside[d] =
      low >= (map.low ?? 0) - INSIDE_TOLERANCE && high <= (map.high ?? 1) + INSIDE_TOLERANCE
        ? 1
        : 0;
    // Pixel centres sit at (i + 0.5) / size; beyond the outermost centres the edge is held.
    const sample = Math.min(sourceSize - 1, Math.max(0, position * sourceSize - 0.5));
    const index = Math.min(Math.floor(sample), Math.max(0, sourceSize - 2));
    first[d] = index;
    weight[d] = sourceSize > 1 ? sample - index : 0;
  }
  return { first, weight, inside };
}

/**
 * A separable bilinear resampling from a source plane to a destination grid under an affine map
 * per axis (scale + offset, no rotation): enough for crops, borders and any rescaling. Taps are
 * precomputed once, so applying it costs a few operations per destination pixel.
 */
export class PlaneWarp {
  /** 1 where the destination pixel sees the source picture; outside pixels are written as 0. */
  readonly valid: Uint8Array;
  readonly validCount: number;
  /** Bilinear taps along x (one per destination column) and y (one per destination row). */
  readonly columns: AxisTaps;
  readonly rows: AxisTaps;

  constructor(
    readonly sourceWidth: number,
    readonly sourceHeight: number,
    readonly width: number,
    readonly height: number,
    map: { x: AxisMap; y: AxisMap },
  ) {
    this.columns = axisTaps(width, sourceWidth, map.x);
    this.rows = axisTaps(height, sourceHeight, map.y);
    this.valid = new Uint8Array(width * height);
    let count = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inside = this.rows.inside[y] & this.columns.inside[x];
        this.valid[y * width + x] = inside;
        count += inside;
      }
    }
    this.validCount = count;
  }

  apply(
    source: Plane,
    out: Float32Array = new Float32Array(this.width * this.height),
  ): Float32Array {
    checkSourcePlane(source, this.sourceWidth, this.sourceHeight);
    const { first: columnFirst, weight: columnWeight, inside: columnInside } = this.columns;
    const sourceWidth = this.sourceWidth;
    const stepDown = this.sourceHeight > 1 ? sourceWidth : 0;
    const stepRight = sourceWidth > 1 ? 1 : 0;
    for (let y = 0; y < this.height; y++) {
      const row = y * this.width;
      if (this.rows.inside[y] === 0) {
        out.fill(0, row, row + this.width);
        continue;
      }
      const top = this.rows.first[y] * sourceWidth;
      const down = this.rows.weight[y];
      for (let x = 0; x < this.width; x++) {
        if (columnInside[x] === 0) {
          out[row + x] = 0;
          continue;
        }
        const i = top + columnFirst[x];
        const right = columnWeight[x];
        const upper = source[i] + (source[i + stepRight] - source[i]) * right;
        const lower =
          source[i + stepDown] + (source[i + stepDown + stepRight] - source[i + stepDown]) * right;
        out[row + x] = upper + (lower - upper) * down;
      }
    }
    return out;
  }
}

/** Luma at or under which a column or row is black in every frame of a window: a bar. */
const BAR_LUMA = 28;
/** Bars cover at most this share of the frame on one side. */
const MAX_BAR_SHARE = 0.4;

/**
 * The black bars around a window of suspect views (detection size), one pixel wider than the
 * columns and rows that stay black throughout (the edge pixel blends bar and picture); null
 * when there are none.
 */
export function barsOf(views: Plane[], width: number, height: number): Bars | null {
  const columnMax = new Float32Array(width);
  const rowMax = new Float32Array(height);
  for (const view of views) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const value = view[y * width + x];
        if (value > columnMax[x]) columnMax[x] = value;
        if (value > rowMax[y]) rowMax[y] = value;
      }
    }
  }
  const share = (maxima: Float32Array, reversed: boolean): number => {
    const limit = Math.floor(maxima.length * MAX_BAR_SHARE);
    let black = 0;
    while (black < limit && maxima[reversed ? maxima.length - 1 - black : black] <= BAR_LUMA) {
      black++;
    }
    return black > 0 ? (black + 1) / maxima.length : 0;
  };
  const bars = {
    left: share(columnMax, false),
    right: share(columnMax, true),
    top: share(rowMax, false),
    bottom: share(rowMax, true),
  };
  return bars.left + bars.right + bars.top + bars.bottom > 0 ? bars : null;
}

/**
 * A pixel is under an overlay when its median change from frame to frame is at most this share
 * of the picture's typical one: an opaque logo or subtitles stay put while the picture moves.
 */
const OVERLAY_STILLNESS = 0.3;
/** An overlay covers at most this share of the frame (more: a still picture, not an overlay). */
const MAX_OVERLAY_SHARE = 0.3;
/**
 * A player's controls over a screen recording are semi-transparent bars across the top or
 * bottom: they dim the picture (and its changes, by their opacity) rather than hide it. Rows
 * within MAX_BAND_SHARE of the height from an edge whose changes are at most this share of
 * the typical one (and more than OVERLAY_STILLNESS), and the rows between them and the edge,
 * are such a band.
 */
const BAND_STILLNESS = 0.7;
export const MAX_BAND_SHARE = 0.15;

/**
 * The pixels (detection size, 1 = covered) of a window of suspect views that stay still while
 * the rest of the picture moves (a logo or subtitles burnt in), or that a band at the top or
 * bottom dims (a player's controls, see BAND_STILLNESS). Null when none, or when the picture
 * itself is still (nothing to tell an overlay from).
 */
export function overlayOf(views: Plane[], width: number, height: number): Uint8Array | null {
  const size = width * height;
  if (views.length < 3) return null;
  // Per pixel, a histogram of its frame-to-frame changes (whole luma levels) for the median.
  const histograms = new Uint16Array(size * 256);
  for (let t = 1; t < views.length; t++) {
    const now = views[t];
    const before = views[t - 1];
    for (let p = 0; p < size; p++) {
      const change = Math.min(255, Math.round(Math.abs(now[p] - before[p])));
      histograms[p * 256 + change]++;
    }
  }
  const half = (views.length - 1) / 2;
  const medians = new Float32Array(size);
  for (let p = 0; p < size; p++) {
    let count = 0;
    let level = 0;
    while (level < 255 && count + histograms[p * 256 + level] < half) {
      count += histograms[p * 256 + level];
      level++;
    }
    medians[p] = level;
  }
  const typical = Float32Array.from(medians).sort()[size >> 1];
  if (typical < 2) return null;
  // Still pixels, pixels of a band, and their neighbours (the scaler blends an overlay's edge
  // into them).
  const banded = bandRows(medians, width, height, typical);
  const overlay = new Uint8Array(size);
  let covered = 0;
  for (let p = 0; p < size; p++) {
    if (medians[p] > OVERLAY_STILLNESS * typical && !banded[Math.floor(p / width)]) continue;
    const x = p % width;
    const y = (p - x) / width;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
        covered += 1 - overlay[ny * width + nx];
        overlay[ny * width + nx] = 1;
      }
    }
  }
  return covered > 0 && covered <= MAX_OVERLAY_SHARE * size ? overlay : null;
}

/** Per row, 1 when it belongs to a band at the top or bottom edge (see BAND_STILLNESS). */
function bandRows(
  medians: Float32Array,
  width: number,
  height: number,
  typical: number,
): Uint8Array {
  const banded = new Uint8Array(height);
  const rowChange = (y: number): number =>
    medians
      .subarray(y * width, (y + 1) * width)
      .slice()
      .sort()[width >> 1];
  const limit = Math.floor(height * MAX_BAND_SHARE);
  for (const [start, step] of [
    [0, 1],
    [height - 1, -1],
  ]) {
    // The deepest dimmed row within reach, and every row between it and the edge (the frame's
    // outermost row may be blended with the picture by the scaler).
    let depth = 0;
    for (let k = 0; k < limit; k++) {
      const change = rowChange(start + step * k);
      // Dimmed, not hidden: still rows (black bars, subtitles) are opaque overlays' business.
      if (change > OVERLAY_STILLNESS * typical && change <= BAND_STILLNESS * typical) {
        depth = k + 1;
      }
    }
    for (let k = 0; k < depth; k++) banded[start + step * k] = 1;
  }
  return banded;
}
