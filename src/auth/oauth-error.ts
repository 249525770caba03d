import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';

/** RFC 6749 §5.2 error codes. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

/** An error of the token endpoint: its RFC code doubles as the stable `error_code`. */
export class OAuthError extends ApiError {
  constructor(
    readonly oauthCode: OAuthErrorCode,
    message: string,
    /** For errors the RFC leaves to HTTP (429): their own status, code and headers. */
    override?: { status: HttpStatus; code: string; headers: Record<string, string> },
  ) {
    super(
      override?.status ??
        (oauthCode === 'invalid_client' ? HttpStatus.UNAUTHORIZED : HttpStatus.BAD_REQUEST),
      override?.code ?? oauthCode.toUpperCase(),
      message,
      override?.headers ??
        (oauthCode === 'invalid_client' ? { 'WWW-Authenticate': 'Basic realm="autograph"' } : {}),
    );
  }
}
