import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { Types } from 'mongoose';
import { join } from 'node:path';
import request from 'supertest';
import { LeasedQueue } from '../src/common/leased-queue.js';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import { Job } from '../src/jobs/schemas/job.schema.js';
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

describe('LeasedQueue on a real database', () => {
  let t: TestApp;
  let jobs: Model<Job>;
  const queue = (owner: string, leaseMs = 300, maxAttempts = 3) =>
    new LeasedQueue(jobs, { owner, leaseMs, maxAttempts });
  const enqueue = async (count: number) => {
    const created = [];
    for (let i = 0; i < count; i++) {
      created.push(
        await jobs.create({
          user: new Types.ObjectId(),
          pipeline: new Types.ObjectId(),
          input: { input_name: `clip-${i}.mp4` },
        }),
      );
    }
    return created.map((job) => job._id);
  };

  beforeAll(async () => {
    t = await startApp();
    jobs = t.app.get<Model<Job>>(getModelToken(Job.name));
  });
  beforeEach(() => jobs.deleteMany({}));
  afterAll(() => t.close());

  it('claims the oldest queued item once, and only its owner may finish it', async () => {
    const [first, second] = await enqueue(2);
    const w1 = queue('w1');
    const w2 = queue('w2');
    const claimed = await w1.claim();
    expect(claimed).toMatchObject({
      _id: first,
      status: 'PROCESSING',
      lease_owner: 'w1',
      attempts: 1,
    });
    const other = await w2.claim();
    expect(other?._id).toEqual(second);
    expect(await w2.claim()).toBeNull();
    // w2 naming w1's item with its own lease gets nowhere.
    const forged = { _id: first, lease_id: other!.lease_id };
    expect(await w2.heartbeat(forged, { percentage_completed: 50 })).toBe(false);
    expect(await w1.heartbeat(claimed!, { percentage_completed: 50 })).toBe(true);
    expect(await w2.succeed(forged)).toBe(false);
    expect(await w1.succeed(claimed!)).toBe(true);
    const done = await jobs.findById(first).lean();
    expect(done).toMatchObject({ status: 'SUCCESS', percentage_completed: 100, lease_owner: null });
    expect(done?.finished_at).toBeInstanceOf(Date);
  });

  it('lets another worker take over an expired lease; the first one can no longer write', async () => {
    const [id] = await enqueue(1);
    const crashed = queue('crashed', 150);
    const rescuer = queue('rescuer', 150);
    const stale = await crashed.claim();
    expect(await rescuer.claim()).toBeNull();
    await sleep(250);
    const rescued = await rescuer.claim();
    expect(rescued).toMatchObject({ _id: id, lease_owner: 'rescuer', attempts: 2 });
    expect(await crashed.fail(stale!, 'X', 'late')).toBe(false);
    expect(await rescuer.fail(rescued!, 'INPUT_CORRUPT', 'broken')).toBe(true);
    expect(await jobs.findById(id).lean()).toMatchObject({
      status: 'FAILED',
      error_code: 'INPUT_CORRUPT',
      error_msg: 'broken',
    });
  });

  it('hands released work back, and gives up after too many interrupted attempts', async () => {
    const [id] = await enqueue(1);
    const worker = queue('w', 50, 2);
    const claimed = await worker.claim();
    expect(await worker.release(claimed!)).toBe(true);
    expect(await jobs.findById(id).lean()).toMatchObject({
      status: 'QUEUED',
      lease_owner: null,
      attempts: 0,
    });
    await worker.claim();
    await sleep(80);
    await worker.claim();
    await sleep(80);
    expect(await worker.claim()).toBeNull(); // third claim exceeds maxAttempts = 2
    expect(await jobs.findById(id).lean()).toMatchObject({
      status: 'FAILED',
      error_code: 'TOO_MANY_ATTEMPTS',
    });
  });

  it('never hands one item to two of many concurrent claimers', async () => {
    const ids = await enqueue(5);
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => queue(`w${i}`).claim()));
    const won = claims.filter((c) => c !== null).map((c) => c._id.toString());
    expect(won.sort()).toEqual(ids.map((id) => id.toString()).sort());
  });
});

describe('the scheduled jobs worker', () => {
  let t: TestApp;
  let token: string;
  let pipelineId: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const createJob = async (name: string) =>
    (
      await request(t.http)
        .post('/v1/jobs')
        .set(auth())
        .send({ job: { pipeline: { id: pipelineId }, input: { input_name: name } } })
    ).body.job.id as string;
  const jobStatus = async (id: string) =>
    (await request(t.http).get(`/v1/jobs/${id}`).set(auth())).body.job as {
      status: string;
      percentage_completed: number;
    };

  beforeAll(async () => {
    t = await startApp({ WORKERS_ENABLED: 'true', WORKER_POLL_INTERVAL_MS: '100' });
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'short.mp4'), 2, '160x90');
    await makeClip(join(t.storageRoot, 'in', 'long.mp4'), 30, '640x360');
  });
  afterAll(() => t.close());

  it('picks up a queued job on its own and finishes it', async () => {
    const id = await createJob('short.mp4');
    const deadline = Date.now() + 30_000;
    let job = await jobStatus(id);
    while (job.status !== 'SUCCESS' && job.status !== 'FAILED' && Date.now() < deadline) {
      await sleep(100);
      job = await jobStatus(id);
    }
    expect(job).toMatchObject({ status: 'SUCCESS', percentage_completed: 100 });
  });

  it('reports rising progress, and on shutdown hands the unfinished job back and removes its outputs', async () => {
    const id = await createJob('long.mp4');
    const seen: number[] = [];
    const deadline = Date.now() + 60_000;
    while (seen.filter((p) => p > 0).length < 2 && Date.now() < deadline) {
      const job = await jobStatus(id);
      if (job.status === 'PROCESSING' && !seen.includes(job.percentage_completed))
        seen.push(job.percentage_completed);
      await sleep(100);
    }
    expect(seen.filter((p) => p > 0).length).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);

    await t.app.get(JobsWorker).onApplicationShutdown();
    const job = await t.connection.collection('jobs').findOne({ _id: new Types.ObjectId(id) });
    expect(job).toMatchObject({ status: 'QUEUED', lease_owner: null });
    expect(
      await t.connection.collection('files').countDocuments({ job: new Types.ObjectId(id) }),
    ).toBe(0);
  });
});
