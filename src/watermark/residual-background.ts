/**
 * What a copy departs from the original by in every segment alike. Filmed off a screen, a still
 * picture keeps the same misfit segment after segment (the keystone, lens and gamma the models
 * leave over, at the edges of its bars and letters), many times the mark's amplitude. The mean
 * residual of the last few segments estimates it; each of those segments carries its own key
 * pattern with its own sign, independent of this segment's, so the mean holds next to none of
 * this segment's mark, and taking it out removes the misfit and leaves the mark.
 *
 * Whether a segment is read with the background taken out is decided by the segments before it
 * only (as NoiseHistory weighs them): each is read both ways, and the background is taken out
 * when it lowered the decoy noise of the last segments clearly (MAX_NOISE_RATIO). On a moving
 * picture the past misfit does not predict the present one, and the plain reading stays.
 */

/** Segments whose mean residual is the background; and whose noise decides for the next. */
const BACKGROUND_SEGMENTS = 8;
/** Past segments needed before a background is estimated. */
const MIN_BACKGROUND_SEGMENTS = 2;
/**
 * The background is taken out only where it made the recent readings at least this much less
 * noisy (variance): near break-even it would add the past segments' noise for nothing (on the
 * fractal's re-encodes, taking it out at any gain lost 0.1–0.3 of the pirate's score).
 */
const MAX_NOISE_RATIO = 0.8;

export class ResidualBackground {
  private readonly planes: Float32Array[] = [];
  private next = 0;
  private readonly mean: Float32Array;
  /** Per recent segment: the decoy noise read plainly, and with the background out. */
  private readonly noise: { plain: number; subtracted: number }[] = [];

  constructor(private readonly size: number) {
    this.mean = new Float32Array(size);
  }

  /** Forgets every segment (a new, unrelated sequence of segments starts). */
  forget(): void {
    this.planes.length = 0;
    this.next = 0;
    this.noise.length = 0;
  }

  /** Averages the past segments' residuals; false while there are too few of them. */
  prepare(): boolean {
    const count = this.planes.length;
    if (count < MIN_BACKGROUND_SEGMENTS) return false;
    const mean = this.mean;
    mean.fill(0);
    for (const plane of this.planes) for (let i = 0; i < this.size; i++) mean[i] += plane[i];
    for (let i = 0; i < this.size; i++) mean[i] /= count;
    return true;
  }

  /** Whether the background made the recent segments' readings clearly less noisy. */
  get preferred(): boolean {
    let plain = 0;
    let subtracted = 0;
    for (const reading of this.noise) {
      plain += reading.plain;
      subtracted += reading.subtracted;
    }
    return this.noise.length > 0 && subtracted < MAX_NOISE_RATIO * plain;
  }

  /** Takes the prepared background out of `residual` where `pixels`; 0 elsewhere. */
  subtract(residual: Float32Array, pixels: Uint8Array): void {
    for (let i = 0; i < this.size; i++) {
      residual[i] = pixels[i] === 0 ? 0 : residual[i] - this.mean[i];
    }
  }

  /** Adds a segment's residual (0 outside the pixels read) to the background of later ones. */
  record(residual: Float32Array): void {
    let plane = this.planes[this.next];
    if (!plane) {
      plane = new Float32Array(this.size);
      this.planes[this.next] = plane;
    }
    plane.set(residual);
    this.next = (this.next + 1) % BACKGROUND_SEGMENTS;
  }

  /** Adds a segment's decoy noise variance read both ways. */
  recordNoise(plain: number, subtracted: number): void {
    this.noise.push({ plain, subtracted });
    if (this.noise.length > BACKGROUND_SEGMENTS) this.noise.shift();
  }
}
