import { ApiError } from '../common/api-error.js';
import { encoderSettingsFor } from '../watermarking/watermark-engine.service.js';
import type { OutputRequest } from './dto/job.dto.js';
import type { StoredOutput } from './schemas/job.schema.js';

/**
 * Checks what a job's `outputs` ask for that a field validator cannot see (one field against
 * another, one output against the others): each height once, an average bitrate or a CRF but
 * not both, and a peak no lower than the average.
 */
export function checkOutputRequests(outputs: OutputRequest[]): void {
  const heights = outputs.map((output) => output.height);
  const repeated = heights.filter((height, i) => heights.indexOf(height) !== i);
  if (repeated.length > 0) {
    throw ApiError.badRequest(
      'OUTPUT_DUPLICATE',
      `job.outputs asks for ${[...new Set(repeated)].map((h) => `${h}p`).join(', ')} more than once: each height is one rendition.`,
    );
  }
  for (const [i, output] of outputs.entries()) {
    if (output.crf !== undefined && output.video_bitrate !== undefined) {
      throw ApiError.badRequest(
        'OUTPUT_SETTINGS_CONFLICT',
        `job.outputs.${i} gives both video_bitrate and crf: give video_bitrate for capped VBR or crf for capped CRF (max_bitrate caps either).`,
      );
    }
    const settings = encoderSettingsFor(output.height, {
      videoBitrate: output.video_bitrate,
      maxBitrate: output.max_bitrate,
      crf: output.crf,
    });
    if (settings.videoBitrate !== null && settings.maxBitrate < settings.videoBitrate) {
      throw ApiError.badRequest(
        'OUTPUT_BITRATE',
        `job.outputs.${i}.max_bitrate (${settings.maxBitrate} kbit/s) is below its average video_bitrate (${settings.videoBitrate} kbit/s).`,
      );
    }
  }
}

/**
 * The renditions of a job, highest first, with every encoder setting resolved (the default
 * ladder's where not given). None may be above the source: upscaling only spends bits.
 * Without `outputs`, one rendition at the source height.
 */
export function resolveOutputs(
  outputs: OutputRequest[] | undefined,
  sourceHeight: number,
): StoredOutput[] {
  const requested = outputs ?? [{ height: sourceHeight }];
  const tooHigh = requested.filter((output) => output.height > sourceHeight);
  if (tooHigh.length > 0) {
    throw ApiError.badRequest(
      'OUTPUT_UPSCALE',
      `job.outputs asks for ${tooHigh.map(({ height }) => `${height}p`).join(', ')} but the source is ${sourceHeight}p: renditions are never upscaled.`,
    );
  }
  return requested
    .map((output) => {
      const settings = encoderSettingsFor(output.height, {
        videoBitrate: output.video_bitrate,
        maxBitrate: output.max_bitrate,
        crf: output.crf,
      });
      return {
        height: output.height,
        video_bitrate: settings.videoBitrate,
        max_bitrate: settings.maxBitrate,
        crf: settings.crf,
      };
    })
    .sort((a, b) => b.height - a.height);
}

/**
 * Bits per second of a rendition as delivered: the largest A or B segment over its duration
 * (HLS BANDWIDTH) and the mean of A and B over the whole timeline (AVERAGE-BANDWIDTH).
 */
export function deliveredBitrates(
  segments: { a: string; b: string; duration_s: number }[],
  sizeOf: (path: string) => number,
): { bandwidth: number; average_bandwidth: number } {
  let peak = 0;
  let bits = 0;
  let duration = 0;
  for (const segment of segments) {
    const [a, b] = [8 * sizeOf(segment.a), 8 * sizeOf(segment.b)];
    peak = Math.max(peak, Math.max(a, b) / segment.duration_s);
    bits += (a + b) / 2;
    duration += segment.duration_s;
  }
  return { bandwidth: Math.ceil(peak), average_bandwidth: Math.ceil(bits / duration) };
}
