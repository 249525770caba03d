import { type CameraTerms, NO_CAMERA, originalWarpOnSuspect } from './camera-geometry.js';
import { type CropGeometry, IDENTITY_GEOMETRY } from './geometry.js';
import { type Plane } from './resample.js';

/**
 * The geometry search: where a suspect's picture sits in the original frame, estimated by
 * comparing mean views of the copy with the original's (see estimateGeometry), crop first,
 * then the camera terms of a filmed screen (see estimateCamera).
 */

/**
 * The search space of `estimateGeometry`: crops beyond it are not looked for. Bars down to 1/5
 * of the picture each side (16:9 letterboxed in 4:3 has 1/6 above and below); a guess with
 * wider borders (an inset, see inset-search.ts) is refined within INSET_MARGIN of itself.
 */
export const MIN_CROP = -0.2;
export const MAX_CROP = 0.25;
const INSET_MARGIN = 0.1;
/** The smallest share of the suspect frame the picture may cover (an inset of 1/4 width). */
const MIN_PICTURE_SHARE = 1 / 16;

/**
 * One comparison for the geometry search: the suspect's mean view over some frames (suspect
 * grid) and the original's mean view over the same frames (original grid), same size.
 */
export interface GeometryEvidence {
  suspect: Float32Array;
  original: Float32Array;
  /** Weight of this pair in the objective (e.g. its frame count). */
  weight: number;
}

/**
 * Pearson correlation between the suspect views and the original views warped under
 * `geometry` (outside its overlay), averaged over the evidence with its weights: the objective
 * of the geometry search. Invariant to brightness and contrast changes of the suspect.
 */
export function geometryScore(
  evidence: GeometryEvidence[],
  width: number,
  height: number,
  geometry: CropGeometry,
  scratch: Float32Array = new Float32Array(width * height),
): number {
  const warp = originalWarpOnSuspect(geometry, width, height, width, height);
  if (warp.validCount < width * height * MIN_PICTURE_SHARE) return -1;
  // What an overlay covers (a logo, a player's controls) shows something else than the picture.
  const { overlay } = geometry;
  const valid = overlay ? warp.valid.map((inside, i) => inside & (1 - overlay[i])) : warp.valid;
  let total = 0;
  let weights = 0;
  for (const pair of evidence) {
    warp.apply(pair.original, scratch);
    total += pair.weight * maskedCorrelation(pair.suspect, scratch, valid);
    weights += pair.weight;
  }
  return weights > 0 ? total / weights : -1;
}

/** Pearson correlation of a and b over the pixels where `valid` is 1 (0 if either is flat). */
export function maskedCorrelation(a: Plane, b: Plane, valid: Uint8Array): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let i = 0; i < valid.length; i++) {
    if (valid[i] === 0) continue;
    const va = a[i];
    const vb = b[i];
    n++;
    sa += va;
    sb += vb;
    saa += va * va;
    sbb += vb * vb;
    sab += va * vb;
  }
  if (n < 2) return 0;
  const varianceA = saa - (sa * sa) / n;
  const varianceB = sbb - (sb * sb) / n;
  if (!(varianceA > 1e-9 && varianceB > 1e-9)) return 0;
  return (sab - (sa * sb) / n) / Math.sqrt(varianceA * varianceB);
}

/** Step sizes of the pattern search, coarse to fine (fractions of the frame). */
const SEARCH_STEPS = [0.04, 0.02, 0.01, 0.005, 0.0025];
/** Symmetric crops tried before the pattern search starts. */
const START_CROPS = [-0.05, 0, 0.05, 0.1, 0.15, 0.2];

export interface GeometryEstimate {
  geometry: CropGeometry;
  /** The objective at the estimate (weighted mean correlation, at most 1). */
  score: number;
}

/**
 * Estimates the crop by maximising `geometryScore`: the best of `guess` and (unless
 * `tryStartCrops` is false) the symmetric crops of a small grid first, then a pattern search
 * moving one edge at a time with a shrinking step. Each step compares the views at the
 * detection size, so a full search costs a few hundred warps. With `camera`, the camera terms
 * are then searched too (see estimateCamera).
 */
