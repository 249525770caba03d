import { FFMPEG_PATH, INPUT_GUARD, MediaError, type MediaInfo, runToCompletion } from './media.js';
import { type FrameEncoderOptions, videoEncoderArgs } from './media-encoder.js';
import { frameFilters } from './media-frames.js';

/**
 * The mark's share of the encoder's error, in dB of PSNR-Y. A mark of mean square m added to an
 * encode whose error against the source has mean square e costs 10·log10(1 + m / e) dB, so the
 * mark's energy follows the rendition's own error and its cost is about the same on every ladder
 * and content. The 0.5 dB target is met with 0.3 here: the pilot reads the error of short
 * excerpts, whose rate control undershoots (0.3–1.5 dB pessimistic on bench:embed), and rounding
 * the marked frame to whole levels delivers about 1.2–1.3× the mark's energy at these strengths.
 */
export const MARK_COST_DB = 0.3;

/**
 * Strength bounds (the mark's RMS in luma levels). At the 0.4 floor a 360p test card's mark still
 * survives a CRF 32 re-encode but no longer one at 320x180 CRF 40 (bench:robustness); where the
 * encoder is almost lossless (flat animation) the mark stays at the floor and costs more than the
 * budget. The ceiling bounds what a very coarse rung (90p, heavy grain) gets.
 */
export const STRENGTH_RANGE = { min: 0.4, max: 1.2 } as const;

/** Seconds of one pilot excerpt; one excerpt per five of their lengths, at most 8 (16 s). */
const EXCERPT_SECONDS = 2;
const EXCERPT_SPACING = 5;
const MAX_EXCERPTS = 8;

/** The mark's strength for a rendition whose encoder reaches `encoderPsnrY` against the source. */
export function budgetedStrength(encoderPsnrY: number): number {
  const encoderMse = 255 ** 2 / 10 ** (encoderPsnrY / 10);
  const markMse = encoderMse * (10 ** (MARK_COST_DB / 10) - 1);
  return Math.min(STRENGTH_RANGE.max, Math.max(STRENGTH_RANGE.min, Math.sqrt(markMse)));
}

/** Where the pilot samples the source: excerpts centred in equal parts of its duration. */
export function pilotExcerpts(
  duration: number,
  segmentDuration: number,
): { start: number; length: number }[] {
  const length = Math.min(duration, Math.max(EXCERPT_SECONDS, segmentDuration));
  const count = Math.min(
    MAX_EXCERPTS,
    Math.max(1, Math.floor(duration / (EXCERPT_SPACING * length))),
  );
  return Array.from({ length: count }, (_, i) => {
    const centre = ((i + 0.5) * duration) / count;
    const start = Math.min(duration - length, Math.max(0, centre - length / 2));
    return { start: Math.round(start * 1000) / 1000, length };
  });
}

export interface PilotOptions extends Pick<
  FrameEncoderOptions,
  'width' | 'height' | 'framesPerSegment' | 'encoding' | 'preset'
> {
  input: string;
  source: MediaInfo;
  frameRate: number;
  segmentDuration: number;
  signal?: AbortSignal;
}

/**
 * The rendition's encoder error, measured: a few excerpts of the source, made into the
 * rendition's frames exactly as the embedder makes them and encoded unmarked with the very
 * settings of its variants; x264 reports the mean PSNR-Y of its output against its input.
 * Deterministic for a given source and settings; 16 s of encode at most (0.2 % of a 2 h film).
 */
export async function pilotPsnrY(options: PilotOptions): Promise<number> {
  const { source, width, height, frameRate } = options;
  const excerpts = pilotExcerpts(source.duration_s, options.segmentDuration);
  const inputs = excerpts.flatMap(({ start, length }) => [
    ...INPUT_GUARD,
    ...['-ss', String(start), '-t', String(length), '-i', options.input],
  ]);
  const joined = excerpts.map((_, i) => `[${i}:v:0]`).join('');
  const filters = frameFilters(source, width, height, frameRate).join(',');
  const result = await runToCompletion(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', ...inputs],
      ...['-filter_complex', `${joined}concat=n=${excerpts.length}:v=1:a=0,${filters}[v]`],
      // One thread: x264's multithreaded rate control varies from run to run.
      ...['-map', '[v]', ...videoEncoderArgs(options, true), '-threads', '1', '-f', 'null', '-'],
    ],
    options.signal,
  );
  options.signal?.throwIfAborted();
  const psnr = /\] PSNR Mean Y:([\d.]+)/.exec(result.stderr)?.[1];
  if (result.code !== 0 || psnr === undefined) {
    throw new MediaError('encode_failed', `the pilot encode of ${height}p failed`, result.stderr);
  }
  return Number(psnr);
}
