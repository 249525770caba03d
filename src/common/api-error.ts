import { HttpStatus } from '@nestjs/common';

/**
 * The one error type services throw. `code` is stable (clients switch on it), `message`
 * says what to fix. Rendered by the global exception filter in the requested format.
 */
export class ApiError extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static badRequest(code: string, message: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, code, message);
  }

  static notFound(resource: string, id: string): ApiError {
    return new ApiError(
      HttpStatus.NOT_FOUND,
      `${resource.toUpperCase()}_NOT_FOUND`,
      `No ${resource} with id ${id} exists for this account.`,
    );
  }

  static conflict(code: string, message: string): ApiError {
    return new ApiError(HttpStatus.CONFLICT, code, message);
  }

  static forbidden(message: string): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, 'FORBIDDEN', message);
  }
}

/** 503 while the database cannot be reached: the client should retry, nothing is wrong with its request. */
export function databaseUnavailable(): ApiError {
  return new ApiError(
    HttpStatus.SERVICE_UNAVAILABLE,
    'DATABASE_UNAVAILABLE',
    'The service is temporarily unavailable (its database does not answer); try again shortly.',
    { 'Retry-After': '10' },
  );
}

/** Errors of the MongoDB driver and mongoose that mean the database is unreachable. */
const UNREACHABLE = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
]);

export function isDatabaseUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // mongoose reports a query that waited in vain for a connection with a plain MongooseError.
  return UNREACHABLE.has(error.name) || /buffering timed out/.test(error.message);
}
