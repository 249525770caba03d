/** bench:robustness: the run's parameters and the generated originals and look-alikes. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpeg, timed } from './support.js';

export const WIDTH = 640;
export const HEIGHT = 360;
export const FPS = 25;
export const DURATION = 180;
/** The never-embedded look-alikes only need to be long enough not to be `too_short`. */
const LOOKALIKE_DURATION = 75;
export const SEGMENT = 1;
export const AUTOGRAPHS = 100;
export const CUT_FRACTION = 0.4;
export const SIMULATED_INNOCENTS = 100_000;
/** The job's key (watermark patterns and Tardos biases) and the secret of the codewords. */
export const JOB_KEY = 'bench-robustness-job-key';
export const CODEWORD_SECRET = 'bench-robustness-codeword-secret';

export interface Content {
  name: string;
  description: string;
  graph: string;
  /** Similar-looking lavfi content that is never embedded: the "different video". */
  lookalike: { description: string; graph: string };
}

/** The fractal rendered at 1.5x and panned with a moving crop (as test/support/media.ts does). */
function pannedFractal(center: string, xPeriod: string, yPeriod: string): string {
  const x = `${WIDTH / 4}+${Math.round(WIDTH * 0.22)}*${xPeriod}`;
  const y = `${HEIGHT / 4}+${Math.round(HEIGHT * 0.22)}*${yPeriod}`;
  return (
    `mandelbrot=size=${WIDTH * 1.5}x${HEIGHT * 1.5}:rate=${FPS}:maxiter=200${center},` +
    `crop=${WIDTH}:${HEIGHT}:x=${x}:y=${y}`
  );
}

/**
 * A chaotic cellular automaton (rule 30) scrolling up one cell (8 px) per frame, blurred into
 * soft blobs, with temporal film grain on top; drawn at half size (cheaper) and scaled up.
 */
function noisyAutomaton(seed: number): string {
  return (
    `cellauto=rule=30:size=${WIDTH / 8}x${HEIGHT / 8}:rate=${FPS}:random_fill_ratio=0.5:seed=${seed},` +
    `format=yuv420p,scale=${WIDTH / 2}:${HEIGHT / 2}:flags=bicubic,gblur=sigma=2,` +
    `noise=alls=20:allf=t,scale=${WIDTH}:${HEIGHT}:flags=bicubic`
  );
}

export const CONTENTS: Content[] = [
  {
    name: 'pattern',
    description: 'ffmpeg test card `testsrc2` (nearly static: bars, a small moving gradient)',
    graph: `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
    lookalike: {
      description: 'the other test card, `testsrc`',
      graph: `testsrc=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
    },
  },
  {
    name: 'fractal',
    description: '`mandelbrot` zoom rendered at 1.5x, panned with a moving crop',
    graph: pannedFractal('', 'sin(t/3)', 'cos(t/4)'),
    lookalike: {
      description: 'the same fractal zooming to another point along another pan',
      graph: pannedFractal(':start_x=-1.25066:start_y=0.02012', 'cos(t/5)', 'sin(t/3)'),
    },
  },
  {
    name: 'noise',
    description: '`cellauto` rule 30 scrolling, blurred, + temporal grain `noise=alls=20:allf=t`',
    graph: noisyAutomaton(3),
    lookalike: { description: 'the same automaton from another seed', graph: noisyAutomaton(11) },
  },
];

async function makeClip(graph: string, seconds: number, path: string): Promise<void> {
  await ffmpeg([
    ...['-f', 'lavfi', '-i', graph, '-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14', '-pix_fmt', 'yuv420p', path],
  ]);
}

export interface Media {
  source: string;
  lookalike: string;
  seconds: number;
}

export async function makeMedia(content: Content, dir: string): Promise<Media> {
  await mkdir(dir, { recursive: true });
  const source = join(dir, 'original.mp4');
  const lookalike = join(dir, 'different.mp4');
  const [, seconds] = await timed(async () => {
    await makeClip(content.graph, DURATION, source);
    await makeClip(content.lookalike.graph, LOOKALIKE_DURATION, lookalike);
  });
  return { source, lookalike, seconds };
}
