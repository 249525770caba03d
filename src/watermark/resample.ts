/** A single-channel image plane: luma bytes or a float plane (pattern, residual). */
export type Plane = Uint8Array | Float32Array;

/**
 * Box-filter downscale: each destination pixel is the mean of the source pixels whose centres
 * fall inside it. The detection reference and the detector both use this, so both see the same
 * low-resolution view of a frame. Writes into `out` (allocated when omitted) and returns it.
 */
export function downscalePlane(
  src: Plane,
  width: number,
  height: number,
  dstWidth: number,
  dstHeight: number,
  out: Float32Array = new Float32Array(dstWidth * dstHeight),
): Float32Array {
  if (dstWidth > width || dstHeight > height) {
    throw new RangeError(`cannot downscale ${width}x${height} to ${dstWidth}x${dstHeight}`);
  }
  const columnStart = spanStarts(width, dstWidth);
  const rowStart = spanStarts(height, dstHeight);

  // Horizontal pass: per source row, the sum of each destination column's span.
  const rowSums = new Float64Array(height * dstWidth);
  for (let y = 0; y < height; y++) {
    const srcRow = y * width;
    const sumRow = y * dstWidth;
    for (let dx = 0; dx < dstWidth; dx++) {
      let sum = 0;
      for (let x = columnStart[dx]; x < columnStart[dx + 1]; x++) sum += src[srcRow + x];
      rowSums[sumRow + dx] = sum;
    }
  }
  // Vertical pass: add the rows of each destination row's span, then divide by the area.
  for (let dy = 0; dy < dstHeight; dy++) {
    const spanHeight = rowStart[dy + 1] - rowStart[dy];
    for (let dx = 0; dx < dstWidth; dx++) {
      let sum = 0;
      for (let y = rowStart[dy]; y < rowStart[dy + 1]; y++) sum += rowSums[y * dstWidth + dx];
      out[dy * dstWidth + dx] = sum / (spanHeight * (columnStart[dx + 1] - columnStart[dx]));
    }
  }
  return out;
}

/** Start index of each of `parts` near-equal spans of `size`, plus the end. */
function spanStarts(size: number, parts: number): Int32Array {
  const starts = new Int32Array(parts + 1);
  for (let i = 0; i <= parts; i++) starts[i] = Math.round((i * size) / parts);
  return starts;
}
