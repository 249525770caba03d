import { CellTaps } from './cell-taps.js';
import { hasCamera, suspectFieldOnOriginal } from './camera-geometry.js';
import { type AxisTaps, type CropGeometry, PlaneWarp, suspectOnOriginal } from './geometry.js';
import { type DetectionReference } from './reference.js';

/**
 * Signature matching, on which temporal alignment (align.ts) rests: a suspect frame is compared
 * with the original through the reference's per-frame signatures (16x9 box averages of the
 * luma). Every comparison uses signatures normalised to zero mean and unit variance over the
 * cells both frames show, so a brightness or contrast change of the copy does not matter, and
 * a crop only removes the cells it cut away.
 */

/** A suspect frame whose signature varies less than this (luma levels) cannot be matched. */
export const MIN_SIGNATURE_DEVIATION = 1.5;
/** Size of the coarse signature of the global search (an average of 4x3 signature cells). */
export const COARSE_WIDTH = 4;
export const COARSE_HEIGHT = 3;
export const COARSE_CELLS = COARSE_WIDTH * COARSE_HEIGHT;
/**
 * The coarse signature of a normalised signature is flat below this deviation (a share of the
 * signature's): in fine-grained pictures (grain, a cellular automaton) the 4x3 averages keep
 * only about a third of the spread, which the flat rule of luma levels would zero out.
 */
export const MIN_NORMALIZED_COARSE_DEVIATION = 0.05;

/**
 * Builds suspect signatures in the original's coordinates for one geometry: the suspect's
 * detection view is warped onto the original grid, then box-averaged into signature cells.
 * Only the cells the suspect shows entirely are kept (`cells`).
 */
export class SignatureProjector {
  /** Indexes (row-major in the signature) of the cells the suspect covers entirely. */
  readonly cells: Int32Array;
  private readonly identity: boolean;
  private readonly width: number;
  private readonly signatureWidth: number;
  /** Identity geometry: signature cell of each detection pixel, and pixels per cell. */
  private readonly cellOfPixel: Int32Array;
  private readonly pixelsPerCell: Float64Array;
  private readonly sums: Float64Array;
  /**
   * Other geometries: the warp and the box average composed into one separable linear map,
   * cell (cx, cy) = sum over suspect pixels of columnWeights[cx][x] * rowWeights[cy][y] * view.
   * Each cell reads a short contiguous run of suspect columns (rows), stored sparsely.
   */
  private readonly columnMap: SparseRows;
  private readonly rowMap: SparseRows;
  /** Per suspect row, the column-reduced values of every signature column. */
  private readonly reduced: Float64Array;
  /** A geometry with camera terms (not separable): each cell's suspect pixels and weights. */
  private readonly cellTaps: CellTaps | null = null;

  constructor(
    reference: DetectionReference,
    readonly geometry: CropGeometry,
  ) {
    const { detectionWidth: width, detectionHeight: height } = reference;
    const { signatureWidth, signatureHeight } = reference;
    this.width = width;
    this.signatureWidth = signatureWidth;
    const warp = new PlaneWarp(width, height, width, height, suspectOnOriginal(geometry));
    this.identity =
      !hasCamera(geometry) &&
      !geometry.mirrored &&
      !geometry.bars &&
      geometry.left === 0 &&
      geometry.right === 0 &&
      geometry.top === 0 &&
      geometry.bottom === 0;
    this.sums = new Float64Array(signatureWidth * signatureHeight);
    // The same spans as the reference's box downscale (resample.ts) from view to signature.
    const columnStarts = spanStarts(width, signatureWidth);
    const rowStarts = spanStarts(height, signatureHeight);
    this.cellOfPixel = new Int32Array(width * height);
    this.pixelsPerCell = new Float64Array(signatureWidth * signatureHeight);
    const complete = new Uint8Array(signatureWidth * signatureHeight).fill(1);
    for (let cy = 0; cy < signatureHeight; cy++) {
      for (let cx = 0; cx < signatureWidth; cx++) {
        const cell = cy * signatureWidth + cx;
        for (let y = rowStarts[cy]; y < rowStarts[cy + 1]; y++) {
          for (let x = columnStarts[cx]; x < columnStarts[cx + 1]; x++) {
            this.cellOfPixel[y * width + x] = cell;
            this.pixelsPerCell[cell]++;
            if (warp.valid[y * width + x] === 0) complete[cell] = 0;
          }
        }
      }
    }
    this.columnMap = sparseAxisMap(warp.columns, columnStarts, width);
    this.rowMap = sparseAxisMap(warp.rows, rowStarts, height);
    if (hasCamera(geometry)) {
      // Camera terms are not separable: the cells read the suspect through their own taps
      // (the separable maps above go unused).
      const field = suspectFieldOnOriginal(geometry, width, height);
      this.cellTaps = new CellTaps(field, this.cellOfPixel, this.pixelsPerCell);
      complete.set(this.cellTaps.complete);
      if (geometry.overlay) this.cellTaps.leaveOut(complete, geometry.overlay);
    } else if (geometry.overlay) {
      leaveOutOverlaid(complete, geometry.overlay, width, this.columnMap, this.rowMap);
    }
    const cells: number[] = [];
    complete.forEach((isComplete, cell) => {
      if (isComplete === 1) cells.push(cell);
    });
    this.cells = Int32Array.from(cells);
    this.reduced = new Float64Array(height * signatureWidth);
  }

