import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  createUser,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip } from './support/media.js';
import { JobsWorker } from '../src/jobs/jobs.worker.js';

/** Storage per owner, checked on real paths at every use (issue 15, items 1 and 2). */
describe('storage roots per owner', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  /** Outside every root: what an escape would read or write. */
  let outside: string;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const rootOf = (user: { id: string }) => join(t.storageRoot, user.id);
  const pipelineWith = (token: string, input: string, output: string) =>
    request(t.http)
      .post('/v1/pipelines')
      .set(auth(token))
      .send({
        pipeline: {
          name: 'p',
          input: { uri: `file://${input}` },
          output: { uri: `file://${output}` },
        },
      });
  const createJob = (token: string, pipelineId: string, name: string) =>
    request(t.http)
      .post('/v1/jobs')
      .set(auth(token))
      .send({ job: { pipeline: { id: pipelineId }, input: { input_name: name } } });
  const jobOf = async (token: string, id: string) =>
    (await request(t.http).get(`/v1/jobs/${id}`).set(auth(token))).body.job as {
      status: string;
      error_code?: string;
    };

  beforeAll(async () => {
    t = await startApp();
    admin = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    alice = await createUser(t.http, admin, 'alice@example.test');
    bob = await createUser(t.http, admin, 'bob@example.test');
    outside = mkdtempSync(join(tmpdir(), 'autograph-outside-'));
  });
  afterAll(() => t.close());

  it('shows each user their own root, created on demand', async () => {
    const me = await request(t.http).get('/v1/users/me').set(auth(alice.token));
    expect(me.status).toBe(200);
    expect(me.body.user.storage_roots).toEqual([`file://${rootOf(alice)}/`]);
    expect(existsSync(rootOf(alice))).toBe(true);
  });

  it("refuses a pipeline on another user's folder or on the shared root", async () => {
    const aliceIn = join(rootOf(alice), 'in');
    mkdirSync(aliceIn, { recursive: true });
    mkdirSync(join(rootOf(bob), 'out'), { recursive: true });
    for (const input of [aliceIn, rootOf(alice), t.storageRoot]) {
      const response = await pipelineWith(bob.token, input, join(rootOf(bob), 'out'));
      expect([input, response.status, response.body.error?.error_code]).toEqual([
        input,
        400,
        'URI_OUTSIDE_ROOTS',
      ]);
    }
    const ownOutputOnAlice = await pipelineWith(bob.token, join(rootOf(bob), 'out'), aliceIn);
    expect(ownOutputOnAlice.body.error?.error_code).toBe('URI_OUTSIDE_ROOTS');
    expect(await pipelineWith(alice.token, aliceIn, aliceIn).then((r) => r.status)).toBe(201);
  });

  it('refuses folders that do not exist or are files', async () => {
    mkdirSync(rootOf(bob), { recursive: true });
    writeFileSync(join(rootOf(bob), 'movie.mp4'), 'x');
    const missing = await pipelineWith(bob.token, join(rootOf(bob), 'later'), rootOf(bob));
    expect(missing.status).toBe(400);
    expect(missing.body.error.error_code).toBe('DIRECTORY_NOT_FOUND');
    const file = await pipelineWith(bob.token, join(rootOf(bob), 'movie.mp4'), rootOf(bob));
    expect(file.status).toBe(400);
    expect(file.body.error.error_code).toBe('NOT_A_DIRECTORY');
  });

  it('lets an admin assign roots inside FILE_ROOTS, and only an admin', async () => {
    const shared = join(t.storageRoot, 'studio-a');
    mkdirSync(shared, { recursive: true });
    const refused = await request(t.http)
      .patch(`/v1/users/${bob.id}`)
      .set(auth(bob.token))
      .send({ user: { storage_roots: [`file://${shared}`] } });
    expect(refused.status).toBe(403);
    const outsideRoot = await request(t.http)
      .patch(`/v1/users/${bob.id}`)
      .set(auth(admin))
      .send({ user: { storage_roots: [`file://${outside}`] } });
    expect(outsideRoot.status).toBe(400);
    expect(outsideRoot.body.error.error_code).toBe('URI_OUTSIDE_ROOTS');
    const assigned = await request(t.http)
      .patch(`/v1/users/${bob.id}`)
      .set(auth(admin))
      .send({ user: { storage_roots: [`file://${shared}`] } });
    expect(assigned.status).toBe(200);
    expect(assigned.body.user.storage_roots).toEqual([`file://${shared}/`]);
    expect((await pipelineWith(bob.token, shared, shared)).status).toBe(201);
    // Bob's former default root is his no more.
    expect((await pipelineWith(bob.token, rootOf(bob), shared)).body.error?.error_code).toBe(
      'URI_OUTSIDE_ROOTS',
    );
    await request(t.http)
      .patch(`/v1/users/${bob.id}`)
      .set(auth(admin))
      .send({ user: { storage_roots: [] } });
  });

  it('checks the input folder again when the job runs: a symlink made later leads nowhere', async () => {
    const dir = join(rootOf(alice), 'late');
    const pipelineId = await createPipeline(t, alice.token, dir);
    await makeClip(join(dir, 'in', 'movie.mp4'), 1, '160x90');
    const job = await createJob(alice.token, pipelineId, 'movie.mp4');
    expect(job.status).toBe(201);
    // After creation, the input folder becomes a link to a folder outside the roots.
    await makeClip(join(outside, 'secret', 'movie.mp4'), 1, '160x90');
    renameSync(join(dir, 'in'), join(dir, 'in-before'));
    symlinkSync(join(outside, 'secret'), join(dir, 'in'));
    expect(await t.app.get(JobsWorker).processNext()).toBe(true);
    expect(await jobOf(alice.token, job.body.job.id)).toMatchObject({
      status: 'FAILED',
      error_code: 'URI_OUTSIDE_ROOTS',
    });
    expect(readdirSync(join(outside, 'secret'))).toEqual(['movie.mp4']);
  });

  it('checks the output folder when the job writes: nothing is written outside the roots', async () => {
    const dir = join(rootOf(alice), 'late-out');
    const pipelineId = await createPipeline(t, alice.token, dir);
    await makeClip(join(dir, 'in', 'movie.mp4'), 1, '160x90');
    const job = await createJob(alice.token, pipelineId, 'movie.mp4');
    mkdirSync(join(outside, 'target'));
    renameSync(join(dir, 'out'), join(dir, 'out-before'));
    symlinkSync(join(outside, 'target'), join(dir, 'out'));
    expect(await t.app.get(JobsWorker).processNext()).toBe(true);
    expect(await jobOf(alice.token, job.body.job.id)).toMatchObject({
      status: 'FAILED',
      error_code: 'URI_OUTSIDE_ROOTS',
    });
    expect(readdirSync(join(outside, 'target'))).toEqual([]);
  });

  it('serves no segment once the job folder has become a link out of the roots (within 1 s)', async () => {
    const dir = join(rootOf(alice), 'served');
    const pipelineId = await createPipeline(t, alice.token, dir);
    await makeClip(join(dir, 'in', 'movie.mp4'), 1, '160x90');
    const job = await createJob(alice.token, pipelineId, 'movie.mp4');
    const jobId = job.body.job.id as string;
    expect(await t.app.get(JobsWorker).processNext()).toBe(true);
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth(alice.token))
      .send({ autograph: { tag: 'viewer' } });
    const hls = new URL(made.body.autograph.playback.hls_url as string);
    const segment = hls.pathname.replace('master.m3u8', '90p/segment_00000.ts');
    expect((await request(t.http).get(segment)).status).toBe(200);
    const jobDir = join(dir, 'out', 'jobs', jobId);
    // The very same files, now reached through a link that leads out of the roots.
    renameSync(jobDir, join(outside, 'moved'));
    symlinkSync(join(outside, 'moved'), jobDir);
    // Real paths are re-checked at most a second apart (StorageService's read-check cache).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const escaped = await request(t.http).get(segment);
    expect(escaped.status).toBe(404);
    expect(escaped.body.error.error_code).toBe('MEDIA_UNAVAILABLE');
  });
});
