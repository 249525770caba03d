/** Side of the square blocks over which local activity is measured, in pixels. */
export const MASK_BLOCK_SIZE = 8;
export const MASK_MIN_GAIN = 0.5;
export const MASK_MAX_GAIN = 2;
/**
 * Added to the activity (mean absolute gradient, luma levels per pixel) before taking ratios,
 * so film grain or encoder noise in a flat area does not count as texture.
 */
const ACTIVITY_FLOOR = 2;
/**
 * Mean activity of a frame (luma levels per pixel, at the rendition's size) from which it gets
 * the whole mark. A flatter frame (animation, a plain sky, a fade) is encoded almost without
 * loss at streaming bitrates: there the mark would be the largest error in the picture, easy to
 * see on smooth gradients, and would cost bits the encoder does not otherwise spend (a flat
 * 360p clip: +64 % bitrate, 49 dB against the source where the unmarked encode has 70 dB).
 * Such a frame's gains are scaled by sqrt((activity + 0.05) / (1 + 0.05)), down to a half.
 * Test cards and textured film are above 1 and keep the whole mark (at 4, a test card kept 65 %
 * of it and its mark no longer survived a half-size CRF 40 re-encode at the ladder). Not below
 * a half: a rendition of flat content already gets the lowest strength from its budget
 * (mark-budget.ts), and a flat picture marked at less than 0.2 levels is not found again after a
 * CRF 23 re-encode (mark-placement.spec.ts).
 */
export const SCENE_FULL_ACTIVITY = 1;
const SCENE_ACTIVITY_FLOOR = 0.05;
export const SCENE_MIN_GAIN = 0.5;

/**
 * Perceptual gain per pixel from a luma plane: high where the picture is busy (texture hides
 * the mark), low in flat areas (where a change of one level can be seen). Block activity is the
 * mean absolute gradient per 8x8 block, smoothed over 3x3 blocks, mapped to
 * sqrt(activity / mean activity), normalised to RMS 1 and clamped to [0.5, 2], scaled down on
 * flat frames (SCENE_FULL_ACTIVITY), then interpolated bilinearly so the gain has no block
 * edges. A function of the frame alone: deterministic, and the detector does not need it. Writes into `out` (allocated when
 * omitted) and returns it.
 */
export function perceptualMask(
  luma: Uint8Array,
  width: number,
  height: number,
  out: Float32Array = new Float32Array(width * height),
): Float32Array {
  if (luma.length < width * height || out.length < width * height) {
    throw new RangeError(`luma/out buffers are smaller than ${width}x${height}`);
  }
  const blocksX = Math.ceil(width / MASK_BLOCK_SIZE);
  const blocksY = Math.ceil(height / MASK_BLOCK_SIZE);
  const activity = blockActivity(luma, width, height, blocksX, blocksY);
  const gains = blockGains(boxBlur3x3(activity, blocksX, blocksY), blocksX, blocksY);
  upsampleBilinear(gains, blocksX, blocksY, width, height, out);
  return out;
}

/**
 * Mean absolute gradient (horizontal + vertical) per block, sampled at every other pixel of
 * every other row: a quarter of the cost, still 16 samples per 8x8 block, plenty for a gain map.
 */
function blockActivity(
  luma: Uint8Array,
  width: number,
  height: number,
  blocksX: number,
  blocksY: number,
): Float64Array {
  const sums = new Float64Array(blocksX * blocksY);
  const samples = new Float64Array(blocksX * blocksY);
  for (let y = 0; y < height; y += 2) {
    const row = y * width;
    // The last row has no pixel below: its vertical difference is taken upwards instead.
    const below = y + 1 < height ? width : y > 0 ? -width : 0;
    const blockRow = ((y / MASK_BLOCK_SIZE) | 0) * blocksX;
    for (let bx = 0; bx < blocksX; bx++) {
      const start = row + bx * MASK_BLOCK_SIZE;
      const blockEnd = (bx + 1) * MASK_BLOCK_SIZE;
      const end = row + (blockEnd < width ? blockEnd : width);
      let sum = 0;
      let count = 0;
      for (let i = start; i < end; i += 2) {
        const v = luma[i];
        // The last column has no pixel to its right: its left neighbour stands in.
        const right = i + 1 < row + width ? luma[i + 1] : luma[i - (width > 1 ? 1 : 0)];
        // Ternaries rather than Math.abs: Math calls are ~100x slower under Jest's vm sandbox.
        const dx = right - v;
        const dy = luma[i + below] - v;
        sum += (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
        count++;
      }
      sums[blockRow + bx] += sum;
      samples[blockRow + bx] += count;
    }
  }
  for (let b = 0; b < sums.length; b++) sums[b] /= samples[b];
  return sums;
}

function boxBlur3x3(values: Float64Array, cols: number, rows: number): Float64Array {
  const horizontal = new Float64Array(values.length);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      let sum = 0;
      let n = 0;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx >= 0 && xx < cols) {
          sum += values[y * cols + xx];
          n++;
        }
      }
      horizontal[y * cols + x] = sum / n;
    }
  }
  const blurred = new Float64Array(values.length);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      let sum = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy >= 0 && yy < rows) {
          sum += horizontal[yy * cols + x];
          n++;
        }
      }
      blurred[y * cols + x] = sum / n;
    }
  }
  return blurred;
}

