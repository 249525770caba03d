import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { FFMPEG_PATH } from '../src/watermark/media.js';

const run = promisify(execFile);
/** The npm ffmpeg is a static build that crashes loading the system's gconv modules. */
const FFMPEG_ENV = { ...process.env, GCONV_PATH: '/nonexistent/gconv' };

/** Runs the npm-shipped ffmpeg; resolves with its stderr (where filters print their results). */
export async function ffmpeg(args: string[]): Promise<string> {
  const { stderr } = await run(FFMPEG_PATH, ['-hide_banner', '-nostdin', '-y', ...args], {
    env: FFMPEG_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stderr;
}

/** Wall-clock seconds of an async step. */
export async function timed<T>(step: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await step();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

/** Peak resident memory of this process so far, in MiB (ffmpeg children not included). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Prints a report and keeps it in bench/results/NAME.md. */
export function report(name: string, lines: string[]): void {
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  const path = new URL(`../../bench/results/${name}.md`, import.meta.url);
  mkdirSync(dirname(path.pathname), { recursive: true });
  writeFileSync(path, text);
}
