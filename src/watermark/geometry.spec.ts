import {
  type CropGeometry,
  IDENTITY_GEOMETRY,
  originalOnSuspect,
  overlayOf,
  PlaneWarp,
  suspectOnOriginal,
} from './geometry.js';
import {
  estimateGeometry,
  type GeometryEvidence,
  geometryScore,
  maskedCorrelation,
} from './geometry-search.js';
import { watermarkPattern } from './pattern.js';
import { seededPrng } from './prng.js';
import { downscalePlane } from './resample.js';

const WIDTH = 64;
const HEIGHT = 36;
/** Content is rendered 4x finer than the detection size, then viewed through each geometry. */
const FINE = 4;

/** A smooth random picture (the pattern renderer makes one), luma around 120. */
function content(index: number): Float32Array {
  const pattern = watermarkPattern('geometry-spec-content', index, WIDTH * FINE, HEIGHT * FINE);
  return pattern.map((value) => 120 + 35 * value);
}

/** What a copy cropped by `geometry` and scaled back shows at the detection size. */
function cropped(picture: Float32Array, geometry: CropGeometry): Float32Array {
  const warp = new PlaneWarp(
    WIDTH * FINE,
    HEIGHT * FINE,
    WIDTH,
    HEIGHT,
    originalOnSuspect(geometry),
  );
  return warp.apply(picture);
}

function evidenceFor(geometry: CropGeometry, gain = 1, shift = 0): GeometryEvidence[] {
  return [0, 1, 2].map((index) => {
    const picture = content(index);
    const suspect = cropped(picture, geometry).map((value) => gain * value + shift);
    const original = downscalePlane(picture, WIDTH * FINE, HEIGHT * FINE, WIDTH, HEIGHT);
    return { suspect, original, weight: 1 };
  });
}

describe('PlaneWarp', () => {
  it('reproduces the source under the identity map', () => {
    const source = Float32Array.from({ length: WIDTH * HEIGHT }, (_, i) => (i * 37) % 251);
    const warp = new PlaneWarp(WIDTH, HEIGHT, WIDTH, HEIGHT, originalOnSuspect(IDENTITY_GEOMETRY));
    expect(warp.validCount).toBe(WIDTH * HEIGHT);
    expect(Array.from(warp.apply(source))).toEqual(Array.from(source));
  });

  it('samples a crop exactly on a linear ramp', () => {
    const ramp = Float32Array.from({ length: WIDTH * HEIGHT }, (_, i) => i % WIDTH);
    const geometry = { left: 0.1, right: 0.05, top: 0, bottom: 0 };
    const out = new PlaneWarp(WIDTH, HEIGHT, WIDTH, HEIGHT, originalOnSuspect(geometry)).apply(
      ramp,
    );
    for (const x of [0, 17, 63]) {
      // Suspect pixel centre x shows original position 0.1 + 0.85 (x + 0.5) / 64.
      const expected = (0.1 + (0.85 * (x + 0.5)) / WIDTH) * WIDTH - 0.5;
      expect(out[5 * WIDTH + x]).toBeCloseTo(expected, 4);
    }
  });

  it('marks pixels whose footprint crosses a border as invalid', () => {
    // Bars of 5% of the original width each side: the picture spans suspect pixels 2.9 to 61.1.
    const geometry = { left: -0.05, right: -0.05, top: 0, bottom: 0 };
    const warp = new PlaneWarp(WIDTH, HEIGHT, WIDTH, HEIGHT, originalOnSuspect(geometry));
    const row = Array.from(warp.valid.subarray(0, WIDTH));
    expect(row.indexOf(1)).toBe(3);
    expect(row.lastIndexOf(1)).toBe(60);
    expect(warp.validCount).toBe(58 * HEIGHT);
  });

  it('samples a mirrored crop right to left', () => {
    const ramp = Float32Array.from({ length: WIDTH * HEIGHT }, (_, i) => i % WIDTH);
    const geometry = { left: 0.1, right: 0.05, top: 0, bottom: 0, mirrored: true };
    const warp = new PlaneWarp(WIDTH, HEIGHT, WIDTH, HEIGHT, originalOnSuspect(geometry));
    const out = warp.apply(ramp);
    expect(warp.validCount).toBe(WIDTH * HEIGHT);
    for (const x of [0, 17, 63]) {
      // Suspect pixel centre x shows original position 0.95 − 0.85 (x + 0.5) / 64.
      const expected = (0.95 - (0.85 * (x + 0.5)) / WIDTH) * WIDTH - 0.5;
      expect(out[5 * WIDTH + x]).toBeCloseTo(expected, 4);
    }
  });

  it('inverts the crop map with suspectOnOriginal', () => {
    const geometry = { left: 0.08, right: 0.02, top: 0.1, bottom: 0.05 };
    const forward = originalOnSuspect(geometry);
    const back = suspectOnOriginal(geometry);
    const u = 0.37;
    const original = forward.x.offset + forward.x.scale * u;
    expect(back.x.offset + back.x.scale * original).toBeCloseTo(u, 12);
  });
});

