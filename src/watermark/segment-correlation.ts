import { originalWarpOnSuspect, type Warp } from './camera-geometry.js';
import { type CropGeometry, IDENTITY_GEOMETRY, originalOnSuspect, PlaneWarp } from './geometry.js';
import { watermarkPattern } from './pattern.js';
import { type KeyMaterial } from './prng.js';
import { NoiseHistory } from './noise-weights.js';
import { type DetectionReference } from './reference.js';
import { ResidualBackground } from './residual-background.js';

/**
 * Per-segment detection: the suspect's frames aligned to one segment of the original are
 * averaged, the original's view of the same frames is subtracted after a brightness/contrast
 * fit (and, where it helps, what every segment of the copy departs by alike: see
 * ResidualBackground), and the residual is projected on the segment's key pattern. The same projection on
 * decoy patterns (independent of the key) measures the noise, which turns the projection into
 * a soft bit.
 */

/** Decoy patterns per segment: their projections give the noise level of each segment. */
export const DECOY_COUNT = 16;
/** Decoys come from a fixed public key: independent of every job key, same statistics. */
const DECOY_KEY = 'autograph:detector-decoys';
/** Patterns are rendered at twice the detection size, then sampled onto the suspect grid. */
const PATTERN_OVERSAMPLING = 2;
/** A contrast gain outside this range means the fit failed (e.g. a flat or unrelated picture). */
const MIN_CONTRAST_GAIN = 0.2;
const MAX_CONTRAST_GAIN = 5;

/** The fewest suspect pixels a segment is read from. */
const MIN_PIXELS = 16;
/**
 * A pixel whose residual departs from the median by more than this many robust standard
 * deviations, and by more than OUTLIER_FLOOR luma levels, shows something else than the
 * original (an overlay). The floor is many times the mark's amplitude at detection size, so
 * a clean copy keeps (nearly) every pixel.
 */
const OUTLIER_SIGMAS = 6;
const OUTLIER_FLOOR = 12;
/** Standard deviation of a gaussian per unit of median absolute deviation. */
const MAD_TO_SIGMA = 1.4826;

/** Running sums over the suspect frames aligned to one segment of the original. */
export class SegmentAccumulator {
  segment = -1;
  frames = 0;
  /** Sum of the suspect detection views (suspect coordinates). */
  readonly viewSum: Float32Array;
  /** Sum of the reference signatures of the original frames they were aligned to. */
  readonly signatureSum: Float32Array;

  constructor(viewSize: number, signatureSize: number) {
    this.viewSum = new Float32Array(viewSize);
    this.signatureSum = new Float32Array(signatureSize);
  }

  reset(segment: number): void {
    this.segment = segment;
    this.frames = 0;
    this.viewSum.fill(0);
    this.signatureSum.fill(0);
  }

  add(view: Uint8Array, signature: Uint8Array): void {
    const viewSum = this.viewSum;
    for (let i = 0; i < viewSum.length; i++) viewSum[i] += view[i];
    const signatureSum = this.signatureSum;
    for (let i = 0; i < signatureSum.length; i++) signatureSum[i] += signature[i];
    this.frames++;
  }
}

/**
 * The original's mean detection view over an arbitrary subset of a segment's frames: the
 * stored segment mean, corrected by the (upsampled) difference between the mean signature of
 * the subset and that of the whole segment. Exact when the subset is the whole segment; for a
 * partial segment the correction removes the content's motion down to signature resolution.
 */
export class ReferenceEstimator {
  private readonly upsample: PlaneWarp;
  private readonly difference: Float32Array;
  private readonly correction: Float32Array;
  private readonly signatureSize: number;
  private readonly viewSize: number;

  constructor(private readonly reference: DetectionReference) {
    const { detectionWidth, detectionHeight, signatureWidth, signatureHeight } = reference;
    this.signatureSize = signatureWidth * signatureHeight;
    this.viewSize = detectionWidth * detectionHeight;
    this.upsample = new PlaneWarp(
      signatureWidth,
      signatureHeight,
      detectionWidth,
      detectionHeight,
      originalOnSuspect(IDENTITY_GEOMETRY),
    );
    this.difference = new Float32Array(this.signatureSize);
    this.correction = new Float32Array(this.viewSize);
  }