export function estimateGeometry(
  evidence: GeometryEvidence[],
  width: number,
  height: number,
  guess: CropGeometry = IDENTITY_GEOMETRY,
  tryStartCrops = true,
  camera = false,
): GeometryEstimate {
  const scratch = new Float32Array(width * height);
  const score = (geometry: CropGeometry): number =>
    geometryScore(evidence, width, height, geometry, scratch);

  let best: CropGeometry = { ...guess };
  let bestScore = score(best);
  for (const crop of tryStartCrops ? START_CROPS : []) {
    const candidate = { ...guess, left: crop, right: crop, top: crop, bottom: crop };
    const candidateScore = score(candidate);
    if (candidateScore > bestScore) {
      best = candidate;
      bestScore = candidateScore;
    }
  }

  const edges = ['left', 'right', 'top', 'bottom'] as const;
  for (const step of SEARCH_STEPS) {
    let improved = true;
    while (improved) {
      improved = false;
      for (const edge of edges) {
        for (const direction of [-1, 1]) {
          const value = best[edge] + direction * step;
          const lowest = Math.min(MIN_CROP, guess[edge] - INSET_MARGIN);
          if (value < lowest - 1e-9 || value > MAX_CROP + 1e-9) continue;
          const candidate = { ...best, [edge]: value };
          const candidateScore = score(candidate);
          if (candidateScore > bestScore + 1e-6) {
            best = candidate;
            bestScore = candidateScore;
            improved = true;
          }
        }
      }
    }
  }
  const crop = { geometry: best, score: bestScore };
  return camera ? estimateCamera(evidence, width, height, crop, guess.camera !== undefined) : crop;
}

/** Pattern-search steps of the camera terms, coarse to fine: multiples of each term's finest. */
const CAMERA_STEP_MULTIPLES = [16, 8, 4, 2, 1];
const FINEST_CAMERA_STEPS: Record<CameraParameter, number> = {
  left: 0.00125,
  right: 0.00125,
  top: 0.00125,
  bottom: 0.00125,
  keystone: 0.005,
  tilt: 0.005,
  barrel: 0.0025,
  rotation: 0.001,
};
/** Steps of this multiple and finer compare the views themselves, coarser ones blurred views. */
const SHARP_BELOW_MULTIPLE = 2;
/** Passes of the [1 2 1] / 4 blur of the coarse steps (3 passes: sigma ≈ 1.2 pixels). */
const BLUR_PASSES = 3;
/** Perspective terms up to about 15° off-axis; barrel up to a strong wide-angle lens. */
const MAX_PERSPECTIVE = 0.3;
const MAX_BARREL = 0.15;
/** Rotation up to about ±4° (issue 11 asks for ±2°), first tried in steps of about 0.9°. */
const MAX_ROTATION = 0.07;
const START_ROTATIONS = [-0.064, -0.048, -0.032, -0.016, 0.016, 0.032, 0.048, 0.064];
/**
 * Camera terms are kept only when they raise the objective by MIN_CAMERA_GAIN over the crop
 * alone, or by MIN_CAMERA_GAIN / 2 while leaving at most MAX_CAMERA_MISFIT of the crop's misfit
 * (1 − objective): a test card rotated 2° matches its best crop at 0.988 already, and its
 * rotation at 0.998. A copy that is only cropped keeps exactly its crop (and its cheaper
 * separable warps).
 */
const MIN_CAMERA_GAIN = 0.01;
const MAX_CAMERA_MISFIT = 0.5;

/** Whether the camera terms' objective beats the crop's enough to keep them (see above). */
export function keepsCamera(cropScore: number, cameraScore: number, hadCamera = false): boolean {
  const gained = cameraScore - cropScore;
  if (hadCamera) return gained > 0;
  return (
    gained >= MIN_CAMERA_GAIN ||
    (gained >= MIN_CAMERA_GAIN / 2 && 1 - cameraScore <= MAX_CAMERA_MISFIT * (1 - cropScore))
  );
}

type CameraParameter = 'left' | 'right' | 'top' | 'bottom' | keyof CameraTerms;

/**
 * Refines a crop estimate with the camera terms (perspective, barrel and rotation, see
 * camera-geometry.ts): a pattern search over the four edges and the four terms together (a
 * barrel enlarges the picture's edges, which the crop compensates). Costs a few hundred warps
 * more, once per copy. The terms are kept when they gain enough (keepsCamera), or any gain when
 * the crop estimate had them already (`hadCamera`: a later round of the same copy).
 */
