/**
 * Rate control of one rendition's x264 encode, in kbit/s. Without `crf` it is capped VBR: one
 * pass of x264's average-bitrate mode at `videoBitrate`, peaks held under `maxBitrate` by the
 * VBV. With `crf` it is capped CRF: constant quality, peaks held under `maxBitrate`, and
 * `videoBitrate` is unused.
 */
export interface EncoderSettings {
  videoBitrate: number | null;
  maxBitrate: number;
  crf: number | null;
}

/** A rung of the default ladder: average video bitrate (kbit/s) of a rendition height. */
interface Rung {
  height: number;
  videoBitrate: number;
}

/**
 * Average video bitrates per height, from Apple's HLS authoring specification (H.264, 16:9):
 * the highest tier of each frame size. 360p takes the 768x432 tier's 730 kbit/s (Apple lists
 * 365 at 640x360), within the 0.4-0.9 Mbit/s streaming services use for 360p.
 */
export const DEFAULT_LADDER: readonly Rung[] = [
  { height: 234, videoBitrate: 145 },
  { height: 360, videoBitrate: 730 },
  { height: 432, videoBitrate: 1100 },
  { height: 540, videoBitrate: 2000 },
  { height: 720, videoBitrate: 4500 },
  { height: 1080, videoBitrate: 7800 },
];

/**
 * Peak over average of the default ladder. Apple allows up to 2 for VOD; 1.5 leaves room for
 * the keyframe that opens every segment while keeping HLS BANDWIDTH close to the average.
 */
export const DEFAULT_PEAK_RATIO = 1.5;

/** What the API accepts: beyond these no streaming rendition makes sense. */
export const VIDEO_BITRATE_RANGE = { min: 64, max: 100_000 } as const;
export const CRF_RANGE = { min: 10, max: 40 } as const;

/**
 * The default settings of a rendition: the ladder's bitrate at that height, interpolated
 * log-linearly between rungs and scaled with the pixel count beyond its ends; in whole kbit/s.
 */
export function defaultEncoderSettings(height: number): EncoderSettings {
  const videoBitrate = wholeKbps(ladderBitrate(height));
  return {
    videoBitrate,
    maxBitrate: wholeKbps(videoBitrate * DEFAULT_PEAK_RATIO),
    crf: null,
  };
}

/** Settings asked for, completed with the ladder's: a CRF alone keeps the ladder's cap. */
export function encoderSettingsFor(
  height: number,
  requested: { videoBitrate?: number; maxBitrate?: number; crf?: number } = {},
): EncoderSettings {
  const defaults = defaultEncoderSettings(height);
  const crf = requested.crf ?? null;
  const videoBitrate = crf === null ? (requested.videoBitrate ?? defaults.videoBitrate) : null;
  const maxBitrate =
    requested.maxBitrate ??
    (requested.videoBitrate === undefined
      ? defaults.maxBitrate
      : wholeKbps(requested.videoBitrate * DEFAULT_PEAK_RATIO));
  return { videoBitrate, maxBitrate, crf };
}

function ladderBitrate(height: number): number {
  const first = DEFAULT_LADDER[0];
  const last = DEFAULT_LADDER[DEFAULT_LADDER.length - 1];
  if (height <= first.height) return first.videoBitrate * (height / first.height) ** 2;
  if (height >= last.height) return last.videoBitrate * (height / last.height) ** 2;
  const upper = DEFAULT_LADDER.findIndex((rung) => rung.height >= height);
  const below = DEFAULT_LADDER[upper - 1];
  const above = DEFAULT_LADDER[upper];
  const t = Math.log(height / below.height) / Math.log(above.height / below.height);
  return below.videoBitrate * (above.videoBitrate / below.videoBitrate) ** t;
}

function wholeKbps(kbps: number): number {
  return Math.max(1, Math.round(kbps));
}

/** x264 rate-control arguments for ffmpeg; the VBV buffer holds two seconds at the peak. */
export function rateControlArgs(settings: EncoderSettings): string[] {
  const cap = [
    ...['-maxrate', `${settings.maxBitrate}k`],
    ...['-bufsize', `${2 * settings.maxBitrate}k`],
  ];
  if (settings.crf !== null) return ['-crf', String(settings.crf), ...cap];
  return ['-b:v', `${settings.videoBitrate}k`, ...cap];
}
