/**
 * Where a copy is far noisier than elsewhere: the squared residuals of the last few segments
 * read from it, per pixel of the suspect grid. After a heavy re-encode of a test card, the
 * edges of its bars and letters carry many times the compression error of the rest, and an
 * overlay far more again; a pixel whose recent residual energy exceeds NOISY_RATIO times the
 * picture's median weighs in the next segment's projection by the inverse of that excess.
 * Below it every pixel weighs 1: a plain inverse-variance weight would also turn away from the
 * textured parts of a moving picture, where the perceptual mask put most of the mark.
 *
 * Only past segments weigh a segment (its own noise would decide its weights), and the decoys
 * are projected with the same weights, so the soft bits stay calibrated whatever the weights.
 */

/** Segments of history: enough to average the noise, short enough to follow the picture. */
const HISTORY_SEGMENTS = 8;
/** Residual energy, relative to the picture's median, above which a pixel weighs less. */
const NOISY_RATIO = 4;
/**
 * Added to every pixel's residual energy (luma levels², detection size): where a copy is
 * nearly clean, tiny differences do not count.
 */
const NOISE_FLOOR = 0.5;

export class NoiseHistory {
  private readonly planes: Float32Array[] = [];
  private next = 0;
  private readonly energies: Float32Array;
  private readonly sorted: Float32Array;

  constructor(private readonly size: number) {
    this.energies = new Float32Array(size);
    this.sorted = new Float32Array(size);
  }

  /** Forgets every segment (a new, unrelated sequence of segments starts). */
  forget(): void {
    this.planes.length = 0;
    this.next = 0;
  }

  /** Adds a segment's residual (0 outside `valid`). */
  record(residual: Float32Array, valid: Uint8Array): void {
    let plane = this.planes[this.next];
    if (!plane) {
      plane = new Float32Array(this.size);
      this.planes[this.next] = plane;
    }
    for (let i = 0; i < this.size; i++) plane[i] = valid[i] === 0 ? 0 : residual[i] * residual[i];
    this.next = (this.next + 1) % HISTORY_SEGMENTS;
  }

  /** Per pixel of `mask`, the weight of the next segment's projection (0 outside `mask`). */
  weights(mask: Uint8Array, out: Float32Array): Float32Array {
    const { planes, energies, sorted } = this;
    const count = planes.length;
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (mask[i] === 0 || count === 0) continue;
      let energy = 0;
      for (let k = 0; k < count; k++) energy += planes[k][i];
      energies[i] = energy / count + NOISE_FLOOR;
      sorted[n++] = energies[i];
    }
    const limit = n > 0 ? NOISY_RATIO * sorted.subarray(0, n).sort()[n >> 1] : Infinity;
    for (let i = 0; i < this.size; i++) {
      out[i] = mask[i] === 0 ? 0 : n === 0 ? 1 : Math.min(1, limit / energies[i]);
    }
    return out;
  }
}
