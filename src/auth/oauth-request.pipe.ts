import { Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validate } from 'class-validator';
import { OAuthError } from './oauth-error.js';

/**
 * Validates an OAuth request body. Unlike the API's bodies, unknown parameters are ignored
 * (RFC 6749 §3.1); a malformed one is an `invalid_request`.
 */
@Injectable()
export class OAuthRequestPipe<T extends object> implements PipeTransform<unknown, Promise<T>> {
  constructor(private readonly type: ClassConstructor<T>) {}

  async transform(value: unknown): Promise<T> {
    // A parameter sent as null is one not sent (JSON clients write absent values that way).
    const body =
      typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.entries(value).filter(([, parameter]) => parameter !== null))
        : {};
    const request = plainToInstance(this.type, body, { excludeExtraneousValues: false });
    const errors = await validate(request, { whitelist: true });
    if (errors.length > 0) {
      const first = errors[0];
      const message = Object.values(first.constraints ?? {})[0] ?? `${first.property} is invalid`;
      throw new OAuthError('invalid_request', message);
    }
    return request;
  }
}
