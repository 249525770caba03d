import { perceptualMask } from './mask.js';

/** Symbol carried by a variant: +1 for variant A, -1 for variant B. */
export type WatermarkSymbol = 1 | -1;

/**
 * Adds symbol * strength * mask * pattern to the luma of one frame and writes the result to
 * `out`. `frame` is a luma plane or a whole yuv420p frame (Y, then U and V): whatever follows the
 * luma plane is copied untouched. Pass `mask` to reuse a perceptual mask already computed for
 * this frame.
 */
export function embedFrame(
  frame: Uint8Array,
  width: number,
  height: number,
  pattern: Float32Array,
  symbol: WatermarkSymbol,
  strength: number,
  out: Uint8Array,
  mask: Float32Array = perceptualMask(frame, width, height),
): Uint8Array {
  checkSizes(frame, width, height, pattern, out, mask);
  const amplitude = symbol * strength;
  const lumaSize = width * height;
  for (let i = 0; i < lumaSize; i++) {
    out[i] = roundToByte(frame[i] + amplitude * mask[i] * pattern[i]);
  }
  copyChroma(frame, lumaSize, out);
  return out;
}

/**
 * Both variants of one decoded frame with a single mask computation: variant A (+1) into
 * `outA`, variant B (-1) into `outB`. `mask` is an optional scratch buffer (width * height)
 * reused across frames to avoid an allocation per frame.
 */
export function embedVariantPair(
  frame: Uint8Array,
  width: number,
  height: number,
  pattern: Float32Array,
  strength: number,
  outA: Uint8Array,
  outB: Uint8Array,
  mask: Float32Array = new Float32Array(width * height),
): void {
  perceptualMask(frame, width, height, mask);
  checkSizes(frame, width, height, pattern, outA, mask);
  checkSizes(frame, width, height, pattern, outB, mask);
  const lumaSize = width * height;
  for (let i = 0; i < lumaSize; i++) {
    const delta = strength * mask[i] * pattern[i];
    const luma = frame[i];
    outA[i] = roundToByte(luma + delta);
    outB[i] = roundToByte(luma - delta);
  }
  copyChroma(frame, lumaSize, outA);
  copyChroma(frame, lumaSize, outB);
}

/**
 * Plain rounding half-up (no dither, so A and B stay deterministic) and clamping to a byte:
 * storing into a Uint8Array truncates, hence the +0.5.
 */
function roundToByte(value: number): number {
  let shifted = value + 0.5;
  if (shifted < 0) shifted = 0;
  else if (shifted > 255) shifted = 255;
  return shifted;
}

function copyChroma(frame: Uint8Array, lumaSize: number, out: Uint8Array): void {
  if (frame.length > lumaSize) out.set(frame.subarray(lumaSize), lumaSize);
}

function checkSizes(
  frame: Uint8Array,
  width: number,
  height: number,
  pattern: Float32Array,
  out: Uint8Array,
  mask: Float32Array,
): void {
  const lumaSize = width * height;
  if (frame.length < lumaSize || pattern.length !== lumaSize || mask.length < lumaSize) {
    throw new RangeError(`frame, pattern or mask does not match ${width}x${height}`);
  }
  if (out.length !== frame.length) {
    throw new RangeError(`output buffer has ${out.length} bytes, frame has ${frame.length}`);
  }
}
