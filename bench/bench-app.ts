import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/app.setup.js';

/** The admin the benches' servers create and log in as. */
export const BENCH_ADMIN = { username: 'bench@example.test', password: 'bench-password' };

/**
 * Configures the API the benches start: a fresh embedded database and storage under `root`,
 * workers off (a bench runs them itself), plus `extra` settings.
 */
export function useBenchEnvironment(root: string, extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    FILE_ROOTS: root,
    DATA_DIR: join(root, 'db'),
    ADMIN_EMAIL: BENCH_ADMIN.username,
    ADMIN_PASSWORD: BENCH_ADMIN.password,
    WORKERS_ENABLED: 'false',
    ...extra,
  });
  delete process.env.MONGODB_URI;
}

/** The API in this process on a free loopback port (errors logged only), and its base URL. */
export async function startBenchApi(): Promise<{ app: NestExpressApplication; base: string }> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    logger: ['error'],
  });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}
