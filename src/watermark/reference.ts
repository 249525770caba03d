import { readFile, writeFile } from 'node:fs/promises';
import { downscalePlane } from './resample.js';

/**
 * Detection reference: what the extractor needs from the original, computed while embedding.
 * - one signature per frame: the luma box-averaged to 16x9, for temporal alignment;
 * - one mean frame per segment: the luma box-averaged to 64x36 (the detection resolution) and
 *   averaged over the segment's frames, subtracted from the aligned suspect to get the residual.
 *
 * Binary format (little-endian), a 64-byte header then two arrays:
 *   0  8  magic "AGREFv01"
 *   8  8  f64 frame rate (frames per second)
 *  16  8  f64 nominal segment duration (s)
 *  24  4  u32 frames per segment (the last segment may be shorter)
 *  28  4  u32 frame count
 *  32  4  u32 segment count
 *  36  2  u16 signature width     38  2  u16 signature height
 *  40  2  u16 detection width     42  2  u16 detection height
 *  44  4  u32 width of the frames the reference was computed from
 *  48  4  u32 height of those frames
 *  52 12  reserved, zero
 *  64     frame count x signature width x height bytes: u8 signatures, row-major
 *   ...   segment count x detection width x height f32: segment mean luma (0-255), row-major
 */
export const SIGNATURE_WIDTH = 16;
export const SIGNATURE_HEIGHT = 9;
export const DETECTION_WIDTH = 64;
export const DETECTION_HEIGHT = 36;

const MAGIC = 'AGREFv01';
const HEADER_BYTES = 64;

export interface DetectionReference {
  frameRate: number;
  segmentDuration: number;
  framesPerSegment: number;
  frameCount: number;
  segmentCount: number;
  sourceWidth: number;
  sourceHeight: number;
  signatureWidth: number;
  signatureHeight: number;
  /** frameCount x signatureWidth x signatureHeight bytes. */
  signatures: Uint8Array;
  detectionWidth: number;
  detectionHeight: number;
  /** segmentCount x detectionWidth x detectionHeight mean luma values. */
  segmentMeans: Float32Array;
}

/**
 * The low-resolution views of a luma plane shared by the reference and the detector: the
 * detection view (64x36 box average) and the signature (16x9 box average of that view).
 */
export function detectionView(
  luma: Uint8Array,
  width: number,
  height: number,
  out: Float32Array = new Float32Array(DETECTION_WIDTH * DETECTION_HEIGHT),
): Float32Array {
  return downscalePlane(luma, width, height, DETECTION_WIDTH, DETECTION_HEIGHT, out);
}

export function signatureOf(
  view: Float32Array,
  out: Float32Array = new Float32Array(SIGNATURE_WIDTH * SIGNATURE_HEIGHT),
): Float32Array {
  return downscalePlane(
    view,
    DETECTION_WIDTH,
    DETECTION_HEIGHT,
    SIGNATURE_WIDTH,
    SIGNATURE_HEIGHT,
    out,
  );
}

/** Accumulates the reference frame by frame, in display order, from the original's luma. */
export class ReferenceBuilder {
  private readonly view = new Float32Array(DETECTION_WIDTH * DETECTION_HEIGHT);
  private readonly signature = new Float32Array(SIGNATURE_WIDTH * SIGNATURE_HEIGHT);
  private readonly segmentSum = new Float64Array(DETECTION_WIDTH * DETECTION_HEIGHT);
  private segmentFrames = 0;
  private readonly means: Float32Array[] = [];
  private signatures = new Uint8Array(SIGNATURE_WIDTH * SIGNATURE_HEIGHT * 1024);
  private frameCount = 0;

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly frameRate: number,
    private readonly segmentDuration: number,
    private readonly framesPerSegment: number,
  ) {}

  /** `luma` is the unmarked frame's luma plane (a yuv420p frame also works: Y comes first). */
  addFrame(luma: Uint8Array): void {
    detectionView(luma, this.width, this.height, this.view);
    signatureOf(this.view, this.signature);

    const size = this.signature.length;
    if ((this.frameCount + 1) * size > this.signatures.length) {
      const grown = new Uint8Array(this.signatures.length * 2);
      grown.set(this.signatures);
      this.signatures = grown;
    }
    const offset = this.frameCount * size;
    for (let i = 0; i < size; i++) this.signatures[offset + i] = Math.round(this.signature[i]);
    this.frameCount++;

    for (let i = 0; i < this.view.length; i++) this.segmentSum[i] += this.view[i];
    this.segmentFrames++;
    if (this.segmentFrames === this.framesPerSegment) this.closeSegment();
  }

  finish(): DetectionReference {
    if (this.segmentFrames > 0) this.closeSegment();
    const segmentMeans = new Float32Array(this.means.length * this.view.length);
    this.means.forEach((mean, index) => segmentMeans.set(mean, index * this.view.length));
    return {
      frameRate: this.frameRate,
      segmentDuration: this.segmentDuration,
      framesPerSegment: this.framesPerSegment,
      frameCount: this.frameCount,
      segmentCount: this.means.length,
      sourceWidth: this.width,
      sourceHeight: this.height,
      signatureWidth: SIGNATURE_WIDTH,
      signatureHeight: SIGNATURE_HEIGHT,
      signatures: this.signatures.slice(0, this.frameCount * this.signature.length),
      detectionWidth: DETECTION_WIDTH,
      detectionHeight: DETECTION_HEIGHT,
      segmentMeans,
    };
  }

  private closeSegment(): void {
    const mean = new Float32Array(this.view.length);
    for (let i = 0; i < mean.length; i++) mean[i] = this.segmentSum[i] / this.segmentFrames;
    this.means.push(mean);
    this.segmentSum.fill(0);
    this.segmentFrames = 0;
  }
}

