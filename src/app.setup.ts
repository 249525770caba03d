import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Environment } from './config/environment.js';

/** Express settings shared by the server and the e2e suite. */
export function configureApp(app: NestExpressApplication): void {
  const environment = app.get(Environment);
  app.set('trust proxy', environment.TRUST_PROXY);
  app.set('query parser', 'simple'); // no nested objects from `a[b]=` tricks
  app.disable('x-powered-by');
  const server = app.getHttpServer();
  server.keepAliveTimeout = environment.KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = environment.HEADERS_TIMEOUT_MS;
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
  });
}

export function buildOpenApiDocument(app: NestExpressApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Autograph API')
    .setDescription(
      'Forensic A/B watermarking for video. Get a token from POST /v1/oauth/token, then send ' +
        '`Authorization: Bearer <token>`. Every GET takes format, human, show_null, expand and ' +
        'expand_all; lists take start, limit, sort and direction.',
    )
    .setVersion('1')
    .addBearerAuth()
    .addBasicAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}
