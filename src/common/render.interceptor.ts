import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  applyDecorators,
  SetMetadata,
  StreamableFile,
  type Type,
} from '@nestjs/common';
import { ApiQuery, type ApiQueryOptions } from '@nestjs/swagger';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { mergeMap, type Observable } from 'rxjs';
import { Environment } from '../config/environment.js';
import type { OutputQuery } from './dto/query.dto.js';
import { RefExpander } from './ref-expander.service.js';
import { serialize } from './render.js';
import { expandOptionsFor, renderOptionsFor } from './request-options.js';
import { ApiValidationPipe } from './validation.pipe.js';

const RAW_RESPONSE = 'autograph:raw-response';

/** Marks a route that writes its own response (media, playlists): no envelope rendering. */
export const RawResponse = (): MethodDecorator => SetMetadata(RAW_RESPONSE, true);

const SHARED_QUERY = 'autograph:shared-query';

/**
 * For a route without a query of its own: documents and validates the parameters every route
 * accepts (`OutputQuery` on writes, `GetQuery` on reads), so a bad `format` or an unknown
 * parameter is a 400 as on list routes. `request-options.ts` reads them for rendering.
 */
export const SharedQuery = (query: Type<OutputQuery>): MethodDecorator =>
  applyDecorators(SetMetadata(SHARED_QUERY, query), ...documentedParameters(query));

/**
 * One `ApiQuery` per `@ApiPropertyOptional` of the class, as @nestjs/swagger documents a
 * `@Query()` DTO (read from the metadata keys it stores them under).
 */
function documentedParameters(query: Type<OutputQuery>): MethodDecorator[] {
  const prototype = query.prototype as object;
  const keys = (Reflect.getMetadata('swagger/apiModelPropertiesArray', prototype) ??
    []) as string[];
  return keys.map((key) => {
    const name = key.slice(1); // stored as ':name'
    const property = Reflect.getMetadata(
      'swagger/apiModelProperties',
      prototype,
      name,
    ) as ApiQueryOptions;
    return ApiQuery({ ...property, name });
  });
}

/**
 * Every API answer goes through here: references are expanded as asked, then the body is
 * written as JSON or XML, pretty or not, with or without nulls.
 */
@Injectable()
export class RenderInterceptor implements NestInterceptor {
  constructor(
    private readonly expander: RefExpander,
    private readonly reflector: Reflector,
    private readonly environment: Environment,
  ) {}

  private readonly validation = new ApiValidationPipe();

  /**
   * Raw routes (playback: every segment of every viewer) pass straight through, synchronously:
   * an async interceptor costs them about a fifth of their throughput (bench:playback).
   */
  intercept(
    context: ExecutionContext,
    next: CallHandler,
  ): Observable<unknown> | Promise<Observable<unknown>> {
    if (this.reflector.get<boolean>(RAW_RESPONSE, context.getHandler())) return next.handle();
    return this.render(context, next);
  }

  private async render(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const shared = this.reflector.get<Type<OutputQuery> | undefined>(
      SHARED_QUERY,
      context.getHandler(),
    );
    if (shared) await this.validation.transform(request.query, { type: 'query', metatype: shared });
    const response = http.getResponse<Response>();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        if (body === undefined || body instanceof StreamableFile) return body;
        await this.expander.expand(body, expandOptionsFor(request));
        const { contentType, text } = serialize(
          body,
          renderOptionsFor(request, this.environment.PUBLIC_URL),
        );
        response.setHeader('Content-Type', contentType);
        return text;
      }),
    );
  }
}