export function encodeReference(reference: DetectionReference): Buffer {
  const signatureBytes = reference.signatures.byteLength;
  const meanBytes = reference.segmentMeans.length * 4;
  const buffer = Buffer.alloc(HEADER_BYTES + signatureBytes + meanBytes);
  buffer.write(MAGIC, 0, 'latin1');
  buffer.writeDoubleLE(reference.frameRate, 8);
  buffer.writeDoubleLE(reference.segmentDuration, 16);
  buffer.writeUInt32LE(reference.framesPerSegment, 24);
  buffer.writeUInt32LE(reference.frameCount, 28);
  buffer.writeUInt32LE(reference.segmentCount, 32);
  buffer.writeUInt16LE(reference.signatureWidth, 36);
  buffer.writeUInt16LE(reference.signatureHeight, 38);
  buffer.writeUInt16LE(reference.detectionWidth, 40);
  buffer.writeUInt16LE(reference.detectionHeight, 42);
  buffer.writeUInt32LE(reference.sourceWidth, 44);
  buffer.writeUInt32LE(reference.sourceHeight, 48);
  buffer.set(reference.signatures, HEADER_BYTES);
  let offset = HEADER_BYTES + signatureBytes;
  for (const value of reference.segmentMeans) offset = buffer.writeFloatLE(value, offset);
  return buffer;
}

export function decodeReference(buffer: Buffer): DetectionReference {
  if (buffer.length < HEADER_BYTES || buffer.toString('latin1', 0, 8) !== MAGIC) {
    throw new Error('not a detection reference (bad magic)');
  }
  const reference = {
    frameRate: buffer.readDoubleLE(8),
    segmentDuration: buffer.readDoubleLE(16),
    framesPerSegment: buffer.readUInt32LE(24),
    frameCount: buffer.readUInt32LE(28),
    segmentCount: buffer.readUInt32LE(32),
    signatureWidth: buffer.readUInt16LE(36),
    signatureHeight: buffer.readUInt16LE(38),
    detectionWidth: buffer.readUInt16LE(40),
    detectionHeight: buffer.readUInt16LE(42),
    sourceWidth: buffer.readUInt32LE(44),
    sourceHeight: buffer.readUInt32LE(48),
  };
  const signatureBytes =
    reference.frameCount * reference.signatureWidth * reference.signatureHeight;
  const meanCount = reference.segmentCount * reference.detectionWidth * reference.detectionHeight;
  if (buffer.length !== HEADER_BYTES + signatureBytes + meanCount * 4) {
    throw new Error('detection reference is truncated or has trailing bytes');
  }
  const signatures = new Uint8Array(signatureBytes);
  signatures.set(buffer.subarray(HEADER_BYTES, HEADER_BYTES + signatureBytes));
  const segmentMeans = new Float32Array(meanCount);
  let offset = HEADER_BYTES + signatureBytes;
  for (let i = 0; i < meanCount; i++, offset += 4) segmentMeans[i] = buffer.readFloatLE(offset);
  return { ...reference, signatures, segmentMeans };
}

export async function writeReference(path: string, reference: DetectionReference): Promise<void> {
  await writeFile(path, encodeReference(reference));
}

export async function readReference(path: string): Promise<DetectionReference> {
  return decodeReference(await readFile(path));
}