  /**
   * Writes the normalised signature of a suspect view (detection size, suspect coordinates)
   * into `out`, one value per entry of `cells`, and returns its standard deviation before
   * normalisation (0 when the frame is flat, then `out` is all zeros).
   */
  normalizedSignature(view: Uint8Array | Float32Array, out: Float32Array): number {
    const cells = this.cells;
    if (this.identity) {
      const sums = this.sums;
      sums.fill(0);
      const cellOfPixel = this.cellOfPixel;
      for (let i = 0; i < cellOfPixel.length; i++) sums[cellOfPixel[i]] += view[i];
      for (let c = 0; c < cells.length; c++) out[c] = sums[cells[c]] / this.pixelsPerCell[cells[c]];
    } else if (this.cellTaps) {
      this.cellTaps.project(view, cells, out);
    } else {
      this.project(view, out);
    }
    return normalizeInPlace(out, cells.length);
  }

  private project(view: Uint8Array | Float32Array, out: Float32Array): void {
    const { width, signatureWidth, reduced, columnMap, rowMap } = this;
    const rows = reduced.length / signatureWidth;
    for (let y = 0; y < rows; y++) {
      const row = y * width;
      for (let cx = 0; cx < signatureWidth; cx++) {
        const first = columnMap.first[cx];
        const weights = columnMap.offsets[cx];
        const end = columnMap.offsets[cx + 1];
        let sum = 0;
        for (let t = weights; t < end; t++)
          sum += columnMap.weights[t] * view[row + first + t - weights];
        reduced[y * signatureWidth + cx] = sum;
      }
    }
    const cells = this.cells;
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c];
      const cy = (cell / signatureWidth) | 0;
      const cx = cell - cy * signatureWidth;
      const first = rowMap.first[cy];
      const weights = rowMap.offsets[cy];
      const end = rowMap.offsets[cy + 1];
      let sum = 0;
      for (let t = weights; t < end; t++) {
        sum += rowMap.weights[t] * reduced[(first + t - weights) * signatureWidth + cx];
      }
      out[c] = sum;
    }
  }
}

/** Cells that read any suspect pixel of `overlay` (see CropGeometry) are not complete. */
function leaveOutOverlaid(
  complete: Uint8Array,
  overlay: Uint8Array,
  width: number,
  columnMap: SparseRows,
  rowMap: SparseRows,
): void {
  const columns = columnMap.first.length;
  for (let cy = 0; cy < rowMap.first.length; cy++) {
    const rowEnd = rowMap.first[cy] + rowMap.offsets[cy + 1] - rowMap.offsets[cy];
    for (let cx = 0; cx < columns; cx++) {
      const columnEnd = columnMap.first[cx] + columnMap.offsets[cx + 1] - columnMap.offsets[cx];
      let covered = false;
      for (let y = rowMap.first[cy]; y < rowEnd && !covered; y++) {
        for (let x = columnMap.first[cx]; x < columnEnd && !covered; x++) {
          covered = overlay[y * width + x] === 1;
        }
      }
      if (covered) complete[cy * columns + cx] = 0;
    }
  }
}

