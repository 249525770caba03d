import {
  type BufferedFrame,
  coarseSearch,
  fineSearch,
  polishLock,
  type SearchSample,
} from './align.js';
import { IDENTITY_GEOMETRY, PlaneWarp, suspectOnOriginal } from './geometry.js';
import { SYNTHETIC_SIGNATURE as SIGNATURE, syntheticReference } from './reference.testing.js';
import { downscalePlane } from './resample.js';
import {
  CoarseSignature,
  normalizeInPlace,
  ReferenceMatcher,
  SignatureProjector,
} from './signature-matching.js';

const FRAMES = 900;

const reference = syntheticReference('align-spec', FRAMES, 20);

/** The copy's view of original frame `frame`: each cell as a 4x4 block, contrast x0.8, +20. */
function viewOf(frame: number): Uint8Array {
  const view = new Uint8Array(64 * 36);
  for (let y = 0; y < 36; y++) {
    for (let x = 0; x < 64; x++) {
      const cell = reference.signatures[frame * SIGNATURE + (y >> 2) * 16 + (x >> 2)];
      view[y * 64 + x] = Math.round(0.8 * cell + 20);
    }
  }
  return view;
}

/** A copy of 250 frames showing original round(offset + rate * k). */
function copy(offset: number, rate: number): BufferedFrame[] {
  return Array.from({ length: 250 }, (_, frame) => ({
    frame,
    view: viewOf(Math.round(offset + rate * frame)),
  }));
}

function samplesOf(frames: BufferedFrame[]): { samples: SearchSample[]; picked: BufferedFrame[] } {
  const projector = new SignatureProjector(reference, IDENTITY_GEOMETRY);
  const coarse = new CoarseSignature(16, 9);
  const picked = frames.filter((_, i) => i % 5 === 0).slice(0, 48);
  const samples = picked.map(({ frame, view }) => {
    const normalized = new Float32Array(SIGNATURE);
    projector.normalizedSignature(view, normalized);
    return { frame, coarse: coarse.compute(normalized, new Float32Array(12)) };
  });
  return { samples, picked };
}

describe('SignatureProjector', () => {
  it('equals warping onto the original grid then box-averaging, over the covered cells', () => {
    const geometry = { left: 0.1, right: 0.03, top: 0.02, bottom: 0.08 };
    const projector = new SignatureProjector(reference, geometry);
    const view = Uint8Array.from({ length: 64 * 36 }, (_, i) => (i * 7919) % 251);
    const projected = new Float32Array(projector.cells.length);
    projector.normalizedSignature(view, projected);

    const warped = new PlaneWarp(64, 36, 64, 36, suspectOnOriginal(geometry)).apply(view);
    const signature = downscalePlane(warped, 64, 36, 16, 9);
    const expected = Float32Array.from(projector.cells, (cell) => signature[cell]);
    normalizeInPlace(expected, expected.length);
    // Cells wholly inside [0.1, 0.97] x [0.02, 0.92]: columns 2-14, rows 1-7.
    expect(projector.cells.length).toBe(13 * 7);
    projected.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 4));
  });

  it('reports flat frames (deviation 0, all zeros)', () => {
    const projector = new SignatureProjector(reference, IDENTITY_GEOMETRY);
    const out = new Float32Array(SIGNATURE).fill(7);
    expect(projector.normalizedSignature(new Uint8Array(64 * 36).fill(90), out)).toBe(0);
    expect(out.every((value) => value === 0)).toBe(true);
  });
});

describe('ReferenceMatcher', () => {
  it('correlates a brightness/contrast-changed frame with its original at 1', () => {
    const projector = new SignatureProjector(reference, IDENTITY_GEOMETRY);
    const matcher = new ReferenceMatcher(reference, projector.cells);
    const normalized = new Float32Array(SIGNATURE);
    projector.normalizedSignature(viewOf(300), normalized);
    expect(matcher.correlate(normalized, 300)).toBeGreaterThan(0.999);
    expect(matcher.correlate(normalized, 340)).toBeLessThan(0.7);
    expect(matcher.correlate(normalized, -1)).toBe(0);
  });
});

describe('global search', () => {
  it.each([
    [137, 1],
    [412, 24 / 25],
    [60, 25 / 24],
  ])('finds offset %d at rate %d', (offset, rate) => {
    const frames = copy(offset, rate);
    const { samples, picked } = samplesOf(frames);
    const table = new CoarseSignature(16, 9).table(reference);
    const candidates = coarseSearch(table, FRAMES, samples, 24, 12);
    expect(candidates.length).toBeGreaterThan(1);
    const lock = fineSearch(reference, picked, candidates, [IDENTITY_GEOMETRY], 25);
    expect(lock).not.toBeNull();
    expect(lock?.rate).toBeCloseTo(rate, 6);
    expect(Math.abs((lock?.offset ?? 0) - offset)).toBeLessThanOrEqual(1);
    expect(lock?.score).toBeGreaterThan(0.98);
    expect(lock?.correlation).toBeGreaterThan(0.99);
    expect(lock?.inliers).toBe(48);
    expect(lock?.runnerUp).toBeLessThan(0.8);
  });

  it('finds a copy with black bars over its picture on the coarse cells between them', () => {
    // A 4:3 centre crop pillarboxed back: 9 black columns each side of the 64.
    const bars = { left: 9 / 64, right: 9 / 64, top: 0, bottom: 0 };
    const frames = copy(137, 1).map(({ frame, view }) => ({
      frame,
      view: view.map((value, i) => (i % 64 < 9 || i % 64 >= 55 ? 16 : value)),
    }));
    const projector = new SignatureProjector(reference, { ...IDENTITY_GEOMETRY, bars });
    expect(projector.cells.length).toBe(10 * 9); // signature columns 3-12
    const coarse = new CoarseSignature(16, 9, projector.cells);
    const samples = frames
      .filter((_, i) => i % 5 === 0)
      .map(({ frame, view }) => {
        const normalized = new Float32Array(projector.cells.length);
        projector.normalizedSignature(view, normalized);
        return { frame, coarse: coarse.compute(normalized, new Float32Array(12)) };
      });
    const [best] = coarseSearch(coarse.table(reference), FRAMES, samples, 24, 12);
    expect(best.offset).toBe(137);
    expect(best.rate).toBe(1);
    // As high as a plain copy's on every cell (0.78 on this synthetic footage).
    expect(best.score).toBeGreaterThan(0.85);
  });

  it('polishes an offset found a few frames off', () => {
    const { picked } = samplesOf(copy(137, 1));
    const start = {
      offset: 133,
      rate: 1,
      geometry: IDENTITY_GEOMETRY,
      score: 0,
      correlation: 0,
      inliers: 0,
      runnerUp: -1,
    };
    const polished = polishLock(reference, picked, start, 25);
    expect(polished.offset).toBe(137);
    expect(polished.rate).toBe(1);
    expect(polished.correlation).toBeGreaterThan(0.999);
  });
});
