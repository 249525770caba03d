import { type FieldWarp } from './camera-geometry.js';

/**
 * The signature cells of a suspect seen through a map that is not separable (camera terms):
 * cell c = sum over suspect pixels p of weight(c, p) x view[p], each cell reading the few
 * dozen suspect pixels under its original pixels' bilinear taps (stored sparsely, row by
 * cell). Cheaper per frame than warping the view first: about 40 taps per cell.
 */
export class CellTaps {
  /** 1 when every original pixel of the cell sees the suspect picture. */
  readonly complete: Uint8Array;
  /** Cell c's taps are indexes[offsets[c]] … indexes[offsets[c + 1] - 1]. */
  private readonly offsets: Int32Array;
  private readonly indexes: Int32Array;
  private readonly weights: Float64Array;

  /**
   * `field` samples the suspect onto the original grid; `cellOfPixel` gives each original
   * pixel's cell and `pixelsPerCell` their counts (the box average of the signature).
   */
  constructor(field: FieldWarp, cellOfPixel: Int32Array, pixelsPerCell: Float64Array) {
    const cellCount = pixelsPerCell.length;
    const sourceWidth = field.sourceWidth;
    const perCell: Map<number, number>[] = Array.from(
      { length: cellCount },
      () => new Map<number, number>(),
    );
    this.complete = new Uint8Array(cellCount).fill(1);
    for (let p = 0; p < cellOfPixel.length; p++) {
      const cell = cellOfPixel[p];
      if (field.valid[p] === 0) this.complete[cell] = 0;
      const share = 1 / pixelsPerCell[cell];
      const s = field.first[p];
      const right = field.right[p];
      const down = field.down[p];
      const taps = perCell[cell];
      const add = (index: number, weight: number): void => {
        if (weight !== 0) taps.set(index, (taps.get(index) ?? 0) + weight * share);
      };
      add(s, (1 - right) * (1 - down));
      add(s + 1, right * (1 - down));
      add(s + sourceWidth, (1 - right) * down);
      add(s + sourceWidth + 1, right * down);
    }
    this.offsets = new Int32Array(cellCount + 1);
    const indexes: number[] = [];
    const weights: number[] = [];
    perCell.forEach((taps, cell) => {
      for (const [index, weight] of taps) {
        indexes.push(index);
        weights.push(weight);
      }
      this.offsets[cell + 1] = indexes.length;
    });
    this.indexes = Int32Array.from(indexes);
    this.weights = Float64Array.from(weights);
  }

  /** Writes the value of each of `cells` (in their order) for a suspect view into `out`. */
  project(view: Uint8Array | Float32Array, cells: Int32Array, out: Float32Array): void {
    const { offsets, indexes, weights } = this;
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c];
      let sum = 0;
      for (let t = offsets[cell]; t < offsets[cell + 1]; t++) sum += weights[t] * view[indexes[t]];
      out[c] = sum;
    }
  }

  /** Marks incomplete the cells that read any suspect pixel under `overlay` (1 = covered). */
  leaveOut(complete: Uint8Array, overlay: Uint8Array): void {
    for (let cell = 0; cell < complete.length; cell++) {
      for (let t = this.offsets[cell]; t < this.offsets[cell + 1]; t++) {
        if (overlay[this.indexes[t]] === 1) complete[cell] = 0;
      }
    }
  }
}
