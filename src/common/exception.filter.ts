import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { Environment } from '../config/environment.js';
import { ApiError, databaseUnavailable, isDatabaseUnreachable } from './api-error.js';
import { serialize } from './render.js';
import { renderOptionsFor } from './request-options.js';

/**
 * The one place errors become responses: `{status, error_code, error_msg}` in the requested
 * format. Anything unexpected is a 500 whose details are logged under an incident id that
 * the client sees, never the details themselves.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly environment: Environment) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const error = this.toApiError(exception, request);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const body = {
      error: { status: error.status, error_code: error.code, error_msg: error.message },
    };
    const { contentType, text } = serialize(body, {
      ...renderOptionsFor(request, this.environment.PUBLIC_URL),
      showNull: false,
    });
    response.status(error.status).set(error.headers).type(contentType).send(text);
  }

  private toApiError(exception: unknown, request: Request): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception, request);
    const incident = randomUUID();
    if (isDatabaseUnreachable(exception)) {
      this.logger.error(
        `incident ${incident}: database unreachable on ${request.method} ${request.path}: ${(exception as Error).message}`,
      );
      return databaseUnavailable();
    }
    this.logger.error(
      `incident ${incident} on ${request.method} ${request.path}`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return new ApiError(
      HttpStatus.INTERNAL_SERVER_ERROR,
      'INTERNAL_ERROR',
      `An internal error occurred; it has been logged as incident ${incident}.`,
    );
  }
}

function fromHttpException(exception: HttpException, request: Request): ApiError {
  const status = exception.getStatus();
  if (status === 404) {
    return new ApiError(
      status,
      'ROUTE_NOT_FOUND',
      `There is no route ${request.method} ${request.path}; see /docs for the API.`,
    );
  }
  const code = (HttpStatus[status] as string | undefined) ?? 'HTTP_ERROR';
  return new ApiError(status, code, exception.message);
}
