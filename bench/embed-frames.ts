/**
 * Frame-by-frame look at one rendition of bench:embed: the decoded variants A and B next to
 * the unmarked encode, for the luma step at segment boundaries and the frame where the mark
 * shows most.
 */
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFrames } from '../src/watermark/media-frames.js';
import { ffmpeg } from './support.js';

export interface FrameFindings {
  /** RMS luma change (levels) that switching A → B adds at a segment boundary. */
  switchStep: number;
  /** The same where the viewer stays on A across a boundary (the pattern changes anyway). */
  stayStep: number;
  /** The same between two frames inside a segment: the mark's own flicker. */
  innerStep: number;
  /** Largest change of mean luma (levels) that an A → B switch adds at a boundary: a pulse. */
  switchMeanStep: number;
  worst: WorstFrame;
}

export interface WorstFrame {
  index: number;
  /** PSNR-Y of A against the unmarked encode at that frame (the lowest of the rendition). */
  psnr: number;
  width: number;
  height: number;
  a: Uint8Array;
  unmarked: Uint8Array;
}

/** `marked - unmarked` of the previous frame subtracted from that of the next: the added step. */
function step(
  nextMarked: Uint8Array,
  nextUnmarked: Uint8Array,
  previousMarked: Uint8Array,
  previousUnmarked: Uint8Array,
): { rms: number; mean: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < nextMarked.length; i++) {
    const delta = nextMarked[i] - nextUnmarked[i] - (previousMarked[i] - previousUnmarked[i]);
    sum += delta;
    squares += delta * delta;
  }
  return { rms: Math.sqrt(squares / nextMarked.length), mean: sum / nextMarked.length };
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let squares = 0;
  for (let i = 0; i < a.length; i++) squares += (a[i] - b[i]) ** 2;
  const mse = squares / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/**
 * The segments of a playlist's directory joined into one MPEG-TS file (TS concatenates
 * byte-wise): the engine's frame reader refuses playlists, as it does for uploads.
 */
export async function joinedSegments(directory: string, path: string): Promise<string> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.ts')).sort();
  for (const name of names) await appendFile(path, await readFile(join(directory, name)));
  return path;
}

const mean = (values: number[]): number =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

/** Decodes A, B and the unmarked encode of a rendition in step (luma only). */
export async function analyseFrames(
  playlists: { a: string; b: string; unmarked: string },
  width: number,
  height: number,
  framesPerSegment: number,
): Promise<FrameFindings> {
  const options = { width, height, grayOnly: true };
  const a = readFrames(playlists.a, options);
  const b = readFrames(playlists.b, options);
  const unmarked = readFrames(playlists.unmarked, options);
  const switches: number[] = [];
  const stays: number[] = [];
  const inner: number[] = [];
  let switchMeanStep = 0;
  let worst: WorstFrame | null = null;
  let previous: { a: Uint8Array; unmarked: Uint8Array } | null = null;
  for (;;) {
    const [frameA, frameB, frameU] = await Promise.all([a.next(), b.next(), unmarked.next()]);
    if (frameA.done || frameB.done || frameU.done) break;
    const index = frameA.value.index;
    if (previous) {
      if (index % framesPerSegment === 0) {
        const switched = step(frameB.value.data, frameU.value.data, previous.a, previous.unmarked);
        switches.push(switched.rms);
        switchMeanStep = Math.max(switchMeanStep, Math.abs(switched.mean));
        stays.push(step(frameA.value.data, frameU.value.data, previous.a, previous.unmarked).rms);
      } else {
        inner.push(step(frameA.value.data, frameU.value.data, previous.a, previous.unmarked).rms);
      }
    }
    const framePsnr = psnr(frameA.value.data, frameU.value.data);
    if (!worst || framePsnr < worst.psnr) {
      worst = {
        index,
        psnr: framePsnr,
        width,
        height,
        a: frameA.value.data,
        unmarked: frameU.value.data,
      };
    }
    previous = { a: frameA.value.data, unmarked: frameU.value.data };
  }
  await Promise.all([a.return(undefined), b.return(undefined), unmarked.return(undefined)]);
  if (!worst) throw new Error(`no frames decoded from ${playlists.a}`);
  return {
    switchStep: mean(switches),
    stayStep: mean(stays),
    innerStep: mean(inner),
    switchMeanStep,
    worst,
  };
}

/** How much the difference A − unmarked is amplified in the PNGs. */
export const DIFFERENCE_GAIN = 8;

/** Writes variant A's frame (luma) next to 128 + 8 × (A − unmarked) as a PNG. */
export async function writeWorstFramePng(
  worst: WorstFrame,
  path: string,
  rawPath: string,
): Promise<void> {
  const { width, height } = worst;
  const picture = new Uint8Array(2 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      picture[y * 2 * width + x] = worst.a[i];
      const difference = 128 + DIFFERENCE_GAIN * (worst.a[i] - worst.unmarked[i]);
      picture[y * 2 * width + width + x] = Math.max(0, Math.min(255, difference));
    }
  }
  await writeFile(rawPath, picture);
  await ffmpeg([
    ...['-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', `${2 * width}x${height}`],
    ...['-i', rawPath, '-frames:v', '1', path],
  ]);
}
