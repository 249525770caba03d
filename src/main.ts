import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { Environment } from './config/environment.js';

async function bootstrap(): Promise<void> {
  // abortOnError false: a start-up failure (no database, a secret mismatch) reaches the catch
  // below and is reported in one line instead of a stack trace.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    abortOnError: false,
  });
  configureApp(app);
  app.enableShutdownHooks();
  const { PORT } = app.get(Environment);
  await app.listen(PORT);
  Logger.log(`Autograph API on http://localhost:${PORT} (Swagger UI at /docs)`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? error.message : String(error), 'Bootstrap');
  process.exit(1);
});
