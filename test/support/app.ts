import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { JobsWorker } from '../../src/jobs/jobs.worker.js';

export const ADMIN_EMAIL = 'admin@example.test';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface TestApp {
  app: INestApplication<App>;
  http: App;
  /** A storage root of its own (FILE_ROOTS) for this app. */
  storageRoot: string;
  /** Its DATA_DIR: the embedded database's files and the generated secret. */
  dataDir: string;
  connection: Connection;
  close(): Promise<void>;
}

/**
 * The database for one app: with MONGODB_URI set (a real server), a database of its own on
 * it; otherwise none, so the app starts its embedded FerretDB exactly as in production.
 */
function databaseUri(): string | undefined {
  // Remembered before the first app overwrites MONGODB_URI for itself.
  process.env.E2E_MONGODB_URI ??= process.env.MONGODB_URI ?? '';
  const external = process.env.E2E_MONGODB_URI;
  if (!external) return undefined;
  const url = new URL(external);
  url.pathname = `/e2e_${randomBytes(6).toString('hex')}`;
  return url.toString();
}

/** The real application module on a real HTTP server and database: nothing is mocked. */
export async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  const storageRoot = mkdtempSync(join(tmpdir(), 'autograph-e2e-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'autograph-e2e-data-'));
  const mongodbUri = databaseUri();
  if (mongodbUri) process.env.MONGODB_URI = mongodbUri;
  else delete process.env.MONGODB_URI;
  Object.assign(process.env, {
    FILE_ROOTS: storageRoot,
    DATA_DIR: dataDir,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    NODE_ENV: 'test',
    WORKERS_ENABLED: 'false', // files that test the workers turn them on
    ...env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: ['error'],
  });
  configureApp(app);
  await app.init();
  const connection = app.get<Connection>(getConnectionToken());
  return {
    app,
    http: app.getHttpServer(),
    storageRoot,
    dataDir,
    connection,
    close: async () => {
      await connection.dropDatabase().catch(() => undefined);
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function passwordToken(http: App, email: string, password: string): Promise<string> {
  const response = await request(http)
    .post('/v1/oauth/token')
    .type('form')
    .send({ grant_type: 'password', username: email, password });
  if (response.status !== 200) throw new Error(`token: ${response.status} ${response.text}`);
  return (response.body as { access_token: string }).access_token;
}

/** A second, ordinary user with a token, made by the admin through the API. */
export async function createUser(
  http: App,
  adminToken: string,
  email: string,
): Promise<{ id: string; token: string }> {
  const password = 'user-password-123';
  const created = await request(http)
    .post('/v1/users')
    .auth(adminToken, { type: 'bearer' })
    .send({ user: { email, password, name: email } });
  if (created.status !== 201) throw new Error(`create user: ${created.status} ${created.text}`);
  return {
    id: (created.body as { user: { id: string } }).user.id,
    token: await passwordToken(http, email, password),
  };
}

/**
 * A pipeline reading `<dir>/in` and writing `<dir>/out` (both created), by default below the
 * storage root (an admin's roots are all of it); returns its id.
 */
export async function createPipeline(
  t: TestApp,
  token: string,
  dir = t.storageRoot,
): Promise<string> {
  mkdirSync(join(dir, 'in'), { recursive: true });
  mkdirSync(join(dir, 'out'), { recursive: true });
  const response = await request(t.http)
    .post('/v1/pipelines')
    .auth(token, { type: 'bearer' })
    .send({
      pipeline: {
        name: 'studio',
        input: { uri: `file://${dir}/in` },
        output: { uri: `file://${dir}/out` },
      },
    });
  if (response.status !== 201) throw new Error(`pipeline: ${response.status} ${response.text}`);
  return (response.body as { pipeline: { id: string } }).pipeline.id;
}

/** A rendition of a job: its height, or its height and encoder settings (kbit/s). */
export type OutputRequest =
  number | { height: number; video_bitrate?: number; max_bitrate?: number };

/**
 * Queues a job on `inputName` of the pipeline (1 s segments, the given renditions, by height or
 * with settings, or the source's) and runs it to the end with the jobs worker; returns its id.
 */
export async function embedJob(
  t: TestApp,
  token: string,
  pipelineId: string,
  inputName: string,
  outputs?: OutputRequest[],
): Promise<string> {
  const response = await request(t.http)
    .post('/v1/jobs')
    .auth(token, { type: 'bearer' })
    .send({
      job: {
        pipeline: { id: pipelineId },
        input: { input_name: inputName },
        autograph: { segment_duration: 1 },
        ...(outputs
          ? { outputs: outputs.map((o) => (typeof o === 'number' ? { height: o } : o)) }
          : {}),
      },
    });
  if (response.status !== 201) throw new Error(`job: ${response.status} ${response.text}`);
  const jobId = (response.body as { job: { id: string } }).job.id;
  if (!(await t.app.get(JobsWorker).processNext())) throw new Error('no job was queued');
  return jobId;
}

/** GETs an absolute playback URL as a viewer would, streaming the body into `path`. */
export async function downloadTo(
  http: App,
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<request.Response> {
  const { pathname, search } = new URL(url);
  return request(http)
    .get(pathname + search)
    .set(headers)
    .buffer(true)
    .parse((res, done) => {
      const file = createWriteStream(path);
      res.pipe(file);
      file.on('finish', () => done(null, null));
    });
}

/** GETs `path` with the body kept as raw bytes (supertest only buffers text and JSON). */
export function getBytes(http: App, path: string): request.Test {
  return request(http)
    .get(path)
    .buffer(true)
    .parse((response, done) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done(null, Buffer.concat(chunks)));
    });
}