/**
 * sqrt(activity / mean activity), then scaled to RMS 1 and clamped (clamping shifts the RMS, so
 * scaling and clamping alternate a few times; it settles within a percent). RMS 1, not mean 1:
 * the mask moves the mark's energy around the picture without adding to it, so the strength is
 * the mark's RMS in luma levels and its cost follows from it (mark-budget.ts) on any picture.
 */
function blockGains(activity: Float64Array, cols: number, rows: number): Float32Array {
  const count = cols * rows;
  let meanActivity = 0;
  for (let b = 0; b < count; b++) meanActivity += activity[b];
  meanActivity /= count;

  const gains = new Float32Array(count);
  for (let b = 0; b < count; b++) {
    gains[b] = ((activity[b] + ACTIVITY_FLOOR) / (meanActivity + ACTIVITY_FLOOR)) ** 0.5;
  }
  for (let pass = 0; pass < 4; pass++) {
    let meanSquare = 0;
    for (let b = 0; b < count; b++) meanSquare += gains[b] * gains[b];
    const rms = Math.sqrt(meanSquare / count);
    for (let b = 0; b < count; b++) {
      const g = gains[b] / rms;
      gains[b] = g < MASK_MIN_GAIN ? MASK_MIN_GAIN : g > MASK_MAX_GAIN ? MASK_MAX_GAIN : g;
    }
  }
  const scene = sceneGain(meanActivity);
  for (let b = 0; b < count; b++) gains[b] *= scene;
  return gains;
}

/** The whole frame's share of the mark, from its mean activity (see SCENE_FULL_ACTIVITY). */
export function sceneGain(meanActivity: number): number {
  const gain = Math.sqrt(
    (meanActivity + SCENE_ACTIVITY_FLOOR) / (SCENE_FULL_ACTIVITY + SCENE_ACTIVITY_FLOOR),
  );
  return gain < SCENE_MIN_GAIN ? SCENE_MIN_GAIN : gain > 1 ? 1 : gain;
}

/**
 * Bilinear interpolation between block centres (edges clamped). Between two centres the gain
 * is a linear ramp, so each row is filled by accumulation instead of per-pixel weights.
 */
function upsampleBilinear(
  gains: Float32Array,
  cols: number,
  rows: number,
  width: number,
  height: number,
  out: Float32Array,
): void {
  const rowGains = new Float64Array(cols);
  for (let y = 0; y < height; y++) {
    const v = Math.min(rows - 1, Math.max(0, (y + 0.5) / MASK_BLOCK_SIZE - 0.5));
    const top = Math.floor(v);
    const bottom = Math.min(rows - 1, top + 1);
    const bottomWeight = v - top;
    for (let c = 0; c < cols; c++) {
      const g = gains[top * cols + c];
      rowGains[c] = g + (gains[bottom * cols + c] - g) * bottomWeight;
    }

    let i = y * width;
    const rowEnd = i + width;
    const leftEdgeEnd = i + Math.min(width, MASK_BLOCK_SIZE / 2);
    for (; i < leftEdgeEnd; i++) out[i] = rowGains[0];
    for (let c = 0; c + 1 < cols && i < rowEnd; c++) {
      // Pixels between centre c and centre c + 1 sit at fractions (k + 0.5) / blockSize.
      const step = (rowGains[c + 1] - rowGains[c]) / MASK_BLOCK_SIZE;
      let value = rowGains[c] + step * 0.5;
      const end = i + MASK_BLOCK_SIZE < rowEnd ? i + MASK_BLOCK_SIZE : rowEnd;
      for (; i < end; i++) {
        out[i] = value;
        value += step;
      }
    }
    for (; i < rowEnd; i++) out[i] = rowGains[cols - 1];
  }
}
