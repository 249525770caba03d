import { FFMPEG_PATH, INPUT_GUARD, MediaError, type MediaInfo, runToCompletion } from './media.js';
import { type FrameEncoderOptions, videoEncoderArgs } from './media-encoder.js';
import { frameFilters } from './media-frames.js';

/**
 * What the mark may cost, in dB of PSNR-Y against the source, at the rendition's own encoder
 * settings. A mark of mean square m added to an encode whose error against the source has mean
 * square e costs 10·log10(1 + m / e) dB: the mark's energy is held to a share of the encoder's
 * error (here 9.6 %), so the cost is the same on every ladder and content. 0.4 leaves room under
 * the 0.5 dB target for what the pilot cannot foresee (the mask's spread, the rest of the film).
 */
export const MARK_COST_DB = 0.4;

/**
 * Strength bounds (luma levels RMS before the mask). Below 0.4 a 360p mark does not survive a
 * pirate's CRF 32 re-encode (bench:embed-evidence); where the encoder is almost lossless (flat
 * animation) the mark stays at that floor and costs more than the budget. The ceiling keeps a
 * grainy film's mark under one level: grain hides it, but a brighter mark buys nothing more.
 */
export const STRENGTH_RANGE = { min: 0.4, max: 1.2 } as const;

/** Seconds of one pilot excerpt, and how many a long film gets (one per two minutes, at most 8). */
const EXCERPT_SECONDS = 2;
const SECONDS_PER_EXCERPT = 120;
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
  const count = Math.min(MAX_EXCERPTS, Math.max(1, Math.round(duration / SECONDS_PER_EXCERPT)));
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
 * Deterministic for a given source and settings, and well under 1 % of a film's encode.
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
