import {
  type CameraTerms,
  FieldWarp,
  NO_CAMERA,
  originalPointOnSuspect,
  originalWarpOnSuspect,
  suspectPointOnOriginal,
} from './camera-geometry.js';
import { type CropGeometry, originalOnSuspect, PlaneWarp } from './geometry.js';
import {
  estimateGeometry,
  type GeometryEvidence,
  geometryScore,
  keepsCamera,
} from './geometry-search.js';
import { correlation } from './media.testing.js';
import { watermarkPattern } from './pattern.js';
import { seededPrng } from './prng.js';
import { type DetectionReference, signatureOf } from './reference.js';
import { downscalePlane } from './resample.js';
import { SignatureProjector } from './signature-matching.js';

const WIDTH = 64;
const HEIGHT = 36;
const ASPECT = WIDTH / HEIGHT;
/** Content is rendered 4x finer than the detection size, then filmed through each geometry. */
const FINE = 4;

/**
 * A random picture, luma around 120: smooth, or fine-grained (blobs of about one detection
 * pixel over the smooth picture, as a cellular automaton under blur).
 */
function content(index: number, fineGrained = false): Float32Array {
  const size = [WIDTH * FINE, HEIGHT * FINE] as const;
  const smooth = watermarkPattern('camera-spec-content', index, ...size);
  if (!fineGrained) return smooth.map((value) => 120 + 35 * value);
  const prng = seededPrng('camera-spec-grain', String(index));
  const grain = Float32Array.from({ length: WIDTH * HEIGHT }, () => prng.nextGaussian());
  const blobs = new PlaneWarp(WIDTH, HEIGHT, ...size, {
    x: { offset: 0, scale: 1 },
    y: { offset: 0, scale: 1 },
  }).apply(grain);
  return smooth.map((value, i) => 120 + 20 * value + 20 * blobs[i]);
}

/** What a camera filming the picture through `geometry` shows at the detection size. */
function filmed(picture: Float32Array, geometry: CropGeometry): Float32Array {
  const points = originalPointOnSuspect(geometry, ASPECT);
  return new FieldWarp(WIDTH * FINE, HEIGHT * FINE, WIDTH, HEIGHT, points).apply(picture);
}

/** The same, filmed at the fine size then box-averaged (a sensor integrates its pixels). */
function filmedAndAveraged(picture: Float32Array, geometry: CropGeometry): Float32Array {
  const [fineWidth, fineHeight] = [WIDTH * FINE, HEIGHT * FINE];
  const points = originalPointOnSuspect(geometry, ASPECT);
  const fine = new FieldWarp(fineWidth, fineHeight, fineWidth, fineHeight, points).apply(picture);
  return downscalePlane(fine, fineWidth, fineHeight, WIDTH, HEIGHT);
}

function originalView(picture: Float32Array): Float32Array {
  return downscalePlane(picture, WIDTH * FINE, HEIGHT * FINE, WIDTH, HEIGHT);
}

function evidenceFor(geometry: CropGeometry, fineGrained = false): GeometryEvidence[] {
  return [0, 1, 2].map((index) => {
    const picture = content(index, fineGrained);
    // A camera's gain and black level: the search must not care.
    const suspect = filmed(picture, geometry).map((value) => 0.9 * value + 12);
    return { suspect, original: originalView(picture), weight: 1 };
  });
}

const NO_CROP = { left: 0, right: 0, top: 0, bottom: 0 };
const CROP = { left: -0.04, right: -0.01, top: -0.03, bottom: -0.03 };
const camera = (terms: Partial<CameraTerms>): CropGeometry => ({
  ...CROP,
  camera: { ...NO_CAMERA, ...terms },
});

