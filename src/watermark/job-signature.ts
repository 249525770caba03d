import { type BufferedFrame, coarseSearch, type SearchSample } from './align.js';
import { MIN_SEARCH_SAMPLES } from './lock-rules.js';
import { type DetectionReference } from './reference.js';
import { downscalePlane } from './resample.js';
import {
  COARSE_CELLS,
  CoarseSignature,
  MIN_SIGNATURE_DEVIATION,
  normalizeInPlace,
} from './signature-matching.js';

/**
 * A job's signature: the compact summary of its original that ranks every job against a copy
 * before any full lock search (find-original.ts). It keeps the alignment's coarse signature
 * (4x3 cells, normalised) of the original averaged over each half second, as bytes: 24 bytes
 * per second of film, 170 kB for two hours, against 3 MB per minute for the detection
 * reference. Averaged rather than sampled, a copy's half second compares well with the entry
 * it overlaps most, across cuts and speed changes of a few percent too.
 *
 * Binary format (little-endian), a 32-byte header then the entries:
 *   0  8  magic "AGSIGv02"
 *   8  8  f64 frame rate of the original (frames per second)
 *  16  4  u32 frame count
 *  20  2  u16 step (original frames per entry)
 *  22  2  u16 signature width    24  2  u16 signature height
 *  26  2  u16 detection width    28  2  u16 detection height
 *  30  2  reserved, zero
 *  32     entries x COARSE_CELLS i8: normalised coarse signature x QUANTUM
 */
export interface JobSignature {
  frameRate: number;
  frameCount: number;
  step: number;
  signatureWidth: number;
  signatureHeight: number;
  detectionWidth: number;
  detectionHeight: number;
  coarse: Int8Array;
}

/** Seconds of original per entry. */
const STEP_SECONDS = 0.5;
/** A normalised coarse cell is at most √11 ≈ 3.32 in magnitude: ×38 fits a signed byte. */
const QUANTUM = 38;
/** Copy half-seconds compared per window: enough to rank, few enough to rank 100 jobs fast. */
const MAX_SAMPLES = 24;
const MAGIC = 'AGSIGv02';
const HEADER_BYTES = 32;

export function jobSignatureOf(reference: DetectionReference): JobSignature {
  const step = Math.max(1, Math.round(reference.frameRate * STEP_SECONDS));
  const entries = Math.ceil(reference.frameCount / step);
  const coarse = new CoarseSignature(reference.signatureWidth, reference.signatureHeight);
  const size = reference.signatureWidth * reference.signatureHeight;
  const mean = new Float32Array(size);
  const scratch = new Float32Array(COARSE_CELLS);
  const quantised = new Int8Array(entries * COARSE_CELLS);
  for (let entry = 0; entry < entries; entry++) {
    const first = entry * step;
    const frames = Math.min(step, reference.frameCount - first);
    mean.fill(0);
    for (let frame = first; frame < first + frames; frame++) {
      for (let i = 0; i < size; i++) mean[i] += reference.signatures[frame * size + i] / frames;
    }
    coarse.compute(mean, scratch);
    for (let c = 0; c < COARSE_CELLS; c++) {
      quantised[entry * COARSE_CELLS + c] = Math.round(scratch[c] * QUANTUM);
    }
  }
  return {
    frameRate: reference.frameRate,
    frameCount: reference.frameCount,
    step,
    signatureWidth: reference.signatureWidth,
    signatureHeight: reference.signatureHeight,
    detectionWidth: reference.detectionWidth,
    detectionHeight: reference.detectionHeight,
    coarse: quantised,
  };
}

export function encodeJobSignature(signature: JobSignature): Buffer {
  const buffer = Buffer.alloc(HEADER_BYTES + signature.coarse.length);
  buffer.write(MAGIC, 0, 'latin1');
  buffer.writeDoubleLE(signature.frameRate, 8);
  buffer.writeUInt32LE(signature.frameCount, 16);
  buffer.writeUInt16LE(signature.step, 20);
  buffer.writeUInt16LE(signature.signatureWidth, 22);
  buffer.writeUInt16LE(signature.signatureHeight, 24);
  buffer.writeUInt16LE(signature.detectionWidth, 26);
  buffer.writeUInt16LE(signature.detectionHeight, 28);
  buffer.set(new Uint8Array(signature.coarse.buffer, signature.coarse.byteOffset), HEADER_BYTES);
  return buffer;
}

