import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseMediaPlaylist, type PlaylistSegment } from './hls.js';
import { defaultEncoderSettings, type EncoderSettings, rateControlArgs } from './ladder.js';
import {
  collectTail,
  type ExitStatus,
  FFMPEG_ENV,
  FFMPEG_PATH,
  MediaError,
  waitForExit,
} from './media.js';

/** The segments an HLS playlist written by ffmpeg lists, with their absolute paths. */
export async function segmentsOf(playlistPath: string): Promise<EncodedSegment[]> {
  const playlist = await readFile(playlistPath, 'utf8');
  return parseMediaPlaylist(playlist).map((segment) => ({
    ...segment,
    path: join(dirname(playlistPath), segment.uri),
  }));
}

export interface FrameEncoderOptions {
  /** Receives the playlist and the segments. Created when missing. */
  outputDir: string;
  width: number;
  height: number;
  frameRate: number;
  /** Frames per segment: every segment starts with an IDR frame and holds one closed GOP. */
  framesPerSegment: number;
  /** Rate control; defaults to the ladder's settings for the height. */
  encoding?: EncoderSettings;
  preset?: string;
  /**
   * An AAC track from encodeAudioTracks, muxed into the segments by stream copy (no audio
   * encode per variant). Without it the segments have no audio.
   */
  audioPath?: string;
}

/**
 * x264's own streaming defaults (preset medium, adaptive quantisation and psychovisual
 * optimisations on): what a streaming service ships. Every setting that reaches x264 must be
 * the same for A and B of a rendition, or their segments would not be swappable.
 */
export const DEFAULT_PRESET = 'medium';
export const PLAYLIST_NAME = 'playlist.m3u8';
export const SEGMENT_NAME_PATTERN = 'segment_%05d.ts';

/**
 * The x264 arguments of a rendition: everything A and B (and a pilot encode measuring the
 * rendition's error, mark-budget.ts) must share. `psnr` makes x264 report its PSNR, which does
 * not change the encode.
 */
export function videoEncoderArgs(
  options: Pick<FrameEncoderOptions, 'height' | 'framesPerSegment' | 'encoding' | 'preset'>,
  psnr = false,
): string[] {
  const { height, framesPerSegment } = options;
  return [
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', options.preset ?? DEFAULT_PRESET],
    ...rateControlArgs(options.encoding ?? defaultEncoderSettings(height)),
    ...['-g', String(framesPerSegment), '-keyint_min', String(framesPerSegment)],
    ...['-sc_threshold', '0', '-flags', psnr ? '+cgop+psnr' : '+cgop', '-forced-idr', '1'],
    ...['-force_key_frames', `expr:eq(mod(n,${framesPerSegment}),0)`],
  ];
}

export interface EncodedSegment extends PlaylistSegment {
  /** Absolute path of the segment file. */
  path: string;
}

/**
 * Encodes raw yuv420p frames (written in display order) to an HLS VOD playlist of MPEG-TS
 * segments with libx264. Keyframes are forced on the first frame of every segment, scene-cut
 * keyframes are off and the GOP is exactly one segment and closed, so two encodes of the same
 * timeline (A and B) can be mixed segment by segment without re-encoding.
 */
export class FrameEncoder {
  readonly playlistPath: string;
  private readonly frameSize: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<ExitStatus>;
  private readonly stderr: () => string;

  private constructor(private readonly options: FrameEncoderOptions) {
    const { width, height, frameRate, framesPerSegment } = options;
    this.frameSize = (width * height * 3) / 2;
    this.playlistPath = join(options.outputDir, PLAYLIST_NAME);
    // The HLS muxer cuts at the first keyframe at or after n * hls_time. Half a frame under the
    // real segment duration makes it cut at every forced keyframe, immune to rounding.
    const hlsTime = (framesPerSegment - 0.5) / frameRate;
    this.child = spawn(
      FFMPEG_PATH,
      [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p'],
        ...['-video_size', `${width}x${height}`, '-framerate', String(frameRate), '-i', 'pipe:0'],
        // The audio is copied, so its packets are the same in every encode fed the same file.
        // The HLS muxer cuts it where it cuts the video (by timestamp, at the forced keyframe),
        // so segment i of A and of B hold the same audio packets.
        ...(options.audioPath
          ? ['-i', options.audioPath, '-map', '0:v:0', '-map', '1:a:0', '-c:a', 'copy']
          : ['-an']),
        ...videoEncoderArgs(options),
        ...['-f', 'hls', '-hls_time', hlsTime.toFixed(6), '-hls_playlist_type', 'vod'],
        ...['-hls_list_size', '0', '-hls_segment_type', 'mpegts', '-start_number', '0'],
        ...['-hls_segment_filename', join(options.outputDir, SEGMENT_NAME_PATTERN)],
        this.playlistPath,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'], env: FFMPEG_ENV },
    );
    this.exited = waitForExit(this.child);
    this.stderr = collectTail(this.child.stderr);
    // A dead encoder makes writes fail with EPIPE; the write callbacks report it.
    this.child.stdin?.on('error', () => undefined);
  }

  static async start(options: FrameEncoderOptions): Promise<FrameEncoder> {
    await mkdir(options.outputDir, { recursive: true });
    return new FrameEncoder(options);
  }

  /**
   * Queues one frame; resolves once ffmpeg has taken it, so the caller may then reuse the
   * buffer. Awaiting every write is the back-pressure: at most one frame waits in memory.
   */
  write(frame: Uint8Array): Promise<void> {
    if (frame.length !== this.frameSize) {
      return Promise.reject(
        new RangeError(`frame has ${frame.length} bytes, expected ${this.frameSize}`),
      );
    }
    const stdin = this.child.stdin;
    if (!stdin || stdin.writableEnded) return Promise.reject(new Error('encoder is closed'));
    return new Promise((resolve, reject) => {
      stdin.write(frame, (error) => {
        if (!error) return resolve();
        this.exited.then(
          () => reject(new MediaError('encode_failed', 'ffmpeg stopped reading', this.stderr())),
          reject,
        );
      });
    });
  }

  /** Closes the input, waits for ffmpeg and returns the segments of the playlist it wrote. */
  async finish(): Promise<EncodedSegment[]> {
    this.child.stdin?.end();
    const exit = await this.exited;
    if (exit.code !== 0) {
      throw new MediaError('encode_failed', `ffmpeg exited with ${exit.describe}`, this.stderr());
    }
    return segmentsOf(this.playlistPath);
  }

  /** Stops ffmpeg at once (on a failure elsewhere); the output is left incomplete. */
  async abort(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
