import { checkSourcePlane, type CropGeometry, originalOnSuspect, PlaneWarp } from './geometry.js';
import { type Plane } from './resample.js';

/**
 * A filmed screen (a camcorder copy) is not a crop: the camera sees the picture as a
 * keystoned quadrilateral (perspective) and its lens bends straight lines (barrel
 * distortion). On fine-grained pictures a crop that misses these by a fraction of a detection
 * pixel loses the signature match (issue 11: a cellular automaton filmed off-axis correlated
 * 0.78 under the best crop, 0.90 under crop + keystone + barrel). These terms extend the
 * crop; a rotated copy (a tilted camera, or ffmpeg's `rotate`) is one more. The map from
 * suspect to original coordinates (both normalised to [0, 1]) is, in order:
 * 1. barrel: a suspect point moves away from the frame's centre by 1 + barrel x r², r the
 *    distance to the centre in units of the half diagonal (the model of ffmpeg's
 *    `lenscorrection`, k1);
 * 2. rotation: the point turns about the centre by `rotation` radians (in square pixels, so
 *    the frame's aspect is kept), clockwise on screen for a positive angle (as ffmpeg's `rotate`);
 * 3. the crop (and mirror) of `originalOnSuspect`;
 * 4. perspective about the original's centre: a centred point (x, y) is divided by
 *    1 + keystone x + tilt y (keystone: one side of the picture taller than the other, as
 *    filmed from left or right of the screen; tilt: from above or below).
 */
export interface CameraTerms {
  keystone: number;
  tilt: number;
  barrel: number;
  rotation: number;
}

export const NO_CAMERA: Readonly<CameraTerms> = { keystone: 0, tilt: 0, barrel: 0, rotation: 0 };

/** The geometry has camera terms that change its map (else it is a plain crop). */
export function hasCamera(geometry: CropGeometry): boolean {
  const camera = geometry.camera;
  return camera !== undefined && Object.values(camera).some((term) => term !== 0);
}

/** Writes into `out` the point (normalised [0, 1] coordinates) a map sends (u, v) to. */
export type PointMap = (u: number, v: number, out: Float64Array) => void;

/** Suspect point → original point under `geometry` (see CameraTerms); `aspect`: width / height. */
export function originalPointOnSuspect(geometry: CropGeometry, aspect: number): PointMap {
  const { x, y } = originalOnSuspect({ ...geometry, bars: undefined });
  const { keystone, tilt, barrel, rotation } = { ...NO_CAMERA, ...geometry.camera };
  const halfDiagonalSquared = (aspect * aspect + 1) / 4;
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  return (u, v, out) => {
    const cu = u - 0.5;
    const cv = v - 0.5;
    const radius = (cu * cu * aspect * aspect + cv * cv) / halfDiagonalSquared;
    const bend = 1 + barrel * radius;
    // Turned in square pixels: x in units of the frame height, then back.
    const turnedU = (cos * cu * aspect + sin * cv) / aspect;
    const turnedV = cos * cv - sin * cu * aspect;
    const a = x.offset + x.scale * (0.5 + turnedU * bend) - 0.5;
    const b = y.offset + y.scale * (0.5 + turnedV * bend) - 0.5;
    const divisor = 1 + keystone * a + tilt * b;
    out[0] = 0.5 + a / divisor;
    out[1] = 0.5 + b / divisor;
  };
}

/** Newton steps of the inverse map: the distortion is mild, 6 converge far below a pixel. */
const INVERSE_STEPS = 6;

/** Original point → suspect point: `originalPointOnSuspect` inverted numerically. */
export function suspectPointOnOriginal(geometry: CropGeometry, aspect: number): PointMap {
  const forward = originalPointOnSuspect(geometry, aspect);
  const here = new Float64Array(2);
  const right = new Float64Array(2);
  const down = new Float64Array(2);
  const epsilon = 1e-4;
  return (x, y, out) => {
    let u = x;
    let v = y;
    for (let step = 0; step < INVERSE_STEPS; step++) {
      forward(u, v, here);
      forward(u + epsilon, v, right);
      forward(u, v + epsilon, down);
      const a = (right[0] - here[0]) / epsilon;
      const b = (down[0] - here[0]) / epsilon;
      const c = (right[1] - here[1]) / epsilon;
      const d = (down[1] - here[1]) / epsilon;
      const determinant = a * d - b * c;
      if (!(Math.abs(determinant) > 1e-12)) break;
      const ex = here[0] - x;
      const ey = here[1] - y;
      u -= (d * ex - b * ey) / determinant;
      v -= (a * ey - c * ex) / determinant;
    }
    out[0] = u;
    out[1] = v;
  };
}

