import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError } from '../common/api-error.js';
import { OAuthError } from './oauth-error.js';

/**
 * The token endpoints answer errors as RFC 6749 §5.2 says (`error`, `error_description`),
 * which is what OAuth client libraries read; `error_code`/`error_msg` are kept alongside.
 */
@Catch(ApiError)
export class OAuthExceptionFilter implements ExceptionFilter {
  catch(exception: ApiError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const error =
      exception instanceof OAuthError
        ? exception
        : new OAuthError('invalid_request', exception.message);
    response
      .status(error.status)
      .set({ ...error.headers, 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json({
        error: error.oauthCode,
        error_description: error.message,
        error_code: error.code,
        error_msg: error.message,
      });
  }
}
