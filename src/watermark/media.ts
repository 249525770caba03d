import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { type ChildProcess, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { type Readable } from 'node:stream';

/**
 * The engine's only media I/O: ffprobe for metadata, ffmpeg for decoding to raw frames and for
 * encoding raw frames to HLS. The binaries come from the npm installer packages, never from
 * the system, so every machine runs the same build.
 */
export const FFMPEG_PATH = ffmpegInstaller.path;
export const FFPROBE_PATH = ffprobeInstaller.path;

/**
 * The installer builds are static: when a demuxer needs iconv (MPEG-TS service names), glibc
 * would load the host's shared gconv modules into the static binary and crash (ffprobe dies on
 * any .ts). With no gconv modules to find, iconv fails cleanly and only those names are lost.
 */
export const FFMPEG_ENV: NodeJS.ProcessEnv = { ...process.env, GCONV_PATH: '/nonexistent/gconv' };

export type MediaErrorCode =
  'not_found' | 'not_a_video' | 'decode_failed' | 'encode_failed' | 'remux_failed';

export class MediaError extends Error {
  override readonly name = 'MediaError';

  constructor(
    readonly code: MediaErrorCode,
    message: string,
    /** The tail of ffmpeg's / ffprobe's stderr, when a process failed. */
    readonly stderr = '',
  ) {
    super(stderr ? `${message}: ${stderr.trim()}` : message);
  }
}

export interface MediaInfo {
  duration_s: number;
  /** Coded size of the first video stream. */
  width: number;
  height: number;
  /** Display aspect ratio (width / height once the sample aspect ratio is applied). */
  display_aspect_ratio: number;
  codec: string;
  frame_rate: number;
  /** Always true: probeMedia rejects files without a video stream. */
  has_video: true;
  /** Every audio stream, in file order (embedVariants carries them all into the outputs). */
  audio_tracks: AudioTrackInfo[];
}

export interface AudioTrackInfo {
  /** ISO 639 code from the stream's tags, `und` when it has none. */
  language: string;
  /** The stream's title tag, or null. */
  title: string | null;
}

/** An ISO 639 code or BCP 47 tag as containers write them ("fra", "pt-BR"). */
const LANGUAGE_TAG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;

/**
 * What ffmpeg may open when it reads a customer's file: the local file itself (no network,
 * no other protocol), through container demuxers that hold their media inside. Playlists
 * (HLS, DASH), concat lists, image sequences and the like would open further files named
 * inside them, wherever they are, so they are not on the list.
 */
export const ACCEPTED_CONTAINERS = 'MP4/MOV, Matroska/WebM, MPEG-TS, NUT, AVI or FLV';
export const INPUT_GUARD = [
  ...['-protocol_whitelist', 'file'],
  ...['-format_whitelist', 'mov,matroska,mpegts,nut,avi,flv'],
];

/** Demuxers that read still images: a video stream there is a picture, not a video. */
const IMAGE_FORMATS = /(^|,)(image2|[a-z0-9]+_pipe)(,|$)/;

export async function probeMedia(path: string): Promise<MediaInfo> {
  return (await probe(path)).info;
}

export interface Probe {
  info: MediaInfo;
  /** Seconds from the file's start time (its earliest stream) to the first video frame. */
  videoStart_s: number;
  /** Seconds from the first video frame to the end of the video; null if not in the header. */
  videoDuration_s: number | null;
  /** For videoDuration: the video stream's index, its start and the file's end (seconds). */
  videoIndex: number;
  videoStartTime_s: number;
  end_s: number;
}

export async function probe(path: string): Promise<Probe> {
  await assertReadable(path);
  const run = await runToCompletion(FFPROBE_PATH, [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    ...INPUT_GUARD,
    path,
  ]);
  if (/not on whitelist/.test(run.stderr)) {
    throw new MediaError(
      'not_a_video',
      `${path} is not a media file in an accepted container (${ACCEPTED_CONTAINERS}): playlists and lists of other files are refused`,
    );
  }
  if (run.code !== 0) throw new MediaError('not_a_video', `cannot read ${path}`, run.stderr);

  const probe = asRecord(parseJson(run.stdout));
  const format = asRecord(probe.format);
  const streams = Array.isArray(probe.streams) ? probe.streams.map(asRecord) : [];
  const video = streams.find(
    (stream) => stream.codec_type === 'video' && asRecord(stream.disposition).attached_pic !== 1,
  );
  if (!video) throw new MediaError('not_a_video', `${path} has no video stream`);
  if (typeof format.format_name === 'string' && IMAGE_FORMATS.test(format.format_name)) {
    throw new MediaError('not_a_video', `${path} is a still image (${format.format_name})`);
  }

  const width = toNumber(video.width);
  const height = toNumber(video.height);
  const frameRate = parseRatio(video.avg_frame_rate) || parseRatio(video.r_frame_rate);
  const duration = toNumber(format.duration) || toNumber(video.duration);
  if (!(width > 0 && height > 0 && frameRate > 0 && duration > 0)) {
    throw new MediaError('not_a_video', `${path} has no usable video (size, rate or duration)`);
  }
  const audio = streams.filter((stream) => stream.codec_type === 'audio');
  const sampleAspect = parseRatio(video.sample_aspect_ratio) || 1;
  const fileStart = toNumber(format.start_time);
  const videoStart = Math.max(0, (toNumber(video.start_time) || fileStart) - fileStart);
  return {
    info: {
      duration_s: duration,
      width,
      height,
      display_aspect_ratio: (width * sampleAspect) / height,
      codec: typeof video.codec_name === 'string' ? video.codec_name : 'unknown',
      frame_rate: frameRate,
      has_video: true,
      audio_tracks: audio.map((stream) => {
        const tags = asRecord(stream.tags);
        // Only well-formed tags: the language travels into playlists and MP4 headers.
        const { language } = tags;
        return {
          language: typeof language === 'string' && LANGUAGE_TAG.test(language) ? language : 'und',
          title: typeof tags.title === 'string' && tags.title ? tags.title : null,
        };
      }),
    },
    videoStart_s: videoStart,
    videoDuration_s: toNumber(video.duration) || null,
    videoIndex: toNumber(video.index),
    videoStartTime_s: fileStart + videoStart,
    end_s: fileStart + duration,
  };
}

/**
 * Seconds from the first video frame to the end of the video. Containers without a stream
 * duration in their header (Matroska) have the end of the video's last packets read instead.
 */
export async function videoDuration(path: string, probed: Probe): Promise<number> {
  if (probed.videoDuration_s !== null) return probed.videoDuration_s;
  const run = await runToCompletion(FFPROBE_PATH, [
    ...['-v', 'error', '-select_streams', String(probed.videoIndex)],
    // From 30 s before the end (any keyframe interval fits, little is read) to the end; an
    // interval without an end reads nothing.
    ...['-read_intervals', `${Math.max(0, probed.end_s - 30).toFixed(6)}%+1000000`],
    ...['-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', ...INPUT_GUARD, path],
  ]);
  let end = 0;
  for (const line of run.stdout.split('\n')) {
    const [pts = '', duration = ''] = line.split(',');
    end = Math.max(end, toNumber(pts) + toNumber(duration));
  }
  const fromPackets = end - probed.videoStartTime_s;
  return fromPackets > 0 ? fromPackets : probed.info.duration_s - probed.videoStart_s;
}

/** Nearest even integer (at least 2): yuv420p needs even dimensions. */
export function evenSize(value: number): number {
  return Math.max(2, 2 * Math.round(value / 2));
}

/**
 * Output size for a requested width and/or height, keeping the display aspect ratio; both
 * dimensions even.
 */
export function scaledSize(
  info: MediaInfo,
  requested: { width?: number; height?: number },
): { width: number; height: number } {
  const { width, height } = requested;
  if (width !== undefined && height !== undefined) return { width, height };
  if (height !== undefined) {
    return { width: evenSize(height * info.display_aspect_ratio), height };
  }
  if (width !== undefined) {
    return { width, height: evenSize(width / info.display_aspect_ratio) };
  }
  const displayHeight = evenSize(info.height - 1);
  return { width: evenSize(displayHeight * info.display_aspect_ratio), height: displayHeight };
}

export interface ExitStatus {
  code: number | null;
  describe: string;
}

/** Resolves (never rejects) when the process has exited and its pipes are closed. */
export function waitForExit(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, describe: error.message }));
    child.once('close', (code, signal) =>
      resolve({ code, describe: signal ? `signal ${signal}` : `code ${code}` }),
    );
  });
}