describe('estimateGeometry', () => {
  it('finds the true crop as the best score', () => {
    const truth = { left: 0.1, right: 0.1, top: 0.1, bottom: 0.1 };
    const evidence = evidenceFor(truth);
    const atTruth = geometryScore(evidence, WIDTH, HEIGHT, truth);
    expect(atTruth).toBeGreaterThan(0.999);
    expect(geometryScore(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY)).toBeLessThan(atTruth - 0.01);
  });

  it.each<[string, CropGeometry]>([
    ['symmetric 10%', { left: 0.1, right: 0.1, top: 0.1, bottom: 0.1 }],
    ['asymmetric', { left: 0.12, right: 0.03, top: 0.02, bottom: 0.08 }],
    ['bars (shrunk picture)', { left: -0.04, right: -0.04, top: -0.03, bottom: -0.03 }],
    ['mirrored', { left: 0.12, right: 0.03, top: 0.02, bottom: 0.08, mirrored: true }],
  ])('recovers a %s crop within 0.006, whatever the brightness and contrast', (_, truth) => {
    const guess = { ...IDENTITY_GEOMETRY, mirrored: truth.mirrored };
    const evidence = evidenceFor(truth, 0.8, 25);
    const { geometry, score } = estimateGeometry(evidence, WIDTH, HEIGHT, guess);
    expect(score).toBeGreaterThan(0.99);
    expect(geometry.mirrored).toBe(truth.mirrored);
    for (const edge of ['left', 'right', 'top', 'bottom'] as const) {
      expect(Math.abs(geometry[edge] - truth[edge])).toBeLessThanOrEqual(0.006);
    }
  });
});

describe('maskedCorrelation', () => {
  it('ignores masked pixels and is invariant to gain and offset', () => {
    const a = Float32Array.from([1, 2, 3, 4, 100]);
    const b = Float32Array.from([12, 14, 16, 18, -50]);
    const valid = Uint8Array.from([1, 1, 1, 1, 0]);
    expect(maskedCorrelation(a, b, valid)).toBeCloseTo(1, 10);
    expect(maskedCorrelation(a, new Float32Array(5).fill(3), valid)).toBe(0);
  });
});

describe('overlayOf', () => {
  /** Frames of a grainy picture (every pixel changes), rows `dimmed` blended 50 % with black. */
  function grainyViews(dimmed: (y: number) => boolean): Float32Array[] {
    const prng = seededPrng('overlay-spec', 'grain');
    return Array.from({ length: 60 }, () =>
      Float32Array.from({ length: WIDTH * HEIGHT }, (_, i) => {
        const value = 120 + 30 * prng.nextGaussian();
        return dimmed(Math.floor(i / WIDTH)) ? 0.5 * value : value;
      }),
    );
  }

  const rowsCovered = (overlay: Uint8Array | null): number[] =>
    Array.from({ length: HEIGHT }, (_, y) =>
      overlay ? overlay.subarray(y * WIDTH, (y + 1) * WIDTH).reduce((a, b) => a + b, 0) : 0,
    );

  it("covers a player's semi-transparent bars at the top and bottom, not the picture", () => {
    // A title bar over rows 0-1 and controls over rows 32-35, both at 50 % opacity.
    const covered = rowsCovered(
      overlayOf(
        grainyViews((y) => y < 2 || y >= 32),
        WIDTH,
        HEIGHT,
      ),
    );
    for (const y of [0, 1, 32, 33, 34, 35]) expect(covered[y]).toBe(WIDTH);
    // The scaler's blend: one row next to each band; the picture's middle stays uncovered.
    expect(covered.slice(4, 30).every((count) => count === 0)).toBe(true);
  });

  it('finds no overlay in a picture that changes everywhere', () => {
    expect(
      overlayOf(
        grainyViews(() => false),
        WIDTH,
        HEIGHT,
      ),
    ).toBeNull();
  });
});

describe('geometryScore under an overlay', () => {
  it('leaves out what the overlay covers', () => {
    const truth = { left: 0.05, right: 0.05, top: 0.05, bottom: 0.05 };
    const evidence = evidenceFor(truth).map((pair) => ({
      ...pair,
      // A black bar over the bottom eighth of the copy.
      suspect: pair.suspect.map((value, i) => (i >= WIDTH * HEIGHT * (7 / 8) ? 0 : value)),
    }));
    const overlay = Uint8Array.from({ length: WIDTH * HEIGHT }, (_, i) =>
      i >= WIDTH * HEIGHT * (7 / 8) ? 1 : 0,
    );
    expect(geometryScore(evidence, WIDTH, HEIGHT, truth)).toBeLessThan(0.9);
    expect(geometryScore(evidence, WIDTH, HEIGHT, { ...truth, overlay })).toBeGreaterThan(0.999);
  });
});