export function estimateCamera(
  evidence: GeometryEvidence[],
  width: number,
  height: number,
  crop: GeometryEstimate,
  hadCamera = false,
): GeometryEstimate {
  const scratch = new Float32Array(width * height);
  const start = crop.geometry;
  let values: Record<CameraParameter, number> = {
    left: start.left,
    right: start.right,
    top: start.top,
    bottom: start.bottom,
    ...NO_CAMERA,
    ...start.camera,
  };
  const geometryOf = (v: Record<CameraParameter, number>): CropGeometry => ({
    ...start,
    left: v.left,
    right: v.right,
    top: v.top,
    bottom: v.bottom,
    camera: { keystone: v.keystone, tilt: v.tilt, barrel: v.barrel, rotation: v.rotation },
  });
  const withinBounds = (parameter: CameraParameter, value: number): boolean => {
    if (parameter === 'keystone' || parameter === 'tilt') return Math.abs(value) <= MAX_PERSPECTIVE;
    if (parameter === 'barrel') return Math.abs(value) <= MAX_BARREL;
    if (parameter === 'rotation') return Math.abs(value) <= MAX_ROTATION;
    return value >= MIN_CROP && value <= MAX_CROP;
  };
  // Coarse steps compare blurred views: on a fine-grained picture the objective is a narrow
  // peak that a keystone step off the crop's optimum would miss entirely.
  const blurredEvidence = evidence.map((pair) => ({
    ...pair,
    suspect: blurred(pair.suspect, width, height),
    original: blurred(pair.original, width, height),
  }));
  if (!hadCamera) {
    // The edges and a barrel partly stand in for a rotation: the pattern search, from no
    // rotation, can settle there. A rotation is first looked for on its own.
    const scored = (rotation: number): number =>
      geometryScore(evidence, width, height, geometryOf({ ...values, rotation }), scratch);
    let startScore = scored(0);
    for (const rotation of START_ROTATIONS) {
      const score = scored(rotation);
      if (score > startScore) [values.rotation, startScore] = [rotation, score];
    }
  }
  let current = blurredEvidence;
  let bestScore = geometryScore(current, width, height, geometryOf(values), scratch);
  const parameters = Object.keys(FINEST_CAMERA_STEPS) as CameraParameter[];
  for (const multiple of CAMERA_STEP_MULTIPLES) {
    if (multiple <= SHARP_BELOW_MULTIPLE && current !== evidence) {
      current = evidence;
      bestScore = geometryScore(current, width, height, geometryOf(values), scratch);
    }
    let improved = true;
    while (improved) {
      improved = false;
      for (const parameter of parameters) {
        for (const direction of [-1, 1]) {
          const value = values[parameter] + direction * multiple * FINEST_CAMERA_STEPS[parameter];
          if (!withinBounds(parameter, value)) continue;
          const candidate = { ...values, [parameter]: value };
          const score = geometryScore(current, width, height, geometryOf(candidate), scratch);
          if (score > bestScore + 1e-6) {
            values = candidate;
            bestScore = score;
            improved = true;
          }
        }
      }
    }
  }
  if (!keepsCamera(crop.score, bestScore, hadCamera)) return crop;
  return { geometry: geometryOf(values), score: bestScore };
}

/** Same crop, mirror and camera terms (bars and overlay aside). */
export function sameGeometry(a: CropGeometry, b: CropGeometry): boolean {
  const cameraA = { ...NO_CAMERA, ...a.camera };
  const cameraB = { ...NO_CAMERA, ...b.camera };
  return (
    a.left === b.left &&
    a.right === b.right &&
    a.top === b.top &&
    a.bottom === b.bottom &&
    Boolean(a.mirrored) === Boolean(b.mirrored) &&
    (Object.keys(NO_CAMERA) as (keyof CameraTerms)[]).every(
      (term) => cameraA[term] === cameraB[term],
    )
  );
}

/** `plane` blurred by BLUR_PASSES separable [1 2 1] / 4 passes (edges held). */
function blurred(plane: Float32Array, width: number, height: number): Float32Array {
  let current = Float32Array.from(plane);
  let next = new Float32Array(plane.length);
  for (let pass = 0; pass < BLUR_PASSES; pass++) {
    for (const [step, count, lines, lineStep] of [
      [1, width, height, width],
      [width, height, width, 1],
    ]) {
      for (let line = 0; line < lines; line++) {
        const start = line * lineStep;
        for (let k = 0; k < count; k++) {
          const i = start + k * step;
          const before = current[k > 0 ? i - step : i];
          const after = current[k < count - 1 ? i + step : i];
          next[i] = 0.25 * before + 0.5 * current[i] + 0.25 * after;
        }
      }
      [current, next] = [next, current];
    }
  }
  return current;
}
