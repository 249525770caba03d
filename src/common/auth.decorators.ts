import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorDto } from './dto/ref.dto.js';

export const IS_PUBLIC = 'autograph:public';

/** Opts a route out of the global bearer guard (token endpoints, health, playback). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Documents what the global guard enforces: a bearer access token. */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      type: ErrorDto,
      description: 'Missing, invalid, expired or revoked access token.',
    }),
  );
