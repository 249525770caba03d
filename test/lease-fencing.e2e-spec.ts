import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip } from './support/media.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ffmpeg processes working for `jobId` (their command lines name its output folder). */
function ffmpegOf(jobId: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('ffmpeg') && line.includes(jobId))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** A worker that lost its lease touches nothing (issue 15, item 4). */
describe('lease fencing', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startApp({ WORKER_LEASE_SECONDS: '5' });
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  it("a stalled run that fails after another run finished leaves the finished job's outputs alone", async () => {
    const pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'movie.mp4'), 6, '160x90');
    const created = await request(t.http)
      .post('/v1/jobs')
      .auth(token, { type: 'bearer' })
      .send({ job: { pipeline: { id: pipelineId }, input: { input_name: 'movie.mp4' } } });
    const jobId = created.body.job.id as string;
    const worker = t.app.get(JobsWorker);

    // Run 1 starts, then stalls: its ffmpeg processes are paused until its lease expires.
    const stalledRun = worker.processNext();
    let paused: number[] = [];
    for (let i = 0; i < 200 && paused.length === 0; i++) {
      await sleep(25);
      paused = ffmpegOf(jobId);
    }
    expect(paused.length).toBeGreaterThan(0);
    for (const pid of paused) process.kill(pid, 'SIGSTOP');

    // Run 2 takes the job over once run 1's lease has expired (a heartbeat written just before
    // the pause can land late on a loaded machine), and finishes it.
    let tookOver = false;
    for (let i = 0; i < 60 && !tookOver; i++) {
      await sleep(500);
      tookOver = await worker.processNext();
    }
    expect(tookOver).toBe(true);
    const job = (await request(t.http).get(`/v1/jobs/${jobId}`).auth(token, { type: 'bearer' }))
      .body.job;
    expect(job.status).toBe('SUCCESS');
    const outputDir = join(t.storageRoot, 'out', 'jobs', jobId);
    const published = readdirSync(outputDir, { recursive: true }).length;
    const records = await t.connection.collection('files').countDocuments({ job: { $ne: null } });
    expect(published).toBeGreaterThan(10);

    // Run 1 wakes up to a failure (its ffmpeg dies) and runs its clean-up.
    for (const pid of paused) process.kill(pid, 'SIGKILL');
    await stalledRun;

    const after = (await request(t.http).get(`/v1/jobs/${jobId}`).auth(token, { type: 'bearer' }))
      .body.job;
    expect(after.status).toBe('SUCCESS');
    expect(readdirSync(outputDir, { recursive: true })).toHaveLength(published);
    expect(await t.connection.collection('files').countDocuments({ job: { $ne: null } })).toBe(
      records,
    );
    // Nothing of run 1 is left beside the published folder either.
    expect(readdirSync(join(t.storageRoot, 'out', 'jobs'))).toEqual([jobId]);
    const autograph = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .auth(token, { type: 'bearer' })
      .send({ autograph: { tag: 'after' } });
    const hls = new URL(autograph.body.autograph.playback.hls_url as string);
    const segment = hls.pathname.replace('master.m3u8', '90p/segment_00000.ts');
    expect((await request(t.http).get(segment)).status).toBe(200);
  }, 120_000);

  it('removes the private folder a killed run left behind when a later run publishes', async () => {
    const pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'short.mp4'), 2, '160x90');
    const created = await request(t.http)
      .post('/v1/jobs')
      .auth(token, { type: 'bearer' })
      .send({ job: { pipeline: { id: pipelineId }, input: { input_name: 'short.mp4' } } });
    const jobId = created.body.job.id as string;
    const jobsDir = join(t.storageRoot, 'out', 'jobs');
    // What a run killed with kill -9 leaves: its private folder, half written.
    mkdirSync(join(jobsDir, `.${jobId}.run-killed`), { recursive: true });
    writeFileSync(join(jobsDir, `.${jobId}.run-killed`, 'segment_00000.ts'), 'half');

    expect(await t.app.get(JobsWorker).processNext()).toBe(true);
    expect(readdirSync(jobsDir).filter((name) => name.includes(jobId))).toEqual([jobId]);
  }, 120_000);
});
