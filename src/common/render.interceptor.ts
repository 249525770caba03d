import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  StreamableFile,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { mergeMap, type Observable } from 'rxjs';
import { Environment } from '../config/environment.js';
import { RefExpander } from './ref-expander.service.js';
import { serialize } from './render.js';
import { expandOptionsFor, renderOptionsFor } from './request-options.js';

const RAW_RESPONSE = 'autograph:raw-response';

/** Marks a route that writes its own response (media, playlists): no envelope rendering. */
export const RawResponse = (): MethodDecorator => SetMetadata(RAW_RESPONSE, true);

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

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.reflector.get<boolean>(RAW_RESPONSE, context.getHandler())) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
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