  /** Writes the estimate (original coordinates, detection size) for `frames` frames into `out`. */
  estimate(segment: number, signatureSum: Float32Array, frames: number, out: Float32Array): void {
    const { reference, signatureSize, viewSize } = this;
    const first = segment * reference.framesPerSegment;
    const last = Math.min(reference.frameCount, first + reference.framesPerSegment);
    const difference = this.difference;
    difference.fill(0);
    const signatures = reference.signatures;
    for (let frame = first; frame < last; frame++) {
      const base = frame * signatureSize;
      for (let c = 0; c < signatureSize; c++) difference[c] -= signatures[base + c];
    }
    const segmentFrames = Math.max(1, last - first);
    for (let c = 0; c < signatureSize; c++) {
      difference[c] = signatureSum[c] / frames + difference[c] / segmentFrames;
    }
    this.upsample.apply(difference, this.correction);
    const means = reference.segmentMeans;
    const base = segment * viewSize;
    for (let i = 0; i < viewSize; i++) out[i] = means[base + i] + this.correction[i];
  }
}

/** What one segment of the suspect says about its symbol. */
export interface SegmentObservation {
  /** Projection of the residual on the segment's pattern, in luma levels (sign = symbol). */
  amplitude: number;
  /** Variance of the same projection on decoy patterns: the noise of `amplitude`. */
  noiseVariance: number;
  /** Suspect frames averaged. */
  frames: number;
}

/**
 * Turns accumulated segments into observations for one suspect geometry. All buffers are
 * allocated once; observing a segment costs O(detection pixels x decoys).
 */
export class SegmentCorrelator {
  /** Suspect pixels that show the original picture (and are not next to a border). */
  readonly valid: Uint8Array;
  readonly validCount: number;
  private readonly width: number;
  private readonly height: number;
  private readonly originalWarp: Warp;
  private readonly patternWarp: Warp;
  private readonly estimator: ReferenceEstimator;
  /** Decoy patterns on the suspect grid. */
  private readonly decoys: Float32Array[];
  private readonly history: NoiseHistory;
  private readonly background: ResidualBackground;
  /** Per pixel: the weight of the next reading (see NoiseHistory), and it with outliers out. */
  private readonly weights: Float32Array;
  private readonly maskedWeights: Float32Array;
  private readonly estimateOriginal: Float32Array;
  private readonly estimateSuspect: Float32Array;
  private readonly residual: Float32Array;
  private readonly pattern: Float32Array;
  /** Scratch for the outliers, the inlier mask and the sorted residuals. */
  private readonly outlier: Uint8Array;
  private readonly kept: Uint8Array;
  private readonly sorted: Float32Array;

  constructor(
    reference: DetectionReference,
    private readonly key: KeyMaterial,
    readonly geometry: CropGeometry,
  ) {
    const { detectionWidth: width, detectionHeight: height } = reference;
    this.width = width;
    this.height = height;
    this.originalWarp = originalWarpOnSuspect(geometry, width, height, width, height);
    this.patternWarp = originalWarpOnSuspect(
      geometry,
      width * PATTERN_OVERSAMPLING,
      height * PATTERN_OVERSAMPLING,
      width,
      height,
    );
    // Scalers blur across a border (black bars) by about a pixel: its neighbours are left out,
    // and so is what an overlay covers (it shows something else than the picture).
    this.valid = erode(this.originalWarp.valid, width, height);
    const { overlay } = geometry;
    if (overlay) for (let i = 0; i < overlay.length; i++) this.valid[i] &= 1 - overlay[i];
    this.validCount = this.valid.reduce((count, inside) => count + inside, 0);
    this.estimator = new ReferenceEstimator(reference);
    const size = width * height;
    this.estimateOriginal = new Float32Array(size);
    this.estimateSuspect = new Float32Array(size);
    this.residual = new Float32Array(size);
    this.pattern = new Float32Array(size);
    this.outlier = new Uint8Array(size);
    this.kept = new Uint8Array(size);
    this.sorted = new Float32Array(size);
    this.history = new NoiseHistory(size);
    this.background = new ResidualBackground(size);
    this.weights = new Float32Array(size);
    this.maskedWeights = new Float32Array(size);
    this.decoys = Array.from({ length: DECOY_COUNT }, (_, d) =>
      this.warpedPattern(DECOY_KEY, d, new Float32Array(size)),
    );
  }

