import { watermarkPattern } from './pattern.js';
import { type DetectionReference } from './reference.js';

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
