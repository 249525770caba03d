import { insetByActivity, polishInset } from './inset-activity.js';
import { type Inset } from './inset-search.js';
import { seededPrng } from './prng.js';
import { downscalePlane } from './resample.js';

const WIDTH = 64;
const HEIGHT = 36;
/** Frames are drawn 8x finer, then shrunk to the detection size (as the decoder's scaler does). */
const FINE = 8;

/**
 * Views of a slow background (a gradient drifting by a level per frame) with a grainy film
 * (fresh noise every frame) inset at `inset`, or none.
 */
function views(inset: Inset | null, frames = 40): Float32Array[] {
  const prng = seededPrng('inset-activity-spec', 'grain');
  const fineWidth = WIDTH * FINE;
  const fineHeight = HEIGHT * FINE;
  const inside = (x: number, y: number): boolean =>
    inset !== null &&
    x >= inset.x * fineWidth &&
    x < (inset.x + inset.scale) * fineWidth &&
    y >= inset.y * fineHeight &&
    y < (inset.y + inset.scale) * fineHeight;
  return Array.from({ length: frames }, (_, t) => {
    const fine = new Float32Array(fineWidth * fineHeight);
    for (let y = 0; y < fineHeight; y++) {
      for (let x = 0; x < fineWidth; x++) {
        fine[y * fineWidth + x] = inside(x, y)
          ? 128 + 40 * prng.nextGaussian()
          : 60 + (80 * x) / fineWidth + t;
      }
    }
    return downscalePlane(fine, fineWidth, fineHeight, WIDTH, HEIGHT);
  });
}

describe('insetByActivity', () => {
  it('places a grainy inset to a fraction of a detection pixel', () => {
    // 40 % of the frame, its corner between pixels (as 256x144 at (352, 196) of 640x360).
    const truth = { scale: 0.4, x: 0.55, y: 196 / 360 };
    const found = insetByActivity(views(truth), WIDTH, HEIGHT);
    expect(found).not.toBeNull();
    expect(Math.abs((found?.x ?? 0) - truth.x) * WIDTH).toBeLessThan(0.15);
    expect(Math.abs((found?.y ?? 0) - truth.y) * HEIGHT).toBeLessThan(0.15);
    expect(Math.abs((found?.scale ?? 0) - truth.scale) * WIDTH).toBeLessThan(0.3);
  });

  it('finds none in a picture that changes alike everywhere', () => {
    expect(insetByActivity(views(null), WIDTH, HEIGHT)).toBeNull();
  });
});

describe('polishInset', () => {
  /** A match score peaked at `truth`, falling off within a pixel (as through a grainy inset). */
  const peakedAt =
    (truth: Inset, noise = 0) =>
    (inset: Inset): number => {
      const off = Math.hypot(
        (inset.x - truth.x) * WIDTH,
        (inset.y - truth.y) * HEIGHT,
        (inset.scale - truth.scale) * WIDTH,
      );
      const wobble = noise * Math.sin(inset.x * 9001 + inset.y * 7717 + inset.scale * 5003);
      return Math.exp(-off * off) + wobble;
    };

  it('moves an inset up to 1.5 pixels off to within an eighth of a pixel of the peak', () => {
    const truth = { scale: 0.4, x: 0.55, y: 196 / 360 };
    const start = { scale: 0.4 + 1.2 / WIDTH, x: 0.55 - 0.9 / WIDTH, y: truth.y - 1.1 / HEIGHT };
    // The screen is a noisy version of the judgement (fewer samples).
    const placed = polishInset(start, WIDTH, HEIGHT, peakedAt(truth, 0.1), peakedAt(truth));
    expect(Math.abs(placed.x - truth.x) * WIDTH).toBeLessThanOrEqual(0.125);
    expect(Math.abs(placed.y - truth.y) * HEIGHT).toBeLessThanOrEqual(0.125);
    expect(Math.abs(placed.scale - truth.scale) * WIDTH).toBeLessThanOrEqual(0.125);
  });

  it('keeps the inset inside the frame', () => {
    const corner = { scale: 0.3, x: 0.7, y: 0.7 };
    const placed = polishInset(
      corner,
      WIDTH,
      HEIGHT,
      () => 0,
      (inset) => inset.scale,
    );
    expect(placed.x + placed.scale).toBeLessThanOrEqual(1 + 1e-9);
    expect(placed.y + placed.scale).toBeLessThanOrEqual(1 + 1e-9);
    expect(placed.scale).toBeGreaterThan(0.3);
  });
});
