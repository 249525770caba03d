import { HttpStatus, Injectable, type NestMiddleware } from '@nestjs/common';
import { text, type NextFunction, type Request, type Response } from 'express';
import JSON5 from 'json5';
import { Environment } from '../config/environment.js';
import { ApiError } from './api-error.js';

/**
 * Parses request bodies for every route. JSON bodies may be relaxed JSON (single quotes,
 * trailing commas): the Backtrace API document's own curl example (test/fixtures/backtraces-api.txt) sends `{'backtrace': {...}}` with curl's
 * default form content type, so a form body that looks like an object is read as JSON too.
 * Real form bodies (the OAuth token endpoint) are parsed as forms.
 */
@Injectable()
export class BodyParserMiddleware implements NestMiddleware {
  private readonly readText: ReturnType<typeof text>;

  constructor(environment: Environment) {
    this.readText = text({ type: () => true, limit: environment.BODY_LIMIT_BYTES });
  }

  use(request: Request, response: Response, next: NextFunction): void {
    if (!hasBody(request)) {
      // Most requests (every GET, every segment) carry none: skip the body reader.
      request.body = {};
      return next();
    }
    this.readText(request, response, (error?: unknown) => {
      if (error) return next(bodyReadError(error, request));
      try {
        const raw: unknown = request.body;
        request.body = parseBody(typeof raw === 'string' ? raw : '', request.get('content-type'));
        next();
      } catch (parseError) {
        next(parseError);
      }
    });
  }
}

/** As body-parser decides it (type-is `hasBody`): a transfer encoding or a Content-Length. */
function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '')
  );
}

export function parseBody(raw: string, contentType = ''): unknown {
  const trimmed = raw.trim();
  if (trimmed === '') return {};
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    throw new ApiError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'UNSUPPORTED_MEDIA_TYPE',
      'multipart bodies are not accepted: send JSON (Content-Type: application/json).',
    );
  }
  if (type === 'application/x-www-form-urlencoded' && !/^[{[]/.test(trimmed)) {
    return parseForm(trimmed);
  }
  return refuseDeepNesting(parseJson(trimmed));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    try {
      return JSON5.parse<unknown>(text);
    } catch (error) {
      throw ApiError.badRequest(
        'MALFORMED_BODY',
        `The request body is not valid JSON: ${(error as Error).message}.`,
      );
    }
  }
}

/** Deeper than any body of the API: validating such nesting would only exhaust the stack. */
export const MAX_BODY_DEPTH = 32;

/** The body, unless objects and arrays nest deeper than MAX_BODY_DEPTH (checked without recursion). */
function refuseDeepNesting(body: unknown): unknown {
  let level: unknown[] = [body];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_BODY_DEPTH) {
      throw ApiError.badRequest(
        'MALFORMED_BODY',
        `The request body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep.`,
      );
    }
    level = level.flatMap((node): unknown[] =>
      node !== null && typeof node === 'object' ? Object.values(node) : [],
    );
  }
  return body;
}

/** A form body as an object; a repeated parameter becomes an array (callers reject it). */
function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const previous = out[key];
    out[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  return out;
}

function bodyReadError(error: unknown, request: Request): ApiError {
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large') {
    const limit = (error as { limit?: number }).limit;
    return new ApiError(
      HttpStatus.PAYLOAD_TOO_LARGE,
      'BODY_TOO_LARGE',
      `The request body exceeds the limit of ${limit} bytes.`,
    );
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new ApiError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'UNSUPPORTED_ENCODING',
      `The body encoding of ${request.get('content-type') ?? 'this request'} is not supported: send UTF-8.`,
    );
  }
  return ApiError.badRequest(
    'MALFORMED_BODY',
    `The request body could not be read: ${String(error)}.`,
  );
}