/**
 * Per output index o, a contiguous run of input weights: input first[o] + k has weight
 * weights[offsets[o] + k].
 */
interface SparseRows {
  first: Int32Array;
  offsets: Int32Array;
  weights: Float64Array;
}

/**
 * One axis of the suspect-to-signature map: signature cell c averages the original pixels of
 * its span, each a bilinear mix of two suspect pixels (taps); the result is a short run of
 * suspect-pixel weights per cell.
 */
function sparseAxisMap(taps: AxisTaps, starts: Int32Array, sourceSize: number): SparseRows {
  const parts = starts.length - 1;
  const dense = new Float64Array(sourceSize);
  const first = new Int32Array(parts);
  const offsets = new Int32Array(parts + 1);
  const runs: number[] = [];
  for (let c = 0; c < parts; c++) {
    dense.fill(0);
    const span = starts[c + 1] - starts[c];
    for (let p = starts[c]; p < starts[c + 1]; p++) {
      const index = taps.first[p];
      const weight = taps.weight[p];
      dense[index] += (1 - weight) / span;
      if (index + 1 < sourceSize) dense[index + 1] += weight / span;
    }
    let low = 0;
    while (low < sourceSize - 1 && dense[low] === 0) low++;
    let high = sourceSize - 1;
    while (high > low && dense[high] === 0) high--;
    first[c] = low;
    for (let i = low; i <= high; i++) runs.push(dense[i]);
    offsets[c + 1] = runs.length;
  }
  return { first, offsets, weights: Float64Array.from(runs) };
}

/**
 * Normalises the first `count` values to zero mean and unit variance in place; returns the
 * standard deviation they had (values are zeroed when it is below `flatBelow`, by default
 * MIN_SIGNATURE_DEVIATION / 4 luma levels: flat).
 */
export function normalizeInPlace(
  values: Float32Array,
  count: number,
  flatBelow = MIN_SIGNATURE_DEVIATION / 4,
): number {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < count; i++) {
    sum += values[i];
    squares += values[i] * values[i];
  }
  const mean = sum / count;
  const variance = squares / count - mean * mean;
  const deviation = variance > 0 ? Math.sqrt(variance) : 0;
  if (deviation < flatBelow) {
    values.fill(0, 0, count);
    return 0;
  }
  const scale = 1 / deviation;
  for (let i = 0; i < count; i++) values[i] = (values[i] - mean) * scale;
  return deviation;
}

/**
 * Correlates normalised suspect signatures (over a cell subset) with the reference's stored
 * signatures. The reference's normalisation over that subset is computed once per frame, on
 * first use.
 */
export class ReferenceMatcher {
  readonly frameCount: number;
  private readonly signatureSize: number;
  private readonly inverseNorms: Float32Array;

  constructor(
    private readonly reference: DetectionReference,
    readonly cells: Int32Array,
  ) {
    this.frameCount = reference.frameCount;
    this.signatureSize = reference.signatureWidth * reference.signatureHeight;
    // NaN = not computed yet; 0 = flat reference frame (correlates with nothing).
    this.inverseNorms = new Float32Array(reference.frameCount).fill(Number.NaN);
  }

  /**
   * Pearson correlation between a normalised suspect signature (see
   * SignatureProjector.normalizedSignature) and reference frame `frame`, over `cells`.
   */
  correlate(normalized: Float32Array, frame: number): number {
    if (frame < 0 || frame >= this.frameCount) return 0;
    const signatures = this.reference.signatures;
    const base = frame * this.signatureSize;
    const cells = this.cells;
    let inverseNorm = this.inverseNorms[frame];
    if (inverseNorm !== inverseNorm) {
      inverseNorm = this.computeInverseNorm(base);
      this.inverseNorms[frame] = inverseNorm;
    }
    if (inverseNorm === 0) return 0;
    // The suspect side has zero mean, so the reference's mean drops out of the dot product.
    let dot = 0;
    for (let c = 0; c < cells.length; c++) dot += normalized[c] * signatures[base + cells[c]];
    return dot * inverseNorm;
  }

