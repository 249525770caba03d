import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { FFMPEG_ENV, FFMPEG_PATH } from '../src/watermark/media.js';

const run = promisify(execFile);

/** Runs the npm-shipped ffmpeg; resolves with its stderr (where filters print their results). */
export async function ffmpeg(args: string[]): Promise<string> {
  const { stderr } = await run(FFMPEG_PATH, ['-hide_banner', '-nostdin', '-y', ...args], {
    env: FFMPEG_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stderr;
}

/** A JSON request to the API at `base`; throws with the answer on anything but 2xx. */
export async function apiCall<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<T>;
}

/** The body of the pipeline the benches use: inputs in `root`, outputs in `root/out` (created). */
export async function benchPipeline(root: string): Promise<object> {
  await mkdir(join(root, 'out'), { recursive: true }); // pipeline folders must exist
  return {
    pipeline: {
      name: 'bench',
      input: { uri: `file://${root}` },
      output: { uri: `file://${root}/out` },
    },
  };
}

/**
 * Through the API at `base`: a `seconds` testsrc2 clip (320x180) under `root`, a pipeline on
 * `root` and a job of one 180p rendition with 1 s segments, queued; returns the job's id.
 */
export async function queueBenchJob(
  base: string,
  token: string,
  root: string,
  seconds: number,
): Promise<string> {
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=25:duration=${seconds}`],
    ...['-pix_fmt', 'yuv420p', join(root, 'in.mp4')],
  ]);
  const { pipeline } = await apiCall<{ pipeline: { id: string } }>(
    base,
    'POST',
    '/v1/pipelines',
    await benchPipeline(root),
    token,
  );
  const { job } = await apiCall<{ job: { id: string } }>(
    base,
    'POST',
    '/v1/jobs',
    {
      job: {
        pipeline: { id: pipeline.id },
        input: { input_name: 'in.mp4' },
        autograph: { segment_duration: 1 },
        outputs: [{ height: 180 }],
      },
    },
    token,
  );
  return job.id;
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
  const load = loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ');
  const machine = `Load average (1 / 5 / 15 min) when written: ${load}, on ${availableParallelism()} cores.`;
  const text = `${[...lines, '', machine].join('\n')}\n`;
  process.stdout.write(text);
  const path = new URL(`../../bench/results/${name}.md`, import.meta.url);
  mkdirSync(dirname(path.pathname), { recursive: true });
  writeFileSync(path, text);
}

/**
 * Natural-looking 720p test content: moving test card and zooming fractal detail, plus
 * temporal film grain of the given `noise` filter strength (0: none).
 */
export async function makeSource(path: string, seconds: number, grain = 6): Promise<void> {
  const grainFilter = grain > 0 ? `,noise=alls=${grain}:allf=t` : '';
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${seconds}`],
    // The fractal is rendered small (it is costly) and scaled up: smooth, zooming detail.
    ...['-f', 'lavfi', '-i', `mandelbrot=size=320x180:rate=25`],
    ...[
      '-filter_complex',
      `[1]scale=1280:720[zoom];[0][zoom]blend=all_mode=average${grainFilter},format=yuv420p`,
    ],
    ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14', path],
  ]);
}

/**
 * CPU seconds used so far by this process and by its children that have exited (ffmpeg): a
 * cost measure that, unlike wall time, does not grow when other work shares the machine.
 */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  // /proc/self/stat fields 16 and 17: children's user and system time, in clock ticks (100/s).
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const childTicks = Number(fields[13]) + Number(fields[14]);
  return (user + system) / 1e6 + childTicks / 100;
}
