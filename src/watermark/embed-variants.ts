import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { embedVariantPair } from './embed-frame.js';
import { budgetedStrength, pilotPsnrY } from './mark-budget.js';
import { MediaError, type MediaInfo, probeMedia, scaledSize } from './media.js';
import { encodeAudioTracks, segmentAudioTrack } from './media-audio.js';
import { type DownloadPackage, packageDownload } from './media-download.js';
import { type EncodedSegment, FrameEncoder, PLAYLIST_NAME } from './media-encoder.js';
import { readFrames } from './media-frames.js';
import { encodeJobSignature, jobSignatureOf } from './job-signature.js';
import { defaultEncoderSettings, type EncoderSettings } from './ladder.js';
import { watermarkPattern } from './pattern.js';
import { type KeyMaterial } from './prng.js';
import { ReferenceBuilder, writeReference } from './reference.js';

export const DEFAULT_SEGMENT_DURATION = 2;
export const REFERENCE_FILE_NAME = 'detection-reference.bin';
/** The job's AAC track while the variants are encoded; removed once they are done. */
export const AUDIO_FILE_NAME = 'audio-track.tmp.m4a';
/** An alternate audio track's AAC file, kept for MP4 downloads. */
const ALTERNATE_AUDIO_FILE_NAME = 'track.m4a';
/** A variant packaged for downloads, beside its segments. */
export const DOWNLOAD_FILE_NAME = 'download.mp4';

export interface RenditionRequest {
  height: number;
  /** Rate control of both variants; defaults to the ladder's settings for the height. */
  encoding?: EncoderSettings;
}

export interface EmbedProgress {
  /** Height of the rendition being encoded. */
  rendition: number;
  framesDone: number;
  /** Estimated from the probed duration; the last value may differ by a frame or two. */
  framesTotal: number;
  /** Of the whole job (all renditions), in [0, 1]. */
  fraction: number;
}

export interface EmbedOptions {
  input: string;
  outputDir: string;
  /** The job's watermark key: seeds the pattern of every segment. */
  key: KeyMaterial;
  /** Seconds; each segment holds ceil(segmentDuration * fps) frames. */
  segmentDuration?: number;
  renditions: RenditionRequest[];
  /** The mark's strength in every rendition; by default each rendition's budget (mark-budget.ts). */
  strength?: number;
  preset?: string;
  onProgress?: (progress: EmbedProgress) => void;
  /** Stops the run (ffmpeg processes killed, outputs left incomplete); rejects with its reason. */
  signal?: AbortSignal;
}

export interface VariantSegment {
  index: number;
  duration_s: number;
  /** Absolute paths of the variant A (symbol +1) and variant B (symbol -1) segment files. */
  a: string;
  b: string;
}

export interface RenditionOutput {
  height: number;
  width: number;
  /** The rate control both variants were encoded with. */
  encoding: EncoderSettings;
  /** The mark's strength (its RMS in luma levels) and the pilot PSNR-Y it was budgeted from. */
  mark: { strength: number; pilotPsnrY: number | null };
  playlistA: string;
  playlistB: string;
  segments: VariantSegment[];
  /** Both variants as fragmented MP4, for personal downloads made of their fragments. */
  download: DownloadPackage;
}

/** An audio track of the source, as the outputs carry it. */
export interface AudioTrackOutput {
  language: string;
  title: string | null;
  /**
   * Tracks after the first: the AAC file (for MP4 downloads) and its audio-only HLS cut under
   * `outputDir/audio/<position>/`, shared by every viewer. Null for the first track, which
   * travels inside the video segments.
   */
  alternate: { trackPath: string; playlist: string; segments: EncodedSegment[] } | null;
}

export interface EmbedResult {
  source: MediaInfo;
  frameRate: number;
  framesPerSegment: number;
  renditions: RenditionOutput[];
  audioTracks: AudioTrackOutput[];
  referencePath: string;
  /** The job's signature (job-signature.ts), from the reference while it is in memory. */
  jobSignature: Buffer;
}

/**
 * Whole frames per segment: at least segmentDuration long, so each segment is exactly one GOP
 * and segment boundaries are frame-exact (29.97 fps with 2 s gives 60 frames, 2.002 s).
 */
export function framesPerSegment(frameRate: number, segmentDuration: number): number {
  return Math.max(1, Math.ceil(frameRate * segmentDuration - 1e-6));
}

/**
 * Produces the A/B variant segments of every rendition under
 * `outputDir/<height>p/a/` and `outputDir/<height>p/b/` (playlist.m3u8 + segment_NNNNN.ts),
 * plus the detection reference `outputDir/detection-reference.bin`.
 *
 * The input is decoded once per rendition, scaled to it. Frame n belongs to segment
 * floor(n / framesPerSegment); its luma gets + strength * mask * pattern(segment) in A and the
 * opposite in B. The reference is computed from the unmarked frames of the lowest rendition
 * (first in the loop): its 64x36 / 16x9 views barely depend on the rendition, and this saves
 * a separate decode.
 *
 * The input's first audio stream (if any) is encoded once to AAC, on the same timeline as the
 * frames, and every variant of every rendition gets a stream copy of it: A and B segments of
 * the same index carry identical audio packets. Further audio streams (other languages) are
 * encoded the same way into alternate audio-only renditions (`outputDir/audio/<position>/`).
 */
