/**
 * `npm run bench:autographs`: creating 10,000 autographs in one batch call, over real HTTP
 * against the embedded database, and reading them back a page (1000) at a time.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/app.setup.js';
import { ffmpeg, peakRssMiB, report, timed } from './support.js';

const BATCH = 10_000;

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-autographs-'));
  Object.assign(process.env, {
    FILE_ROOTS: root,
    ADMIN_EMAIL: 'bench@example.test',
    ADMIN_PASSWORD: 'bench-password',
    WORKERS_ENABLED: 'false',
  });
  delete process.env.MONGODB_URI;
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    logger: ['error'],
  });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  try {
    const call = async <T = Record<string, { id: string }>>(
      method: string,
      path: string,
      body?: unknown,
      token?: string,
    ): Promise<T> => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          'Content-Type': 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok)
        throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<T>;
    };
    const { access_token: token } = await call<{ access_token: string }>(
      'POST',
      '/v1/oauth/token',
      {
        grant_type: 'password',
        username: 'bench@example.test',
        password: 'bench-password',
      },
    );
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x90:rate=25:duration=1',
      '-pix_fmt',
      'yuv420p',
      join(root, 'in.mp4'),
    ]);
    const pipeline = await call(
      'POST',
      '/v1/pipelines',
      {
        pipeline: {
          name: 'bench',
          input: { uri: `file://${root}` },
          output: { uri: `file://${root}/out` },
        },
      },
      token,
    );
    const job = await call(
      'POST',
      '/v1/jobs',
      { job: { pipeline: { id: pipeline.pipeline.id }, input: { input_name: 'in.mp4' } } },
      token,
    );
    const jobId = job.job.id;

    const tags = Array.from({ length: BATCH }, (_, i) => ({ tag: `viewer-${i}` }));
    const [created, createSeconds] = await timed(() =>
      call<{ total: number }>('POST', `/v1/jobs/${jobId}/autographs`, { autographs: tags }, token),
    );
    const [, pageSeconds] = await timed(() =>
      call('GET', `/v1/jobs/${jobId}/autographs?limit=1000&start=5000`, undefined, token),
    );
    report('autographs', [
      `# bench:autographs — one batch of ${BATCH} autographs over HTTP (embedded database)`,
      '',
      `Run ${new Date().toISOString()}, Node ${process.version}.`,
      '',
      '| measure | value | target |',
      '| --- | --- | --- |',
      `| POST /v1/jobs/ID/autographs with ${BATCH} tags | ${createSeconds.toFixed(2)} s (${created.total} created) | seconds, not minutes ${createSeconds < 10 ? '✔' : '✘'} |`,
      `| GET one page of 1000 (with access stats) | ${(pageSeconds * 1000).toFixed(0)} ms | |`,
      `| peak RSS | ${peakRssMiB().toFixed(0)} MiB | |`,
    ]);
  } finally {
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
