import { WorkFailure } from '../common/work-failure.js';
import { ExtractionError, MediaError, type MediaErrorCode } from '../watermark/index.js';

export { ACCEPTED_CONTAINERS } from '../watermark/index.js';

const MEDIA_FAILURES: Record<MediaErrorCode, [code: string, message: string]> = {
  not_found: ['INPUT_NOT_FOUND', 'The input file is missing from the pipeline input directory.'],
  not_a_video: ['INPUT_NOT_VIDEO', 'The input is not a readable video.'],
  decode_failed: [
    'INPUT_CORRUPT',
    'The input could not be decoded to the end (corrupt or truncated file).',
  ],
  encode_failed: ['ENCODE_FAILED', 'Encoding the watermarked variants failed.'],
  remux_failed: ['ENCODE_FAILED', 'Packaging the watermarked variants failed.'],
};

/** An engine error as the WorkFailure a job or backtrace records; anything else unchanged. */
export function asWorkFailure(error: unknown): unknown {
  if (error instanceof MediaError) {
    const [code, message] = MEDIA_FAILURES[error.code];
    return new WorkFailure(code, message, error.message);
  }
  if (error instanceof ExtractionError) {
    return error.code === 'too_short'
      ? new WorkFailure('COPY_TOO_SHORT', `The copy is too short to decide: ${error.message}.`)
      : new WorkFailure(
          'REFERENCE_CORRUPT',
          `The job's detection reference is unreadable: ${error.message}.`,
        );
  }
  return error;
}

/** Runs engine work, its errors turned into the WorkFailures a job or backtrace records. */
export async function engineWork<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw asWorkFailure(error);
  }
}
