import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseMediaPlaylist, type PlaylistSegment } from './hls.js';

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
const INPUT_GUARD = [
  ...['-protocol_whitelist', 'file'],
  ...['-format_whitelist', 'mov,matroska,mpegts,nut,avi,flv'],
];

/** Demuxers that read still images: a video stream there is a picture, not a video. */
const IMAGE_FORMATS = /(^|,)(image2|[a-z0-9]+_pipe)(,|$)/;

export async function probeMedia(path: string): Promise<MediaInfo> {
  return (await probe(path)).info;
}

interface Probe {
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

async function probe(path: string): Promise<Probe> {
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
async function videoDuration(path: string, probed: Probe): Promise<number> {
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

export interface ReadFramesOptions {
  /** Output size; a missing dimension follows the display aspect ratio. */
  width?: number;
  height?: number;
  /** Luma only (`gray`) instead of yuv420p. */
  grayOnly?: boolean;
  /** Constant output frame rate; defaults to the probed rate. */
  fps?: number;
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
  const info = await probeMedia(path);
  const { width, height } = scaledSize(info, options);
  const fps = options.fps ?? info.frame_rate;
  const pixelFormat = options.grayOnly ? 'gray' : 'yuv420p';
  if (!options.grayOnly && (width % 2 !== 0 || height % 2 !== 0)) {
    throw new RangeError(`yuv420p frames need even dimensions, got ${width}x${height}`);
  }
  const frameSize = options.grayOnly ? width * height : (width * height * 3) / 2;
  const shrinking = width <= info.width && height <= info.height;
  const filters = [
    `fps=fps=${fps}`,
    `scale=${width}:${height}:flags=${shrinking ? 'area' : 'bicubic'}`,
    'setsar=1',
    'format=yuv420p',
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

/** AAC settings of the carried audio: 48 kHz stereo is what every HLS / MP4 player takes. */
export const AUDIO_BITRATE = '128k';
export const AUDIO_SAMPLE_RATE = 48000;

/**
 * Encodes the audio streams of `path`, stream i to an AAC track (MP4 audio file) at
 * `outputPaths[i]`, in one pass over the file: a film is read once however many languages it
 * has. Stream tags such as the language are kept. Every track is on the timeline of readFrames:
 * time 0 is the first video frame and it lasts as long as the video. FrameEncoders given such
 * a file (`audioPath`) copy its packets, so every variant of every rendition carries
 * bit-identical audio and A/B segments mix seamlessly. Only the audio is decoded. Streams
 * beyond `outputPaths` are skipped; resolves with how many tracks were written (0 without
 * audio).
 */
export async function encodeAudioTracks(
  path: string,
  outputPaths: string[],
  signal?: AbortSignal,
): Promise<number> {
  const probed = await probe(path);
  const count = Math.min(outputPaths.length, probed.info.audio_tracks.length);
  if (count === 0) return 0;
  const duration = await videoDuration(path, probed);
  signal?.throwIfAborted();
  const run = await runToCompletion(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
      // ffmpeg shifts the input by its start time (the earliest stream); this shifts it further
      // so the first video frame is at 0, as in readFrames.
      ...['-itsoffset', (-probed.videoStart_s).toFixed(6), ...INPUT_GUARD, '-i', path],
      ...outputPaths.slice(0, count).flatMap((outputPath, track) => [
        ...['-map', `0:a:${track}`, '-vn', '-sn', '-dn'],
        // first_pts=0: silence in front of a later audio start, samples before the video's
        // start dropped. async=1 fills gaps mid-stream, so the audio never drifts from its
        // timestamps. apad + -t: exactly as long as the video, whether the audio was shorter
        // or longer.
        ...['-af', `aresample=${AUDIO_SAMPLE_RATE}:async=1:first_pts=0,apad`],
        ...['-t', duration.toFixed(6), '-ac', '2', '-ar', String(AUDIO_SAMPLE_RATE)],
        ...['-c:a', 'aac', '-b:a', AUDIO_BITRATE, '-f', 'mp4', outputPath],
      ]),
    ],
    signal,
  );
  signal?.throwIfAborted();
  if (run.code !== 0) {
    throw new MediaError('encode_failed', `cannot encode the audio of ${path}`, run.stderr);
  }
  return count;
}

/**
 * Cuts an AAC track from encodeAudioTracks into an audio-only HLS playlist of MPEG-TS segments
 * (stream copy) of `segmentDuration` seconds, in `outputDir`: an alternate audio rendition
 * that every viewer shares, since audio carries no mark.
 */
export async function segmentAudioTrack(
  trackPath: string,
  outputDir: string,
  segmentDuration: number,
  signal?: AbortSignal,
): Promise<EncodedSegment[]> {
  await mkdir(outputDir, { recursive: true });
  const playlistPath = join(outputDir, PLAYLIST_NAME);
  const run = await runToCompletion(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', trackPath],
      ...['-map', '0:a:0', '-c', 'copy', '-f', 'hls', '-hls_time', String(segmentDuration)],
      ...['-hls_playlist_type', 'vod', '-hls_list_size', '0', '-hls_segment_type', 'mpegts'],
      ...['-start_number', '0', '-hls_segment_filename', join(outputDir, SEGMENT_NAME_PATTERN)],
      playlistPath,
    ],
    signal,
  );
  signal?.throwIfAborted();
  if (run.code !== 0) {
    throw new MediaError('encode_failed', `cannot segment the audio of ${trackPath}`, run.stderr);
  }
  return segmentsOf(playlistPath);
}

/** The segments an HLS playlist written by ffmpeg lists, with their absolute paths. */
async function segmentsOf(playlistPath: string): Promise<EncodedSegment[]> {
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
  /** Defaults to crfForHeight(height). */
  crf?: number;
  preset?: string;
  /**
   * An AAC track from encodeAudioTracks, muxed into the segments by stream copy (no audio
   * encode per variant). Without it the segments have no audio.
   */
  audioPath?: string;
}

/** x264 settings of every variant: identical settings are what makes A/B segments swappable. */
export const DEFAULT_PRESET = 'medium';
const CRF_AT_720P = 16;
const CRF_STEPS_PER_HALVING = 3.5;

/**
 * The CRF of a rendition: 16 from 720p up, and 3.5 finer per halving of the height below (360p:
 * 12.5). A smaller picture packs more detail per pixel, so at one CRF its encodes drift further
 * apart on the mark's small changes: at CRF 16 a 360p variant was 44.0 dB from the unmarked
 * encode against 45.2 dB at 720p; at 12.5 it is 45.2-45.4 dB, for 35% more bits in that
 * rendition (bench:embed). Rounded to half steps.
 */
export function crfForHeight(height: number): number {
  if (height >= 720) return CRF_AT_720P;
  const crf = CRF_AT_720P - CRF_STEPS_PER_HALVING * Math.log2(720 / height);
  return Math.round(crf * 2) / 2;
}
/**
 * Adaptive quantisation off: AQ picks each macroblock's QP from its variance, which the mark
 * nudges, so A and B (and an unmarked encode) would drift apart by far more than the mark
 * itself (1.5 dB of PSNR against the unmarked encode); constant QP per frame type also keeps
 * more of the mark. CRF 16 compensates for the flat areas AQ would have favoured.
 * Psychovisual optimisations off: psy-rd and psy-trellis re-create grain energy with choices
 * that flip on the mark's tiny changes; without them a grainy 720p clip's A vs unmarked encode
 * went from 45.6 to 46.0 dB (SSIM 0.990 to 0.992) at 12% less bitrate (bench:embed).
 */
const X264_PARAMS = 'aq-mode=0:psy=0';
export const PLAYLIST_NAME = 'playlist.m3u8';
export const SEGMENT_NAME_PATTERN = 'segment_%05d.ts';

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
        ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-x264-params', X264_PARAMS],
        ...[
          '-preset',
          options.preset ?? DEFAULT_PRESET,
          '-crf',
          String(options.crf ?? crfForHeight(height)),
        ],
        ...['-g', String(framesPerSegment), '-keyint_min', String(framesPerSegment)],
        ...['-sc_threshold', '0', '-flags', '+cgop', '-forced-idr', '1'],
        ...['-force_key_frames', `expr:eq(mod(n,${framesPerSegment}),0)`],
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

export interface RemuxStream {
  /** The MP4 bytes; errors (with ffmpeg's stderr) if the remux fails. */
  stream: Readable;
  /** Stops ffmpeg, e.g. when the client went away. */
  cancel(): void;
}

/**
 * Joins MPEG-TS segments (any A/B mix of one rendition) into one MP4 without re-encoding:
 * the segment bytes are fed to ffmpeg's stdin in order (no argument-length limit however long
 * the video) and a fragmented MP4 comes out of its stdout, so nothing needs a seekable file.
 * `extraAudioPaths` (AAC tracks from encodeAudioTracks, e.g. other languages) are added as
 * further audio tracks; each input starts at time 0, as the segments' timeline does.
 */
export function remuxToMp4(segmentPaths: string[], extraAudioPaths: string[] = []): RemuxStream {
  const child = spawn(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'mpegts', '-i', 'pipe:0'],
      ...extraAudioPaths.flatMap((path) => ['-i', path]),
      ...['-map', '0', ...extraAudioPaths.flatMap((_, i) => ['-map', `${i + 1}:a`])],
      ...['-c', 'copy', '-movflags', 'frag_keyframe+empty_moov+default_base_moof'],
      // MPEG-TS carries AAC with ADTS headers; MP4 wants raw AAC (this ffmpeg does not insert
      // the filter itself and fails). A no-op for segments without audio.
      ...['-bsf:a', 'aac_adtstoasc'],
      ...['-f', 'mp4', 'pipe:1'],
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], env: FFMPEG_ENV },
  );
  const stderr = collectTail(child.stderr);
  const output = new PassThrough();
  let cancelled = false;
  const fail = (error: MediaError): void => {
    if (!output.destroyed) output.destroy(cancelled ? undefined : error);
  };
  // The output ends only once ffmpeg has exited cleanly, so a failed remux is never mistaken
  // for a complete (truncated) file.
  child.stdout.pipe(output, { end: false });
  void waitForExit(child).then((exit) => {
    if (exit.code === 0) output.end();
    else fail(new MediaError('remux_failed', `ffmpeg ${exit.describe}`, stderr()));
  });
  child.stdin.on('error', () => undefined);

