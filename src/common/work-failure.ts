import type { Logger } from '@nestjs/common';
import { ApiError } from './api-error.js';

/** Why a job or backtrace failed: the stable error_code and the error_msg it records. */
export class WorkFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** What the client is not shown (ffmpeg's words name server paths): for the log. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/**
 * The error_code and error_msg a failed item records: a WorkFailure or an ApiError (a
 * service refusing, e.g. a pipeline deleted meanwhile) as it is; anything else is a bug,
 * logged in full and recorded as INTERNAL_ERROR without internals.
 */
export function describeFailure(error: unknown, logger: Logger): [code: string, message: string] {
  if (error instanceof WorkFailure && error.detail) logger.warn(`${error.code}: ${error.detail}`);
  if (error instanceof WorkFailure || error instanceof ApiError) return [error.code, error.message];
  logger.error(`failed: ${(error as Error).stack ?? String(error)}`);
  return ['INTERNAL_ERROR', 'The work failed on an internal error; it has been logged.'];
}
