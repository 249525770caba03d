import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip } from './support/media.js';

/** Client mistakes answer 400 with a stable code and change nothing (issue 15, item 6). */
describe('client mistakes are 400s, never 500s', () => {
  let t: TestApp;
  let token: string;
  let jobId: string;
  const collections = ['jobs', 'pipelines', 'applications', 'backtraces', 'users', 'autographs'];
  const counts = async () =>
    Promise.all(collections.map((name) => t.connection.collection(name).countDocuments()));

  beforeAll(async () => {
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelineId = await createPipeline(t, token);
    mkdirSync(join(t.storageRoot, 'in'), { recursive: true });
    await makeClip(join(t.storageRoot, 'in', 'movie.mp4'), 1, '160x90');
    const job = await request(t.http)
      .post('/v1/jobs')
      .auth(token, { type: 'bearer' })
      .send({ job: { pipeline: { id: pipelineId }, input: { input_name: 'movie.mp4' } } });
    jobId = job.body.job.id;
  });
  afterAll(() => t.close());

  it('answers the token endpoint null parameters as absent ones', async () => {
    const response = await request(t.http)
      .post('/v1/oauth/token')
      .send({ grant_type: 'password', scope: null, username: null });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  const nested = (depth: number) => `${'{"job":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const deepArray = (depth: number) => `{"job":${'['.repeat(depth)}${']'.repeat(depth)}}`;

  it.each([
    ['POST', '/v1/jobs', '{"job":[]}'],
    ['POST', '/v1/pipelines', '{"pipeline":[]}'],
    ['POST', '/v1/applications', '{"application":[]}'],
    ['POST', '/v1/users', '{"user":[]}'],
    ['POST', '/v1/titles/backtraces?job_id=JOB', '{"backtrace":[]}'],
    ['POST', '/v1/pipelines', '{"pipeline":{"name":"x","input":[],"output":[]}}'],
    ['POST', '/v1/jobs', '{"job":{"pipeline":[],"input":[]}}'],
    ['POST', '/v1/jobs/JOB/autographs', '{"autograph":null}'],
    ['POST', '/v1/jobs/JOB/autographs', '{"autograph":[]}'],
    ['POST', '/v1/jobs/JOB/autographs', '{"autographs":[[]]}'],
    ['POST', '/v1/jobs', nested(2000)],
    ['POST', '/v1/jobs', nested(7000)],
    ['POST', '/v1/jobs', deepArray(7000)],
    ['GET', '/v1/jobs?start=2147483648', ''],
    ['GET', '/v1/jobs?start=99999999999999999999', ''],
    ['GET', '/v1/jobs?constructor=1', ''],
    ['GET', '/v1/jobs?__proto__=1', ''],
    ['GET', '/v1/jobs/JOB?constructor=1', ''],
  ])('%s %s %#', async (method, path, body) => {
    const before = await counts();
    const url = path.replace('JOB', jobId);
    const call = method === 'GET' ? request(t.http).get(url) : request(t.http).post(url);
    const response = await call
      .auth(token, { type: 'bearer' })
      .set('Content-Type', 'application/json')
      .send(body);
    expect([response.status, response.body.error?.error_code]).toEqual([
      400,
      expect.stringMatching(/^(INVALID_BODY|INVALID_PARAMETER|MALFORMED_BODY)$/),
    ]);
    expect(response.body.error.error_msg).not.toMatch(/undefined|incident/);
    expect(await counts()).toEqual(before);
  });
});
