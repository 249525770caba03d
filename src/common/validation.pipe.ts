import {
  type ArgumentMetadata,
  Injectable,
  type PipeTransform,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import { isMongoId } from 'class-validator';
import { ApiError } from './api-error.js';

class ValidationFailure extends Error {
  constructor(readonly errors: ValidationError[]) {
    super('validation failed');
  }
}

/**
 * class-validator for every body and query DTO: unknown fields and parameters are refused,
 * values are converted to their declared types, and the first problem is reported with its
 * full path (`backtrace.input.input_name must be a string`) and a stable code.
 */
@Injectable()
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ValidationFailure(errors),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    refuseReservedNames(value, metadata.type === 'query');
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof ValidationFailure)) throw error;
      const isQuery = metadata.type === 'query';
      const messages = flatten(error.errors, '', isQuery);
      throw ApiError.badRequest(
        isQuery ? 'INVALID_PARAMETER' : 'INVALID_BODY',
        messages.slice(0, 5).join('; ') +
          (messages.length > 5 ? ` (and ${messages.length - 5} more)` : ''),
      );
    }
  }
}

/** Names that would reach object internals rather than a field (prototype pollution). */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** 400 for a reserved name anywhere in a body or query (bodies are depth-limited when parsed). */
function refuseReservedNames(value: unknown, isQuery: boolean, path = ''): void {
  if (value === null || typeof value !== 'object') return;
  for (const key of Object.keys(value)) {
    const keyPath = path ? `${path}.${key}` : key;
    if (RESERVED_NAMES.has(key)) {
      throw ApiError.badRequest(
        isQuery ? 'INVALID_PARAMETER' : 'INVALID_BODY',
        isQuery ? `unknown query parameter '${keyPath}'` : `unknown field '${keyPath}'`,
      );
    }
    refuseReservedNames((value as Record<string, unknown>)[key], isQuery, keyPath);
  }
}

function flatten(errors: ValidationError[], prefix: string, isQuery: boolean): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => {
      if (rule === 'whitelistValidation') {
        return isQuery ? `unknown query parameter '${path}'` : `unknown field '${path}'`;
      }
      const text = message.startsWith(`${error.property} `)
        ? message.slice(error.property.length + 1)
        : message;
      return `${isQuery ? `query parameter '${path}'` : path} ${text}`;
    });
    return [...own, ...flatten(error.children ?? [], path, isQuery)];
  });
}

/** Route `:id` parameters: a malformed id is a client mistake, answered before any lookup. */
@Injectable()
export class ParseObjectIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isMongoId(value)) {
      throw ApiError.badRequest(
        'INVALID_ID',
        `'${value.slice(0, 64)}' is not a valid id: ids are 24 hexadecimal characters.`,
      );
    }
    return value.toLowerCase();
  }
}
