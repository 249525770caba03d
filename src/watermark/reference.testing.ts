import { symbolForBit } from './codes.js';
import { watermarkPattern } from './pattern.js';
import { seededPrng } from './prng.js';
import { type DetectionReference, ReferenceBuilder } from './reference.js';

/** The signature grid of synthetic references (16×9, as the engine's). */
export const SYNTHETIC_SIGNATURE = 16 * 9;

/**
 * A reference of `frameCount` frames at 25 fps whose signatures cross-fade from one random
 * picture (of `seed`) to the next every `framesPerShot` frames: every frame differs from its
 * neighbours, slowly, like real footage. Shared by the alignment and job-signature specs.
 */
export function syntheticReference(
  seed: string,
  frameCount: number,
  framesPerShot: number,
): DetectionReference {
  const signatures = new Uint8Array(frameCount * SYNTHETIC_SIGNATURE);
  for (let frame = 0; frame < frameCount; frame++) {
    const shot = Math.floor(frame / framesPerShot);
    const t = (frame % framesPerShot) / framesPerShot;
    const from = watermarkPattern(seed, shot, 16, 9);
    const to = watermarkPattern(seed, shot + 1, 16, 9);
    for (let c = 0; c < SYNTHETIC_SIGNATURE; c++) {
      signatures[frame * SYNTHETIC_SIGNATURE + c] = Math.round(
        128 + 40 * ((1 - t) * from[c] + t * to[c]),
      );
    }
  }
  return {
    frameRate: 25,
    segmentDuration: 1,
    framesPerSegment: 25,
    frameCount,
    segmentCount: frameCount / 25,
    sourceWidth: 64,
    sourceHeight: 36,
    signatureWidth: 16,
    signatureHeight: 9,
    signatures,
    detectionWidth: 64,
    detectionHeight: 36,
    segmentMeans: new Float32Array((frameCount / 25) * 64 * 36),
  };
}

/** The symbol (±1) each of `segments` segments of a synthetic copy carries, drawn from `key`. */
export function syntheticSymbols(key: string, segments: number): (1 | -1)[] {
  return Array.from({ length: segments }, (_, segment) =>
    symbolForBit(seededPrng(key, `bit-${segment}`).nextFloat() < 0.5 ? 1 : 0),
  );
}

/**
 * Frame `frame` of a picture panning one pixel per frame over the smooth random panorama
 * `panorama` (`frames` pixels wider than the picture): `contrast` levels around 120, clamped.
 * The Detector specs' original.
 */
export function panningPicture(
  panorama: string,
  frame: number,
  size: { width: number; height: number; frames: number },
  contrast = 45,
): Uint8Array {
  const { width, height, frames } = size;
  const wide = watermarkPattern(panorama, 0, width + frames, height);
  const luma = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = 120 + contrast * wide[y * (width + frames) + x + frame];
      luma[y * width + x] = value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
    }
  }
  return luma;
}

/** The detection reference (25 fps, 0.2 s segments) of frames 0 to `frames` - 1 of `pictureOf`. */
export function panningReference(
  pictureOf: (frame: number) => Uint8Array,
  size: { width: number; height: number; frames: number },
  framesPerSegment: number,
): DetectionReference {
  const builder = new ReferenceBuilder(size.width, size.height, 25, 0.2, framesPerSegment);
  for (let frame = 0; frame < size.frames; frame++) builder.addFrame(pictureOf(frame));
  return builder.finish();
}
