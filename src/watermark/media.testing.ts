import { execFileSync, spawnSync } from 'node:child_process';
import { FFMPEG_PATH, FFPROBE_PATH, FFMPEG_ENV } from './media.js';

/** ffprobe helpers the media and embedder specs share (not part of the build). */

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  sample_rate?: string;
  channels?: number;
  start_time: string;
  duration: string;
  tags?: Record<string, string>;
}

function ffprobeJson<T>(args: string[]): T {
  const output = execFileSync(FFPROBE_PATH, ['-v', 'error', '-print_format', 'json', ...args], {
    encoding: 'utf8',
    env: FFMPEG_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output) as T;
}

export function probeStreams(path: string): ProbedStream[] {
  return ffprobeJson<{ streams: ProbedStream[] }>(['-show_streams', path]).streams;
}

/** Start and end (seconds, the file's own timestamps) of the stream of this type. */
export function span(streams: ProbedStream[], type: string): { start: number; end: number } {
  const stream = streams.find((candidate) => candidate.codec_type === type);
  if (!stream) throw new Error(`no ${type} stream`);
  const start = Number(stream.start_time);
  return { start, end: start + Number(stream.duration) };
}

/** Timestamps, sizes and bytes of every audio packet of a file. */
export function audioPackets(path: string): { pts: number; dts: number; data: string }[] {
  return ffprobeJson<{ packets: ReturnType<typeof audioPackets> }>([
    ...['-select_streams', 'a', '-show_packets', '-show_data'],
    ...['-show_entries', 'packet=pts,dts,duration,size,data', path],
  ]).packets;
}

/** Time of the first sound after the leading silence, as ffmpeg's decoder timestamps it. */
export function toneOnset(path: string): number {
  const log = spawnSync(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-nostdin', '-i', path, '-map', '0:a:0'],
      ...['-af', 'silencedetect=noise=-40dB:duration=0.2', '-f', 'null', '-'],
    ],
    { encoding: 'utf8', env: FFMPEG_ENV },
  ).stderr;
  const match = /silence_end: (-?[\d.]+)/.exec(log);
  if (!match) throw new Error(`no silence before a tone in ${path}`);
  return Number(match[1]);
}

/**
 * The options line x264 wrote into a video (its SEI), read from the raw H.264 stream: in an
 * MPEG-TS file it is split across packets.
 */
export function x264Options(path: string): string {
  const raw = execFileSync(
    FFMPEG_PATH,
    ['-v', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'h264', 'pipe:1'],
    { env: FFMPEG_ENV, maxBuffer: 256 * 1024 * 1024 },
  ).toString('latin1');
  const options = / options: ([^\0]*?)\0/.exec(raw)?.[1];
  if (!options) throw new Error(`no x264 options in ${path}`);
  return ` ${options} `;
}

/** Pearson correlation of two equally long sample arrays (the specs' measure of a mark). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sa = 0;
  let sb = 0;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    sa += a[i];
    sb += b[i];
    sab += a[i] * b[i];
    saa += a[i] * a[i];
    sbb += b[i] * b[i];
  }
  const covariance = sab / n - (sa / n) * (sb / n);
  return covariance / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
}
