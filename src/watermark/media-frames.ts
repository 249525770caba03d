import { spawn } from 'node:child_process';
import {
  collectTail,
  FFMPEG_ENV,
  FFMPEG_PATH,
  INPUT_GUARD,
  MediaError,
  type MediaInfo,
  probeMedia,
  scaledSize,
  waitForExit,
} from './media.js';

export interface ReadFramesOptions {
  /** Output size; a missing dimension follows the display aspect ratio. */
  width?: number;
  height?: number;
  /** Luma only (`gray`) instead of yuv420p. */
  grayOnly?: boolean;
  /** Constant output frame rate; defaults to the probed rate. */
  fps?: number;
  /** The file's probe, when the caller has it already (saves an ffprobe run). */
  info?: MediaInfo;
}

export interface RawFrame {
  /** gray: width x height bytes; yuv420p: Y plane, then U and V at half size. */
  data: Uint8Array;
  width: number;
  height: number;
  /** 0-based frame number at the constant output rate. */
  index: number;
  /** index / fps: presentation time relative to the first frame. */
  time_s: number;
}

/** The ffmpeg filters that turn a source's video into the frames a rendition is made of. */
export function frameFilters(
  info: MediaInfo,
  width: number,
  height: number,
  fps: number,
): string[] {
  const shrinking = width <= info.width && height <= info.height;
  return [
    `fps=fps=${fps}`,
    `scale=${width}:${height}:flags=${shrinking ? 'area' : 'bicubic'}`,
    'setsar=1',
    'format=yuv420p',
  ];
}

/**
 * Decodes the first video stream to raw frames at a constant frame rate. Streams through an
 * ffmpeg pipe with back-pressure: ffmpeg only decodes as fast as the consumer pulls, so memory
 * stays flat whatever the video length. Breaking out of the loop kills ffmpeg. Each yielded
 * frame owns its buffer.
 */
export async function* readFrames(
  path: string,
  options: ReadFramesOptions = {},
): AsyncGenerator<RawFrame> {
  const info = options.info ?? (await probeMedia(path));
  const { width, height } = scaledSize(info, options);
  const fps = options.fps ?? info.frame_rate;
  const pixelFormat = options.grayOnly ? 'gray' : 'yuv420p';
  if (!options.grayOnly && (width % 2 !== 0 || height % 2 !== 0)) {
    throw new RangeError(`yuv420p frames need even dimensions, got ${width}x${height}`);
  }
  const frameSize = options.grayOnly ? width * height : (width * height * 3) / 2;
  const filters = [
    ...frameFilters(info, width, height, fps),
    // The Y plane as is: converting to `gray` would stretch limited-range luma to full range,
    // and the detector must see the same luma values the embedder marked.
    ...(options.grayOnly ? ['extractplanes=y'] : []),
  ];

  const child = spawn(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', ...INPUT_GUARD, '-i', path],
      ...['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', filters.join(',')],
      // Every frame the fps filter makes, once: frame 0 is the first video frame even when
      // another stream (audio) starts earlier, where constant-rate sync would put copies of it
      // in front. An A/B download with audio thus decodes to the frames that were marked.
      ...['-vsync', 'passthrough'],
      ...['-f', 'rawvideo', '-pix_fmt', pixelFormat, 'pipe:1'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: FFMPEG_ENV },
  );
  const exited = waitForExit(child);
  const stderr = collectTail(child.stderr);
  try {
    let frame = Buffer.allocUnsafe(frameSize);
    let filled = 0;
    let index = 0;
    for await (const chunk of child.stdout) {
      const bytes = chunk as Buffer;
      let offset = 0;
      while (offset < bytes.length) {
        const take = Math.min(frameSize - filled, bytes.length - offset);
        bytes.copy(frame, filled, offset, offset + take);
        filled += take;
        offset += take;
        if (filled === frameSize) {
          yield { data: frame, width, height, index, time_s: index / fps };
          index++;
          frame = Buffer.allocUnsafe(frameSize);
          filled = 0;
        }
      }
    }
    const exit = await exited;
    if (exit.code !== 0) {
      throw new MediaError('decode_failed', `ffmpeg could not decode ${path}`, stderr());
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}
