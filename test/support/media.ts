import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { FFMPEG_ENV, FFMPEG_PATH } from '../../src/watermark/media.js';

const run = promisify(execFile);

/**
 * lavfi sources: `pattern` is ffmpeg's test card (cheap, nearly static), `motion` a panning
 * fractal whose every second looks different, as film does (what temporal alignment needs).
 */
function source(content: 'pattern' | 'motion', size: string, seconds: number): string {
  if (content === 'pattern') return `testsrc2=size=${size}:rate=25:duration=${seconds}`;
  const [width, height] = size.split('x').map(Number);
  return (
    `mandelbrot=size=${Math.round(width * 1.5)}x${Math.round(height * 1.5)}:rate=25:maxiter=200,` +
    `crop=${width}:${height}:x=${width / 4}+${(width * 0.22).toFixed(0)}*sin(t/3):y=${height / 4}+${(height * 0.22).toFixed(0)}*cos(t/4)`
  );
}

/** Runs the npm-shipped ffmpeg and resolves with its log (stderr). */
export async function runFfmpeg(args: string[]): Promise<string> {
  const { stderr } = await run(FFMPEG_PATH, ['-hide_banner', '-nostdin', '-y', ...args], {
    env: FFMPEG_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stderr;
}

/** A small synthetic clip made with ffmpeg's lavfi sources (no media is committed). */
export async function makeClip(
  path: string,
  seconds = 2,
  size = '320x180',
  content: 'pattern' | 'motion' = 'pattern',
): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await runFfmpeg([
    '-loglevel',
    'error',
    ...['-f', 'lavfi', '-i', source(content, size, seconds), '-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path],
  ]);
}

/**
 * A clip with three audio tracks: English and French (language and title tags) and an untagged
 * one, in Matroska (which keeps track titles).
 */
export async function makeMultilingualClip(path: string, seconds: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await runFfmpeg([
    ...['-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', source('motion', '320x180', seconds)],
    ...[440, 660, 880].flatMap((hz) => [
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${hz}:duration=${seconds}`,
    ]),
    ...['-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:a'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
    ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:0', 'title=English'],
    ...['-metadata:s:a:1', 'language=fra', '-metadata:s:a:1', 'title=Français'],
    ...['-t', String(seconds), path],
  ]);
}