  /** Null when the segment cannot be read (flat picture, failed brightness/contrast fit). */
  observe(accumulator: SegmentAccumulator): SegmentObservation | null {
    const { frames, segment } = accumulator;
    if (frames === 0 || this.validCount < MIN_PIXELS) return null;
    this.estimator.estimate(segment, accumulator.signatureSum, frames, this.estimateOriginal);
    const estimate = this.originalWarp.apply(this.estimateOriginal, this.estimateSuspect);
    const viewSum = accumulator.viewSum;
    const inverseFrames = 1 / frames;
    const fit = (pixels: Uint8Array): boolean =>
      this.fitResidual(viewSum, inverseFrames, estimate, pixels);
    if (!fit(this.valid)) return null;
    // Where the copy was noisy over the last segments weighs this one; then it joins them.
    const weights = this.history.weights(this.valid, this.weights);
    this.history.record(this.residual, this.valid);
    const inliers = this.inliers();
    const pattern = this.warpedPattern(this.key, segment, this.pattern);
    // Read plainly and, once there is a background, with it taken out (see ResidualBackground):
    // both readings weigh the choice for later segments, the earlier ones choose this one's.
    const background = this.background;
    const prepared = background.prepare();
    const preferred = prepared && background.preferred;
    background.record(this.residual);
    const plain = this.read(pattern, weights, frames, inliers, fit, null);
    if (!prepared) return plain;
    // The plain reading's refit without outliers changed the residual: fitted again first.
    fit(this.valid);
    const subtracted = this.read(pattern, weights, frames, inliers, fit, background);
    if (plain && subtracted) background.recordNoise(plain.noiseVariance, subtracted.noiseVariance);
    return preferred ? subtracted : plain;
  }

  /** Starts a new sequence of segments: the noise of earlier ones no longer weighs. */
  forget(): void {
    this.history.forget();
    this.background.forget();
  }

  /**
   * Reads the residual fitted over the valid pixels, less `background` when given. Pixels where
   * the copy departs far more than compression does (a logo, subtitles, an inset) are left out,
   * and brightness/contrast refitted without them: an overlay would otherwise drown the mark and
   * skew the fit. Whichever of the two readings is the more precise is kept: a camcorder copy's
   * residual departs at the edges of a picture the crop model does not quite fit, and there
   * leaving pixels out costs more mark than noise.
   */
  private read(
    pattern: Float32Array,
    weights: Float32Array,
    frames: number,
    inliers: Uint8Array,
    fit: (pixels: Uint8Array) => boolean,
    background: ResidualBackground | null,
  ): SegmentObservation | null {
    if (background) background.subtract(this.residual, this.valid);
    const plain = this.project(pattern, weights, frames);
    if (inliers === this.valid || !fit(inliers)) return plain;
    if (background) background.subtract(this.residual, inliers);
    const maskedWeights = this.maskedWeights;
    for (let i = 0; i < maskedWeights.length; i++) maskedWeights[i] = weights[i] * inliers[i];
    const masked = this.project(pattern, maskedWeights, frames);
    if (!plain) return masked;
    return masked && masked.noiseVariance < plain.noiseVariance ? masked : plain;
  }

  /**
   * Projects the residual on the segment's pattern by weighted least squares (`weights`: 0
   * where a pixel is not read), and on the decoys with the mark taken out for its noise.
   * Centres `pattern` under the weights; leaves the residual as it is.
   */
  private project(
    pattern: Float32Array,
    weights: Float32Array,
    frames: number,
  ): SegmentObservation | null {
    const residual = this.residual;
    const patternEnergy = centerWeighted(pattern, weights);
    if (!(patternEnergy > 0)) return null;
    const amplitude = weightedDot(residual, pattern, weights) / patternEnergy;
    let totalWeight = 0;
    let residualSum = 0;
    for (let i = 0; i < residual.length; i++) {
      totalWeight += weights[i];
      residualSum += weights[i] * residual[i];
    }
    let noiseVariance = 0;
    for (const decoy of this.decoys) {
      // Decoys see the residual without the mark (minus amplitude x pattern, whose weighted
      // sum is 0), so a strong mark does not inflate the noise; each decoy is centred under
      // the weights by taking its weighted mean out of the sums.
      let sum = 0;
      let squares = 0;
      let products = 0;
      let withPattern = 0;
      for (let i = 0; i < decoy.length; i++) {
        const weighted = weights[i] * decoy[i];
        sum += weighted;
        squares += weighted * decoy[i];
        products += weighted * residual[i];
        withPattern += weighted * pattern[i];
      }
      const mean = sum / totalWeight;
      const centredProducts = products - amplitude * withPattern - mean * residualSum;
      const projection = centredProducts / (squares - mean * sum);
      noiseVariance += projection * projection;
    }
    noiseVariance /= DECOY_COUNT;
    return { amplitude, noiseVariance, frames };
  }