/** Keeps the last 8 KB of a stream (ffmpeg's error messages) without growing unboundedly. */
export function collectTail(stream: Readable | null): () => string {
  const limit = 8192;
  let tail = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (text: string) => {
    tail = (tail + text).slice(-limit);
  });
  return () => tail;
}

/** Runs a process to its end; an abort kills it (code null, the caller checks its signal). */
export async function runToCompletion(
  command: string,
  args: string[],
  signal?: AbortSignal,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: FFMPEG_ENV,
    signal,
    killSignal: 'SIGKILL',
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const stderr = collectTail(child.stderr);
  const exit = await waitForExit(child);
  return { code: exit.code, stdout: Buffer.concat(chunks).toString('utf8'), stderr: stderr() };
}

async function assertReadable(path: string): Promise<void> {
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new MediaError('not_found', `${path} is not a file`);
  } catch (error) {
    if (error instanceof MediaError) throw error;
    throw new MediaError('not_found', `${path} does not exist`);
  }
}

type JsonRecord = Record<string, unknown>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MediaError('not_a_video', 'ffprobe returned unreadable output');
  }
}

function asRecord(value: unknown): JsonRecord {
  return typeof value === 'object' && value !== null ? (value as JsonRecord) : {};
}

function toNumber(value: unknown): number {
  const number = typeof value === 'number' ? value : Number.parseFloat(String(value));
  return Number.isFinite(number) ? number : 0;
}

/** "30000/1001" -> 29.97; 0 for "0/0", "N/A" or anything unusable. */
function parseRatio(value: unknown): number {
  if (typeof value !== 'string') return 0;
  const [numerator, denominator = '1'] = value.split(/[/:]/);
  const ratio = Number(numerator) / Number(denominator);
  return Number.isFinite(ratio) && ratio > 0 ? ratio : 0;
}
