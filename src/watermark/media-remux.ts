import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { collectTail, FFMPEG_ENV, FFMPEG_PATH, MediaError, waitForExit } from './media.js';

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