describe('camera geometry maps', () => {
  it('map like the crop when the camera terms are zero', () => {
    const ramp = Float32Array.from({ length: WIDTH * HEIGHT }, (_, i) => (i % WIDTH) + i / 97);
    const crop = { left: 0.08, right: 0.02, top: 0.1, bottom: 0.05 };
    const points = originalPointOnSuspect({ ...crop, camera: NO_CAMERA }, ASPECT);
    const field = new FieldWarp(WIDTH, HEIGHT, WIDTH, HEIGHT, points);
    const plane = new PlaneWarp(WIDTH, HEIGHT, WIDTH, HEIGHT, originalOnSuspect(crop));
    expect(field.validCount).toBe(plane.validCount);
    const a = field.apply(ramp);
    const b = plane.apply(ramp);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 3);
  });

  it('picks the separable warp for a plain crop and the field warp for camera terms', () => {
    expect(originalWarpOnSuspect(CROP, WIDTH, HEIGHT, WIDTH, HEIGHT)).toBeInstanceOf(PlaneWarp);
    const keystoned = originalWarpOnSuspect(
      camera({ keystone: -0.1 }),
      WIDTH,
      HEIGHT,
      WIDTH,
      HEIGHT,
    );
    expect(keystoned).toBeInstanceOf(FieldWarp);
  });

  it('keystone: the far side of the picture is shorter, as filmed from one side', () => {
    // Filmed from the left (keystone < 0): the original's right edge spans fewer suspect rows.
    const toSuspect = suspectPointOnOriginal({ ...camera({ keystone: -0.1 }), ...NO_CROP }, ASPECT);
    const height = (x: number): number => {
      const top = new Float64Array(2);
      const bottom = new Float64Array(2);
      toSuspect(x, 0, top);
      toSuspect(x, 1, bottom);
      return bottom[1] - top[1];
    };
    expect(height(0.05)).toBeGreaterThan(height(0.95) + 0.05);
  });

  it('barrel: the corners are pulled in more than the edges', () => {
    const toOriginal = originalPointOnSuspect({ ...camera({ barrel: 0.05 }), ...NO_CROP }, ASPECT);
    const point = new Float64Array(2);
    toOriginal(0, 0, point);
    // r² = 1 at the corner: the suspect corner shows the original 5 % further out.
    expect(point[0]).toBeCloseTo(-0.025, 6);
    expect(point[1]).toBeCloseTo(-0.025, 6);
    toOriginal(0.5, 0.5, point);
    expect(point[0]).toBeCloseTo(0.5, 9);
  });

  it('rotation: a positive angle turns the picture clockwise, as ffmpeg rotate', () => {
    const angle = 0.035;
    const toOriginal = originalPointOnSuspect(
      { ...camera({ rotation: angle }), ...NO_CROP },
      ASPECT,
    );
    const point = new Float64Array(2);
    // Turned clockwise, the picture's upper right comes down to the middle of the right edge.
    toOriginal(1, 0.5, point);
    expect(point[0]).toBeCloseTo(0.5 + 0.5 * Math.cos(angle), 9);
    expect(point[1]).toBeCloseTo(0.5 - 0.5 * ASPECT * Math.sin(angle), 9);
    // In square pixels: the bottom centre moves as far (in pixels) as the right middle.
    toOriginal(0.5, 1, point);
    expect(point[0] * WIDTH).toBeCloseTo((0.5 + (0.5 * Math.sin(angle)) / ASPECT) * WIDTH, 6);
    expect(point[1]).toBeCloseTo(0.5 + 0.5 * Math.cos(angle), 9);
    toOriginal(0.5, 0.5, point);
    expect(point[0]).toBeCloseTo(0.5, 9);
  });

  it('inverts its point map numerically', () => {
    const geometry = camera({ keystone: -0.12, tilt: 0.05, barrel: 0.04, rotation: -0.03 });
    const forward = originalPointOnSuspect(geometry, ASPECT);
    const back = suspectPointOnOriginal(geometry, ASPECT);
    const original = new Float64Array(2);
    const suspect = new Float64Array(2);
    for (const [u, v] of [
      [0.02, 0.03],
      [0.5, 0.5],
      [0.97, 0.1],
      [0.3, 0.95],
    ]) {
      forward(u, v, original);
      back(original[0], original[1], suspect);
      expect(suspect[0]).toBeCloseTo(u, 7);
      expect(suspect[1]).toBeCloseTo(v, 7);
    }
  });
});