/** The source rectangle (normalised) whose points show the picture. */
export interface Region {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const WHOLE_FRAME: Region = { left: 0, right: 1, top: 0, bottom: 1 };
/** Footprints may end a hair outside the region through rounding; they still count inside. */
const INSIDE_TOLERANCE = 1e-6;

/**
 * Bilinear resampling of a source plane onto a destination grid under any point map: one
 * source position per destination pixel, precomputed. A destination pixel is valid when its
 * whole footprint (its corners, mapped) lies inside `region` of the source and its centre
 * inside `shown` of the destination (what black bars leave of a suspect).
 */
export class FieldWarp {
  readonly valid: Uint8Array;
  readonly validCount: number;
  /** Top-left source sample of each destination pixel, and the bilinear weights. */
  readonly first: Int32Array;
  readonly right: Float32Array;
  readonly down: Float32Array;

  constructor(
    readonly sourceWidth: number,
    readonly sourceHeight: number,
    readonly width: number,
    readonly height: number,
    map: PointMap,
    region: Region = WHOLE_FRAME,
    shown: Region = WHOLE_FRAME,
  ) {
    const size = width * height;
    this.valid = new Uint8Array(size);
    this.first = new Int32Array(size);
    this.right = new Float32Array(size);
    this.down = new Float32Array(size);
    const point = new Float64Array(2);
    const corner = new Float64Array(2);
    let count = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const centreX = (x + 0.5) / width;
        const centreY = (y + 0.5) / height;
        let inside =
          centreX >= shown.left &&
          centreX <= shown.right &&
          centreY >= shown.top &&
          centreY <= shown.bottom;
        // The footprint's four corners, then its centre (written last into `point`).
        for (const [cornerX, cornerY] of FOOTPRINT_CORNERS) {
          map((x + cornerX) / width, (y + cornerY) / height, corner);
          inside &&=
            corner[0] >= region.left - INSIDE_TOLERANCE &&
            corner[0] <= region.right + INSIDE_TOLERANCE &&
            corner[1] >= region.top - INSIDE_TOLERANCE &&
            corner[1] <= region.bottom + INSIDE_TOLERANCE;
        }
        map(centreX, centreY, point);
        this.valid[i] = inside ? 1 : 0;
        count += this.valid[i];
        const [column, right] = tap(point[0], sourceWidth);
        const [row, down] = tap(point[1], sourceHeight);
        this.first[i] = row * sourceWidth + column;
        this.right[i] = right;
        this.down[i] = down;
      }
    }
    this.validCount = count;
  }

  apply(
    source: Plane,
    out: Float32Array = new Float32Array(this.width * this.height),
  ): Float32Array {
    checkSourcePlane(source, this.sourceWidth, this.sourceHeight);
    const stepDown = this.sourceHeight > 1 ? this.sourceWidth : 0;
    const stepRight = this.sourceWidth > 1 ? 1 : 0;
    for (let i = 0; i < out.length; i++) {
      if (this.valid[i] === 0) {
        out[i] = 0;
        continue;
      }
      const s = this.first[i];
      const right = this.right[i];
      const upper = source[s] + (source[s + stepRight] - source[s]) * right;
      const lower =
        source[s + stepDown] + (source[s + stepDown + stepRight] - source[s + stepDown]) * right;
      out[i] = upper + (lower - upper) * this.down[i];
    }
    return out;
  }
}

const FOOTPRINT_CORNERS: [number, number][] = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
];

/** The first of two source samples around a normalised position, and the second's weight. */
function tap(position: number, size: number): [number, number] {
  // Pixel centres sit at (i + 0.5) / size; beyond the outermost centres the edge is held.
  const sample = Math.min(size - 1, Math.max(0, position * size - 0.5));
  const index = Math.min(Math.floor(sample), Math.max(0, size - 2));
  return [index, size > 1 ? sample - index : 0];
}

/** What both warps offer: the valid destination pixels and the resampling. */
export type Warp = PlaneWarp | FieldWarp;

/**
 * The original (source size) resampled onto the suspect grid under `geometry`: the separable
 * PlaneWarp of a crop, or a FieldWarp when the geometry has camera terms.
 */
export function originalWarpOnSuspect(
  geometry: CropGeometry,
  sourceWidth: number,
  sourceHeight: number,
  width: number,
  height: number,
): Warp {
  if (!hasCamera(geometry)) {
    return new PlaneWarp(sourceWidth, sourceHeight, width, height, originalOnSuspect(geometry));
  }
  const points = originalPointOnSuspect(geometry, width / height);
  return new FieldWarp(
    sourceWidth,
    sourceHeight,
    width,
    height,
    points,
    WHOLE_FRAME,
    shownOf(geometry),
  );
}

/** The suspect (same size as the original grid) resampled onto the original grid. */
export function suspectFieldOnOriginal(
  geometry: CropGeometry,
  width: number,
  height: number,
): FieldWarp {
  const points = suspectPointOnOriginal(geometry, width / height);
  return new FieldWarp(width, height, width, height, points, shownOf(geometry));
}

/** The part of the suspect frame between its bars (all of it without bars). */
function shownOf({ bars }: CropGeometry): Region {
  if (!bars) return WHOLE_FRAME;
  return { left: bars.left, right: 1 - bars.right, top: bars.top, bottom: 1 - bars.bottom };
}