  private computeInverseNorm(base: number): number {
    const signatures = this.reference.signatures;
    const cells = this.cells;
    let sum = 0;
    let squares = 0;
    for (let c = 0; c < cells.length; c++) {
      const value = signatures[base + cells[c]];
      sum += value;
      squares += value * value;
    }
    const count = cells.length;
    const variance = squares / count - (sum / count) * (sum / count);
    if (!(variance > (MIN_SIGNATURE_DEVIATION / 4) ** 2)) return 0;
    return 1 / (count * Math.sqrt(variance));
  }
}

/**
 * Coarse signatures: 4x3 box averages of a signature (same spans as resample.ts), normalised;
 * flat ones are all zero. Over a subset of the signature cells (`cells`, as a projector keeps
 * them: a copy with bars over its picture) each coarse cell averages the cells kept, and one
 * with none stays 0. One instance per signature size and subset; no allocation per call.
 */
export class CoarseSignature {
  /** The coarse cell of each kept signature cell, in the order of `cells`. */
  private readonly cellOf: Int32Array;
  private readonly cells: Int32Array;
  private readonly pixelsPerCell: Float64Array;

  constructor(signatureWidth: number, signatureHeight: number, cells?: Int32Array) {
    const size = signatureWidth * signatureHeight;
    this.cells = cells ?? Int32Array.from({ length: size }, (_, cell) => cell);
    const columnStarts = spanStarts(signatureWidth, COARSE_WIDTH);
    const rowStarts = spanStarts(signatureHeight, COARSE_HEIGHT);
    const coarseOf = new Int32Array(size);
    for (let cy = 0; cy < COARSE_HEIGHT; cy++) {
      for (let cx = 0; cx < COARSE_WIDTH; cx++) {
        for (let y = rowStarts[cy]; y < rowStarts[cy + 1]; y++) {
          for (let x = columnStarts[cx]; x < columnStarts[cx + 1]; x++) {
            coarseOf[y * signatureWidth + x] = cy * COARSE_WIDTH + cx;
          }
        }
      }
    }
    this.cellOf = this.cells.map((cell) => coarseOf[cell]);
    this.pixelsPerCell = new Float64Array(COARSE_CELLS);
    for (const coarse of this.cellOf) this.pixelsPerCell[coarse]++;
  }

  /**
   * Writes the normalised coarse signature of `signature` (from `start`: one value per kept
   * cell, as SignatureProjector.normalizedSignature writes them) into `out`; flat below
   * `flatBelow` (luma levels, or MIN_NORMALIZED_COARSE_DEVIATION for a normalised signature).
   */
  compute(
    signature: Uint8Array | Float32Array,
    out: Float32Array,
    start = 0,
    flatBelow?: number,
  ): Float32Array {
    out.fill(0, 0, COARSE_CELLS);
    const cellOf = this.cellOf;
    for (let i = 0; i < cellOf.length; i++) out[cellOf[i]] += signature[start + i];
    for (let c = 0; c < COARSE_CELLS; c++) {
      if (this.pixelsPerCell[c] > 0) out[c] /= this.pixelsPerCell[c];
    }
    normalizeInPlace(out, COARSE_CELLS, flatBelow);
    return out;
  }

  /** The coarse signature of every reference frame, frame after frame (the search table). */
  table(reference: DetectionReference): Float32Array {
    const size = reference.signatureWidth * reference.signatureHeight;
    const table = new Float32Array(reference.frameCount * COARSE_CELLS);
    const kept = new Float32Array(this.cells.length);
    const scratch = new Float32Array(COARSE_CELLS);
    for (let frame = 0; frame < reference.frameCount; frame++) {
      const base = frame * size;
      for (let i = 0; i < kept.length; i++) kept[i] = reference.signatures[base + this.cells[i]];
      this.compute(kept, scratch);
      table.set(scratch, frame * COARSE_CELLS);
    }
    return table;
  }
}

/** Start index of each of `parts` near-equal spans of `size`, plus the end (as in resample.ts). */
function spanStarts(size: number, parts: number): Int32Array {
  const starts = new Int32Array(parts + 1);
  for (let i = 0; i <= parts; i++) starts[i] = Math.round((i * size) / parts);
  return starts;
}