describe('estimateGeometry with camera terms', () => {
  it.each<[string, Partial<CameraTerms>, boolean, Partial<CameraTerms>]>([
    ['keystone, filmed from the left', { keystone: -0.11 }, false, { keystone: 0.02 }],
    ['keystone, filmed from the right', { keystone: 0.09 }, false, { keystone: 0.02 }],
    ['tilt, filmed from below', { tilt: 0.1 }, false, { tilt: 0.02 }],
    [
      'keystone with a barrel lens',
      { keystone: -0.1, barrel: 0.04 },
      false,
      { keystone: 0.02, barrel: 0.015 },
    ],
    ['keystone on a fine-grained picture', { keystone: -0.11 }, true, { keystone: 0.02 }],
    ['rotation of 2° clockwise', { rotation: 0.035 }, false, { rotation: 0.004 }],
    ['rotation of 2° anticlockwise, fine-grained', { rotation: -0.035 }, true, { rotation: 0.004 }],
  ])('recovers a %s', (_, terms, fineGrained, tolerances) => {
    const truth = camera(terms);
    const evidence = evidenceFor(truth, fineGrained);
    const crop = estimateGeometry(evidence, WIDTH, HEIGHT);
    const { geometry, score } = estimateGeometry(evidence, WIDTH, HEIGHT, undefined, true, true);
    expect(crop.geometry.camera).toBeUndefined();
    expect(score).toBeGreaterThan(crop.score + 0.01);
    expect(score).toBeGreaterThan(fineGrained ? 0.97 : 0.99);
    for (const [term, tolerance] of Object.entries(tolerances) as [keyof CameraTerms, number][]) {
      const recovered = geometry.camera?.[term] ?? Number.NaN;
      expect(Math.abs(recovered - (truth.camera?.[term] ?? 0))).toBeLessThanOrEqual(tolerance);
    }
  });

  it('keeps a plain crop plain: no camera terms, the crop recovered', () => {
    const truth = { left: 0.06, right: 0.02, top: 0.03, bottom: 0.05 };
    const evidence = evidenceFor(truth);
    const { geometry } = estimateGeometry(evidence, WIDTH, HEIGHT, undefined, true, true);
    expect(geometry.camera).toBeUndefined();
    for (const edge of ['left', 'right', 'top', 'bottom'] as const) {
      expect(Math.abs(geometry[edge] - truth[edge])).toBeLessThanOrEqual(0.006);
    }
  });

  it('scores the true camera geometry above the best crop on a fine-grained picture', () => {
    const truth = camera({ keystone: -0.11, barrel: 0.04 });
    const evidence = evidenceFor(truth, true);
    const crop = estimateGeometry(evidence, WIDTH, HEIGHT);
    expect(geometryScore(evidence, WIDTH, HEIGHT, truth)).toBeGreaterThan(crop.score + 0.05);
  });
});

describe('keepsCamera', () => {
  it.each<[string, number, number, boolean, boolean]>([
    ['a clear gain', 0.95, 0.962, false, true],
    ['a test card rotated 2° (misfit 0.012 → 0.002)', 0.9878, 0.9977, false, true],
    ['a small gain that leaves most of the misfit', 0.98, 0.987, false, false],
    ['a plain crop refined a hair', 0.998, 0.9991, false, false],
    ['any gain in a later round', 0.99, 0.9901, true, true],
  ])('%s', (_, crop, camera, hadCamera, kept) => {
    expect(keepsCamera(crop, camera, hadCamera)).toBe(kept);
  });
});

describe('signatures under camera terms', () => {
  const reference = {
    detectionWidth: WIDTH,
    detectionHeight: HEIGHT,
    signatureWidth: 16,
    signatureHeight: 9,
  } as DetectionReference;

  it('match the original where the best crop does not (a fine-grained picture filmed)', () => {
    const truth = camera({ keystone: -0.11, barrel: 0.04 });
    const picture = content(7, true);
    const view = filmedAndAveraged(picture, truth);
    const original = signatureOf(originalView(picture));
    const matchUnder = (geometry: CropGeometry): number => {
      const projector = new SignatureProjector(reference, geometry);
      const signature = new Float32Array(projector.cells.length);
      projector.normalizedSignature(view, signature);
      return correlation(
        signature,
        Array.from(projector.cells, (cell) => original[cell]),
      );
    };
    const bestCrop = estimateGeometry(evidenceFor(truth, true), WIDTH, HEIGHT).geometry;
    const underTruth = matchUnder(truth);
    expect(underTruth).toBeGreaterThan(0.95);
    expect(underTruth).toBeGreaterThan(matchUnder(bestCrop) + 0.03);
  });
});
