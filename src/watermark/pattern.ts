import { deriveSeed, type KeyMaterial, Prng } from './prng.js';

/**
 * Control grid of the watermark pattern: one gaussian value per cell, 16x9 so that a 16:9
 * frame gets square cells and a detector working at 64x36 still sees 4x4 pixels per cell.
 */
export const PATTERN_GRID_WIDTH = 16;
export const PATTERN_GRID_HEIGHT = 9;

/** Rendered patterns are cached (they are re-used for every frame of a segment). */
const CACHE_BUDGET_BYTES = 64 * 1024 * 1024;
const cache = new Map<string, Float32Array>();
let cachedBytes = 0;

/**
 * The key-seeded pattern of one segment rendered at width x height: a cubic B-spline surface
 * through a 16x9 grid of gaussian control values, defined in normalised coordinates so every
 * resolution samples the same continuous function (a 64x36 render correlates with a downscaled
 * 1280x720 one). Zero mean, unit RMS. The returned array is shared through a cache: read only.
 */
export function watermarkPattern(
  key: KeyMaterial,
  segmentIndex: number,
  width: number,
  height: number,
): Float32Array {
  if (!Number.isInteger(segmentIndex) || segmentIndex < 0) {
    throw new RangeError(`segment index must be a non-negative integer, got ${segmentIndex}`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid pattern size ${width}x${height}`);
  }
  const seed = deriveSeed(key, `pattern:${segmentIndex}`);
  const cacheKey = `${Buffer.from(seed.buffer).toString('hex')}:${width}x${height}`;
  const hit = cache.get(cacheKey);
  if (hit) {
    // Re-insert to mark as most recently used.
    cache.delete(cacheKey);
    cache.set(cacheKey, hit);
    return hit;
  }
  const pattern = renderPattern(new Prng(seed), width, height);
  remember(cacheKey, pattern);
  return pattern;
}

function renderPattern(prng: Prng, width: number, height: number): Float32Array {
  const grid = new Float64Array(PATTERN_GRID_WIDTH * PATTERN_GRID_HEIGHT);
  for (let i = 0; i < grid.length; i++) grid[i] = prng.nextGaussian();

  const cols = splineTaps(width, PATTERN_GRID_WIDTH);
  const rows = splineTaps(height, PATTERN_GRID_HEIGHT);

  // Separable evaluation: first every grid row along x, then 4 of those rows per output row.
  const gridRowsAtX = new Float64Array(PATTERN_GRID_HEIGHT * width);
  for (let gy = 0; gy < PATTERN_GRID_HEIGHT; gy++) {
    const gridRow = gy * PATTERN_GRID_WIDTH;
    const outRow = gy * width;
    for (let x = 0; x < width; x++) {
      const t = x * 4;
      gridRowsAtX[outRow + x] =
        cols.weights[t] * grid[gridRow + cols.indices[t]] +
        cols.weights[t + 1] * grid[gridRow + cols.indices[t + 1]] +
        cols.weights[t + 2] * grid[gridRow + cols.indices[t + 2]] +
        cols.weights[t + 3] * grid[gridRow + cols.indices[t + 3]];
    }
  }

  const pattern = new Float32Array(width * height);
  let sum = 0;
  let sumSquares = 0;
  for (let y = 0; y < height; y++) {
    const t = y * 4;
    const r0 = rows.indices[t] * width;
    const r1 = rows.indices[t + 1] * width;
    const r2 = rows.indices[t + 2] * width;
    const r3 = rows.indices[t + 3] * width;
    const w0 = rows.weights[t];
    const w1 = rows.weights[t + 1];
    const w2 = rows.weights[t + 2];
    const w3 = rows.weights[t + 3];
    const outRow = y * width;
    for (let x = 0; x < width; x++) {
      const v =
        w0 * gridRowsAtX[r0 + x] +
        w1 * gridRowsAtX[r1 + x] +
        w2 * gridRowsAtX[r2 + x] +
        w3 * gridRowsAtX[r3 + x];
      pattern[outRow + x] = v;
      sum += v;
      sumSquares += v * v;
    }
  }

  const count = width * height;
  const mean = sum / count;
  const variance = Math.max(sumSquares / count - mean * mean, 1e-12);
  const scale = 1 / Math.sqrt(variance);
  for (let i = 0; i < count; i++) pattern[i] = (pattern[i] - mean) * scale;
  return pattern;
}

interface SplineTaps {
  /** 4 grid indices per output sample (edges replicated). */
  indices: Int32Array;
  /** The matching 4 cubic B-spline weights (they sum to 1). */
  weights: Float64Array;
}

/** Cubic B-spline taps mapping `size` pixel centres onto `gridSize` cell centres. */
function splineTaps(size: number, gridSize: number): SplineTaps {
  const indices = new Int32Array(size * 4);
  const weights = new Float64Array(size * 4);
  for (let p = 0; p < size; p++) {
    const u = ((p + 0.5) / size) * gridSize - 0.5;
    const base = Math.floor(u);
    const f = u - base;
    const f2 = f * f;
    const f3 = f2 * f;
    const t = p * 4;
    weights[t] = (1 - 3 * f + 3 * f2 - f3) / 6;
    weights[t + 1] = (4 - 6 * f2 + 3 * f3) / 6;
    weights[t + 2] = (1 + 3 * f + 3 * f2 - 3 * f3) / 6;
    weights[t + 3] = f3 / 6;
    for (let k = 0; k < 4; k++) indices[t + k] = Math.min(gridSize - 1, Math.max(0, base - 1 + k));
  }
  return { indices, weights };
}

function remember(cacheKey: string, pattern: Float32Array): void {
  cache.set(cacheKey, pattern);
  cachedBytes += pattern.byteLength;
  for (const [oldKey, old] of cache) {
    if (cachedBytes <= CACHE_BUDGET_BYTES || oldKey === cacheKey) break;
    cache.delete(oldKey);
    cachedBytes -= old.byteLength;
  }
}
