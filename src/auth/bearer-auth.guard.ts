import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { ApiError } from '../common/api-error.js';
import { IS_PUBLIC } from '../common/auth.decorators.js';

/** Global: every route needs a valid bearer token unless marked `@Public()`. */
@Injectable()
export class BearerAuthGuard extends AuthGuard('bearer') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext): ReturnType<CanActivate['canActivate']> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    refuseTokenOutsideHeader(context.switchToHttp().getRequest<Request>());
    return super.canActivate(context);
  }

  override handleRequest<TUser>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (error) throw error instanceof Error ? error : new Error('bearer authentication failed');
    if (user) return user;
    // passport-http-bearer reports a missing token with a challenge that names no error.
    const missing = typeof info === 'string' && !info.includes('error=');
    const message = missing
      ? 'An access token is required: send "Authorization: Bearer <token>" (get one from POST /v1/oauth/token).'
      : 'The access token is invalid, expired or revoked: get a new one from POST /v1/oauth/token.';
    throw new ApiError(
      HttpStatus.UNAUTHORIZED,
      missing ? 'TOKEN_REQUIRED' : 'INVALID_TOKEN',
      message,
      {
        'WWW-Authenticate': `Bearer realm="autograph", error="invalid_token", error_description="${missing ? 'missing token' : 'invalid, expired or revoked token'}"`,
      },
    );
  }
}

/**
 * The access token travels in the Authorization header only: in a URL it lands in logs and
 * histories, and in a body (RFC 6750 §2.2, which passport would also read) of a GET or DELETE
 * it has no place at all.
 */
function refuseTokenOutsideHeader(request: Request): void {
  const body: unknown = request.body;
  const inBody = typeof body === 'object' && body !== null && 'access_token' in body;
  if (inBody || 'access_token' in request.query) {
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      'TOKEN_NOT_IN_HEADER',
      'Send the access token in the Authorization header ("Authorization: Bearer <token>"), not in the URL or the body.',
      { 'WWW-Authenticate': 'Bearer realm="autograph", error="invalid_request"' },
    );
  }
}