  // One pipeline for all segments: MPEG-TS segments concatenate byte for byte.
  async function* segments(): AsyncGenerator<Buffer> {
    for (const path of segmentPaths) yield* createReadStream(path) as AsyncIterable<Buffer>;
  }
  pipeline(segments(), child.stdin).catch((error: unknown) => {
    child.kill('SIGKILL');
    const message = error instanceof Error ? error.message : String(error);
    fail(new MediaError('remux_failed', `cannot read segments: ${message}`));
  });

  return {
    stream: output,
    cancel: () => {
      cancelled = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

interface ExitStatus {
  code: number | null;
  describe: string;
}

/** Resolves (never rejects) when the process has exited and its pipes are closed. */
function waitForExit(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, describe: error.message }));
    child.once('close', (code, signal) =>
      resolve({ code, describe: signal ? `signal ${signal}` : `code ${code}` }),
    );
  });
}

/** Keeps the last 8 KB of a stream (ffmpeg's error messages) without growing unboundedly. */
function collectTail(stream: Readable | null): () => string {
  const limit = 8192;
  let tail = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (text: string) => {
    tail = (tail + text).slice(-limit);
  });
  return () => tail;
}

/** Runs a process to its end; an abort kills it (code null, the caller checks its signal). */
async function runToCompletion(
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
