import { Global, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { BodyParserMiddleware } from './body-parser.middleware.js';
import { ApiExceptionFilter } from './exception.filter.js';
import { RefExpander } from './ref-expander.service.js';
import { RenderInterceptor } from './render.interceptor.js';
import { ApiValidationPipe } from './validation.pipe.js';

/** The API conventions every module shares: bodies, validation, envelopes, errors. */
@Global()
@Module({
  providers: [
    RefExpander,
    { provide: APP_PIPE, useClass: ApiValidationPipe },
    { provide: APP_INTERCEPTOR, useClass: RenderInterceptor },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
  ],
  exports: [RefExpander],
})
export class CommonModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BodyParserMiddleware).forRoutes('*path');
  }
}