export async function embedVariants(options: EmbedOptions): Promise<EmbedResult> {
  if (options.renditions.length === 0) throw new RangeError('at least one rendition is needed');
  const segmentDuration = options.segmentDuration ?? DEFAULT_SEGMENT_DURATION;
  if (!(segmentDuration > 0)) throw new RangeError(`bad segment duration ${segmentDuration}`);
  options.signal?.throwIfAborted();
  const outputDir = resolve(options.outputDir);
  const source = await probeMedia(options.input);
  checkRenditions(options.renditions, source);
  await mkdir(outputDir, { recursive: true });
  const audioFile = join(outputDir, AUDIO_FILE_NAME);
  // The first track goes into every variant; the others become alternate renditions.
  const alternateDirs = source.audio_tracks
    .slice(1)
    .map((_, i) => join(outputDir, 'audio', String(i + 1)));
  const alternateFiles = alternateDirs.map((dir) => join(dir, ALTERNATE_AUDIO_FILE_NAME));
  try {
    await Promise.all(alternateDirs.map((dir) => mkdir(dir, { recursive: true })));
    const written = await encodeAudioTracks(
      options.input,
      [audioFile, ...alternateFiles],
      options.signal,
    );
    const audioTracks: AudioTrackOutput[] = [];
    for (const [position, { language, title }] of source.audio_tracks.entries()) {
      if (position === 0) {
        audioTracks.push({ language, title, alternate: null });
        continue;
      }
      const directory = alternateDirs[position - 1];
      const trackPath = alternateFiles[position - 1];
      const segments = await segmentAudioTrack(
        trackPath,
        directory,
        segmentDuration,
        options.signal,
      );
      const playlist = join(directory, PLAYLIST_NAME);
      audioTracks.push({ language, title, alternate: { trackPath, playlist, segments } });
    }
    const audioPath = written > 0 ? audioFile : undefined;
    const embedded = await embedAll({ options, outputDir, source, segmentDuration, audioPath });
    const renditions: RenditionOutput[] = [];
    for (const rendition of embedded.renditions) {
      options.signal?.throwIfAborted();
      renditions.push({
        ...rendition,
        download: await packageRendition(rendition, alternateFiles),
      });
    }
    return { ...embedded, renditions, audioTracks };
  } finally {
    await rm(audioFile, { force: true });
  }
}

/** Renditions are never upscaled (it would only spend bits) and each height is made once. */
function checkRenditions(renditions: RenditionRequest[], source: MediaInfo): void {
  const heights = renditions.map((rendition) => rendition.height);
  const tooHigh = heights.filter((height) => height > source.height);
  if (tooHigh.length > 0) {
    throw new RangeError(`${tooHigh.join(', ')}p would upscale the ${source.height}p source`);
  }
  if (new Set(heights).size !== heights.length) {
    throw new RangeError(`rendition heights repeat: ${heights.join(', ')}`);
  }
}

interface EmbedJob {
  options: EmbedOptions;
  outputDir: string;
  source: MediaInfo;
  segmentDuration: number;
  audioPath: string | undefined;
}

/**
 * The rendition's variants as fragmented MP4 files beside their segments
 * (`<height>p/a/download.mp4`, `<height>p/b/download.mp4`) with every audio track.
 */
function packageRendition(
  rendition: EncodedRendition,
  extraAudioPaths: string[],
): Promise<DownloadPackage> {
  return packageDownload({
    segmentsA: rendition.segments.map((segment) => segment.a),
    segmentsB: rendition.segments.map((segment) => segment.b),
    extraAudioPaths,
    pathA: join(dirname(rendition.playlistA), DOWNLOAD_FILE_NAME),
    pathB: join(dirname(rendition.playlistB), DOWNLOAD_FILE_NAME),
  });
}

type EncodedRendition = Omit<RenditionOutput, 'download'>;

