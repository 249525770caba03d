import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FFMPEG_PATH,
  INPUT_GUARD,
  MediaError,
  probe,
  runToCompletion,
  videoDuration,
} from './media.js';
import {
  type EncodedSegment,
  PLAYLIST_NAME,
  SEGMENT_NAME_PATTERN,
  segmentsOf,
} from './media-encoder.js';

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