export function decodeJobSignature(buffer: Uint8Array): JobSignature {
  const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw new Error('not a job signature (bad magic)');
  }
  const frameCount = bytes.readUInt32LE(16);
  const step = bytes.readUInt16LE(20);
  if (step === 0 || bytes.length !== HEADER_BYTES + Math.ceil(frameCount / step) * COARSE_CELLS) {
    throw new Error('job signature is truncated or has trailing bytes');
  }
  return {
    frameRate: bytes.readDoubleLE(8),
    frameCount,
    step,
    signatureWidth: bytes.readUInt16LE(22),
    signatureHeight: bytes.readUInt16LE(24),
    detectionWidth: bytes.readUInt16LE(26),
    detectionHeight: bytes.readUInt16LE(28),
    coarse: Int8Array.from(bytes.subarray(HEADER_BYTES), (byte) => (byte << 24) >> 24),
  };
}

/** How a copy must be decoded to be compared with a signature (copies decode once per format). */
export function copyFormatOf(
  signature: Pick<
    JobSignature,
    'frameRate' | 'detectionWidth' | 'detectionHeight' | 'signatureWidth' | 'signatureHeight'
  >,
): string {
  const { frameRate, detectionWidth, detectionHeight, signatureWidth, signatureHeight } = signature;
  return `${frameRate}:${detectionWidth}x${detectionHeight}:${signatureWidth}x${signatureHeight}`;
}

/**
 * Up to 24 half-seconds spread over a window of the copy (decoded at the signature's frame
 * rate and detection size), each as the coarse signature of its mean picture, for
 * `signatureScore`. Fewer than the lock search needs (a black or flat window) → [].
 */
export function copySamples(window: BufferedFrame[], format: JobSignature): SearchSample[] {
  const { detectionWidth, detectionHeight, signatureWidth, signatureHeight, step } = format;
  const coarse = new CoarseSignature(signatureWidth, signatureHeight);
  const signature = new Float32Array(signatureWidth * signatureHeight);
  const mean = new Float32Array(signature.length);
  const starts = Math.floor(window.length / step);
  const stride = Math.max(1, Math.floor(starts / MAX_SAMPLES));
  const samples: SearchSample[] = [];
  for (let start = 0; start < starts && samples.length < MAX_SAMPLES; start += stride) {
    mean.fill(0);
    for (let i = start * step; i < (start + 1) * step; i++) {
      const view = window[i].view;
      downscalePlane(
        view,
        detectionWidth,
        detectionHeight,
        signatureWidth,
        signatureHeight,
        signature,
      );
      for (let c = 0; c < mean.length; c++) mean[c] += signature[c] / step;
    }
    // In luma levels, as the entries: a picture with little coarse structure beside its fine
    // detail keeps it (normalised first, its coarse cells would be flat).
    const sample = coarse.compute(mean, new Float32Array(COARSE_CELLS));
    if (normalizeInPlace(mean, mean.length) < MIN_SIGNATURE_DEVIATION) continue;
    samples.push({ frame: window[start * step].frame, coarse: sample });
  }
  return samples.length >= MIN_SEARCH_SAMPLES ? samples : [];
}

/**
 * How well a copy's samples match the original somewhere: the best mean coarse correlation
 * (in [-1, 1], plus the search's small coverage bonus) over every offset — the alignment's
 * coarse search, run on the signature's entries instead of every frame, at the copy's own
 * speed only (a half-second entry absorbs a few percent over a 10 s window). -1 when nothing
 * can be compared.
 */
export function signatureScore(signature: JobSignature, samples: SearchSample[]): number {
  const entries = signature.coarse.length / COARSE_CELLS;
  const table = new Float32Array(signature.coarse);
  for (let i = 0; i < table.length; i++) table[i] /= QUANTUM;
  // In entries: a sample lands on the entry it overlaps most.
  const scaled = samples.map(({ frame, coarse }) => ({ frame: frame / signature.step, coarse }));
  const [best] = coarseSearch(table, entries, scaled, 1, 1, [1]);
  return best?.score ?? -1;
}