async function embedAll(
  job: EmbedJob,
): Promise<Omit<EmbedResult, 'audioTracks' | 'renditions'> & { renditions: EncodedRendition[] }> {
  const { options, outputDir, source, segmentDuration, audioPath } = job;
  const frameRate = source.frame_rate;
  const segmentFrames = framesPerSegment(frameRate, segmentDuration);
  const framesTotal = Math.max(1, Math.round(source.duration_s * frameRate));
  const renditions = [...options.renditions].sort((a, b) => a.height - b.height);

  const outputs: EncodedRendition[] = [];
  let referenceBuilder: ReferenceBuilder | null = null;
  for (const [renditionIndex, rendition] of renditions.entries()) {
    const { width, height } = scaledSize(source, { height: rendition.height });
    const builder =
      renditionIndex === 0
        ? new ReferenceBuilder(width, height, frameRate, segmentDuration, segmentFrames)
        : null;
    referenceBuilder ??= builder;
    outputs.push(
      await embedRendition({
        options,
        outputDir,
        source,
        segmentDuration,
        width,
        height,
        encoding: rendition.encoding ?? defaultEncoderSettings(height),
        frameRate,
        segmentFrames,
        audioPath,
        reference: builder,
        onFrame: (framesDone) =>
          options.onProgress?.({
            rendition: height,
            framesDone,
            framesTotal,
            fraction: Math.min(1, (renditionIndex + framesDone / framesTotal) / renditions.length),
          }),
      }),
    );
  }

  // Checked on entry: there is at least one rendition, so a reference.
  const reference = (referenceBuilder as ReferenceBuilder).finish();
  const referencePath = join(outputDir, REFERENCE_FILE_NAME);
  await writeReference(referencePath, reference);
  const jobSignature = encodeJobSignature(jobSignatureOf(reference));
  return {
    source,
    frameRate,
    framesPerSegment: segmentFrames,
    renditions: outputs,
    referencePath,
    jobSignature,
  };
}

interface RenditionJob {
  options: EmbedOptions;
  outputDir: string;
  source: MediaInfo;
  segmentDuration: number;
  width: number;
  height: number;
  encoding: EncoderSettings;
  frameRate: number;
  segmentFrames: number;
  audioPath: string | undefined;
  reference: ReferenceBuilder | null;
  onFrame: (framesDone: number) => void;
}

async function embedRendition(job: RenditionJob): Promise<EncodedRendition> {
  const { options, outputDir, width, height, encoding, frameRate, segmentFrames } = job;
  const renditionDir = join(outputDir, `${height}p`);
  const encoderOptions = {
    width,
    height,
    frameRate,
    framesPerSegment: segmentFrames,
    encoding,
    preset: options.preset,
    audioPath: job.audioPath,
  };
  const mark = await markOf(job);
  const { strength } = mark;
  const encoderA = await FrameEncoder.start({
    ...encoderOptions,
    outputDir: join(renditionDir, 'a'),
  });
  const encoderB = await FrameEncoder.start({
    ...encoderOptions,
    outputDir: join(renditionDir, 'b'),
  });

  const frameSize = (width * height * 3) / 2;
  // Reused for every frame: a write resolves only once ffmpeg has taken the bytes.
  const variantA = new Uint8Array(frameSize);
  const variantB = new Uint8Array(frameSize);
  const mask = new Float32Array(width * height);
  let segmentsA: EncodedSegment[];
  let segmentsB: EncodedSegment[];
  try {
    let framesDone = 0;
    for await (const frame of readFrames(options.input, { width, height, fps: frameRate })) {
      options.signal?.throwIfAborted();
      const segment = Math.floor(frame.index / segmentFrames);
      const pattern = watermarkPattern(options.key, segment, width, height);
      job.reference?.addFrame(frame.data);
      embedVariantPair(frame.data, width, height, pattern, strength, variantA, variantB, mask);
      await Promise.all([encoderA.write(variantA), encoderB.write(variantB)]);
      job.onFrame(++framesDone);
    }
    [segmentsA, segmentsB] = await Promise.all([encoderA.finish(), encoderB.finish()]);
  } catch (error) {
    await Promise.all([encoderA.abort(), encoderB.abort()]);
    throw error;
  }

  if (segmentsA.length !== segmentsB.length || segmentsA.length === 0) {
    throw new MediaError(
      'encode_failed',
      `variants were cut differently: ${segmentsA.length} A vs ${segmentsB.length} B segments`,
    );
  }
  return {
    height,
    width,
    encoding,
    mark,
    playlistA: encoderA.playlistPath,
    playlistB: encoderB.playlistPath,
    segments: segmentsA.map((segmentA, index) => ({
      index,
      duration_s: segmentA.duration_s,
      a: segmentA.path,
      b: segmentsB[index].path,
    })),
  };
}

/** The strength asked for, or the rendition's budget from a pilot encode of the source. */
async function markOf(job: RenditionJob): Promise<RenditionOutput['mark']> {
  const { options } = job;
  if (options.strength !== undefined) return { strength: options.strength, pilotPsnrY: null };
  const pilot = await pilotPsnrY({
    input: options.input,
    source: job.source,
    width: job.width,
    height: job.height,
    frameRate: job.frameRate,
    framesPerSegment: job.segmentFrames,
    encoding: job.encoding,
    preset: options.preset,
    segmentDuration: job.segmentDuration,
    signal: options.signal,
  });
  return { strength: budgetedStrength(pilot), pilotPsnrY: pilot };
}
