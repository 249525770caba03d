import { dimmedBandsOf } from './dimmed-bands.js';
import { type CropGeometry, IDENTITY_GEOMETRY, originalOnSuspect, PlaneWarp } from './geometry.js';
import { estimateGeometry, type GeometryEvidence } from './geometry-search.js';
import { watermarkPattern } from './pattern.js';
import { downscalePlane } from './resample.js';

const WIDTH = 64;
const HEIGHT = 36;
const FINE = 4;

/**
 * Colour bars (six vertical stripes) with faint detail: a test card, whose rows all look alike,
 * so that only its detail tells a vertical squeeze.
 */
function testCard(index: number): Float32Array {
  const detail = watermarkPattern('dimmed-bands-spec', index, WIDTH * FINE, HEIGHT * FINE);
  return detail.map((value, i) => {
    const stripe = Math.floor(((i % (WIDTH * FINE)) / (WIDTH * FINE)) * 6);
    return 40 + 30 * stripe + 12 * value;
  });
}

/** Rows of the copy a player dims, and by how much (the copy's gain there). */
type Dimming = (y: number, x: number) => number;

const PLAYER: Dimming = (y, x) => {
  if (y < 3) return 0.5; // a title bar
  if (y >= 32) return x < 6 ? 1 : 0.4; // controls, a play button at the left
  return 1;
};

/** Comparisons (segments) of a copy under `geometry`, `dimming` in those `shown` says. */
function evidenceFor(
  geometry: CropGeometry,
  dimming: Dimming,
  shown: (index: number) => boolean = () => true,
): GeometryEvidence[] {
  const warp = new PlaneWarp(
    WIDTH * FINE,
    HEIGHT * FINE,
    WIDTH,
    HEIGHT,
    originalOnSuspect(geometry),
  );
  return [0, 1, 2].map((index) => {
    const picture = testCard(index);
    const suspect = warp.apply(picture).map((value, i) => {
      const gain = shown(index) ? dimming(Math.floor(i / WIDTH), i % WIDTH) : 1;
      return 0.9 * value * gain + 10;
    });
    const original = downscalePlane(picture, WIDTH * FINE, HEIGHT * FINE, WIDTH, HEIGHT);
    return { suspect, original, weight: 25 };
  });
}

const coveredRows = (overlay: Uint8Array | null): number[] =>
  Array.from({ length: HEIGHT }, (_, y) => y).filter(
    (y) => overlay !== null && overlay[y * WIDTH + WIDTH / 2] === 1,
  );

describe('dimmedBandsOf', () => {
  it("covers a player's semi-transparent bars and the row next to each, not the picture", () => {
    const evidence = evidenceFor(IDENTITY_GEOMETRY, PLAYER);
    const overlay = dimmedBandsOf(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY);
    expect(coveredRows(overlay)).toEqual([0, 1, 2, 3, 31, 32, 33, 34, 35]);
    // Whole rows: the play button's columns too.
    expect(overlay?.subarray(34 * WIDTH, 35 * WIDTH).every((covered) => covered === 1)).toBe(true);
  });

  it('finds nothing in a copy dimmed or brightened as a whole', () => {
    const evidence = evidenceFor(IDENTITY_GEOMETRY, () => 0.6);
    expect(dimmedBandsOf(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY)).toBeNull();
  });

  it('finds nothing where only one side of the rows is dark (a filmed frame’s corner)', () => {
    const corner: Dimming = (y, x) => (y < 3 && x >= (2 * WIDTH) / 3 ? 0.4 : 1);
    const evidence = evidenceFor(IDENTITY_GEOMETRY, corner);
    expect(dimmedBandsOf(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY)).toBeNull();
  });

  it('finds nothing that comes and goes (subtitles): a band dims most comparisons', () => {
    const evidence = evidenceFor(IDENTITY_GEOMETRY, PLAYER, (index) => index === 1);
    expect(dimmedBandsOf(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY)).toBeNull();
  });

  it('finds nothing where the rows are hidden rather than dimmed (black bars)', () => {
    const evidence = evidenceFor(IDENTITY_GEOMETRY, (y) => (y < 3 ? 0 : 1));
    expect(dimmedBandsOf(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY)).toBeNull();
  });

  it('keeps the geometry search from reading the picture as squeezed away from the bars', () => {
    const truth = { left: 0.05, right: 0.05, top: 0.05, bottom: 0.05 };
    const evidence = evidenceFor(truth, PLAYER);
    const plain = estimateGeometry(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY).geometry;
    // Read without the bands, the picture's top or bottom edge is off by a band's depth.
    const plainError = Math.max(
      Math.abs(plain.top - truth.top),
      Math.abs(plain.bottom - truth.bottom),
    );
    expect(plainError).toBeGreaterThan(0.03);
    const overlay = dimmedBandsOf(evidence, WIDTH, HEIGHT, IDENTITY_GEOMETRY);
    expect(overlay).not.toBeNull();
    const banded = estimateGeometry(evidence, WIDTH, HEIGHT, {
      ...IDENTITY_GEOMETRY,
      overlay: overlay ?? undefined,
    }).geometry;
    for (const edge of ['left', 'right', 'top', 'bottom'] as const) {
      expect(Math.abs(banded[edge] - truth[edge])).toBeLessThanOrEqual(0.006);
    }
  });
});