  /**
   * Least squares fit suspect ≈ gain * original + shift over `valid` (brightness and
   * contrast), then the residual in the original's luma scale, (suspect - shift) / gain -
   * original, 0 outside `valid`. False when the fit fails (flat or unrelated picture).
   */
  private fitResidual(
    viewSum: Float32Array,
    inverseFrames: number,
    estimate: Float32Array,
    valid: Uint8Array,
  ): boolean {
    let n = 0;
    let sumSuspect = 0;
    let sumOriginal = 0;
    let sumOriginalSquares = 0;
    let sumProducts = 0;
    for (let i = 0; i < valid.length; i++) {
      if (valid[i] === 0) continue;
      const suspect = viewSum[i] * inverseFrames;
      const original = estimate[i];
      n++;
      sumSuspect += suspect;
      sumOriginal += original;
      sumOriginalSquares += original * original;
      sumProducts += suspect * original;
    }
    if (n < MIN_PIXELS) return false;
    const originalVariance = sumOriginalSquares - (sumOriginal * sumOriginal) / n;
    if (!(originalVariance > n * 1e-3)) return false;
    const gain = (sumProducts - (sumSuspect * sumOriginal) / n) / originalVariance;
    if (!(gain >= MIN_CONTRAST_GAIN && gain <= MAX_CONTRAST_GAIN)) return false;
    const shift = (sumSuspect - gain * sumOriginal) / n;
    const residual = this.residual;
    const inverseGain = 1 / gain;
    for (let i = 0; i < valid.length; i++) {
      residual[i] =
        valid[i] === 0 ? 0 : (viewSum[i] * inverseFrames - shift) * inverseGain - estimate[i];
    }
    return true;
  }

  /**
   * The valid pixels away from outliers: residuals beyond OUTLIER_SIGMAS robust deviations
   * (median absolute deviation) and OUTLIER_FLOOR from the median. `valid` itself when no
   * pixel departs that far.
   */
  private inliers(): Uint8Array {
    const { residual, valid } = this;
    const values = this.sorted.subarray(0, this.validCount);
    let n = 0;
    for (let i = 0; i < valid.length; i++) if (valid[i] !== 0) values[n++] = residual[i];
    values.sort();
    const median = values[n >> 1];
    for (let i = 0; i < n; i++) values[i] = Math.abs(values[i] - median);
    values.sort();
    const limit = Math.max(OUTLIER_FLOOR, OUTLIER_SIGMAS * MAD_TO_SIGMA * values[n >> 1]);
    const outlier = this.outlier;
    let outliers = 0;
    for (let i = 0; i < valid.length; i++) {
      outlier[i] = valid[i] !== 0 && Math.abs(residual[i] - median) > limit ? 1 : 0;
      outliers += outlier[i];
    }
    if (outliers === 0) return valid;
    // An overlay's edges are blurred: the outliers' neighbours go too.
    const { width, height } = this;
    const kept = this.kept;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const near =
          outlier[i] |
          (x > 0 ? outlier[i - 1] : 0) |
          (x + 1 < width ? outlier[i + 1] : 0) |
          (y > 0 ? outlier[i - width] : 0) |
          (y + 1 < height ? outlier[i + width] : 0);
        kept[i] = valid[i] & (near ^ 1);
      }
    }
    return kept;
  }

  /** The pattern of (key, segment) sampled on the suspect grid (outside pixels 0). */
  private warpedPattern(key: KeyMaterial, segment: number, out: Float32Array): Float32Array {
    const rendered = watermarkPattern(
      key,
      segment,
      this.width * PATTERN_OVERSAMPLING,
      this.height * PATTERN_OVERSAMPLING,
    );
    return this.patternWarp.apply(rendered, out);
  }
}

/** A pixel stays valid when it and its 4 neighbours inside the plane are valid. */
function erode(valid: Uint8Array, width: number, height: number): Uint8Array {
  const eroded = new Uint8Array(valid.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      eroded[i] =
        valid[i] &
        (x > 0 ? valid[i - 1] : 1) &
        (x + 1 < width ? valid[i + 1] : 1) &
        (y > 0 ? valid[i - width] : 1) &
        (y + 1 < height ? valid[i + width] : 1);
    }
  }
  return eroded;
}

/** Removes the weighted mean (others stay 0) and returns the remaining weighted energy. */
function centerWeighted(plane: Float32Array, weights: Float32Array): number {
  let total = 0;
  let sum = 0;
  for (let i = 0; i < plane.length; i++) {
    total += weights[i];
    sum += weights[i] * plane[i];
  }
  const mean = total > 0 ? sum / total : 0;
  let energy = 0;
  for (let i = 0; i < plane.length; i++) {
    const value = weights[i] === 0 ? 0 : plane[i] - mean;
    plane[i] = value;
    energy += weights[i] * value * value;
  }
  return energy;
}

function weightedDot(a: Float32Array, b: Float32Array, weights: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += weights[i] * a[i] * b[i];
  return sum;
}
