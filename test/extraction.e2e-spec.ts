import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import request from 'supertest';
import { Backtrace } from '../src/backtraces/schemas/backtrace.schema.js';
import { LeasedQueue } from '../src/common/leased-queue.js';
import { ExtractionWorker } from '../src/extraction/extraction.worker.js';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  embedJob,
  downloadTo,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip, runFfmpeg } from './support/media.js';

/** 120 one-second segments: comfortably above the 31 a clean single copy needs at ε = 1e-6. */
const SECONDS = 120;

describe('backtraces find the leaker', () => {
  let t: TestApp;
  let token: string;
  let pipelineId: string;
  let jobId: string;
  const inputDir = () => join(t.storageRoot, 'in');
  const auth = () => ({ Authorization: `Bearer ${token}` });

  const backtrace = async (inputName: string, job = jobId): Promise<string> => {
    const response = await request(t.http)
      .post(`/v1/titles/backtraces/?job_id=${job}`)
      .set(auth())
      .send({ backtrace: { pipeline: { id: pipelineId }, input: { input_name: inputName } } });
    expect(response.status).toBe(201);
    return response.body.backtrace.id as string;
  };
  const result = async (id: string) =>
    (await request(t.http).get(`/v1/titles/backtraces/${id}?show_null=true`).set(auth())).body
      .backtrace;

  beforeAll(async () => {
    t = await startApp({ TRUST_PROXY: '1' });
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    pipelineId = await createPipeline(t, token);
    await makeClip(join(inputDir(), 'film.mp4'), SECONDS, '320x180', 'motion');
    jobId = await embedJob(t, token, pipelineId, 'film.mp4');
    const autographs = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autographs: Array.from({ length: 100 }, (_, i) => ({ tag: `viewer-${i}` })) });
    expect(autographs.body.total).toBe(100);
  }, 600_000);
  afterAll(() => t.close());

  describe('a leaked, re-encoded copy', () => {
    let leakerTag: string;

    beforeAll(async () => {
      const list = await request(t.http).get(`/v1/jobs/${jobId}/autographs?limit=100`).set(auth());
      const leaker = list.body.autographs[37];
      leakerTag = leaker.tag;
      const downloaded = join(t.storageRoot, 'download.mp4');
      const response = await downloadTo(t.http, leaker.playback.download_url, downloaded, {
        'X-Forwarded-For': '5.9.119.0',
        'User-Agent': 'Mozilla/5.0 (Windows NT 6.3; Win64; x64) Chrome/73.0.3683.103',
      });
      expect(response.status).toBe(200);
      // The attack: re-encoded at CRF 32 and scaled to 360 lines.
      await mkdir(join(inputDir(), 'uploads'), { recursive: true });
      await runFfmpeg([
        '-i',
        downloaded,
        '-vf',
        'scale=-2:360',
        '-c:v',
        'libx264',
        '-crf',
        '32',
        join(inputDir(), 'uploads', 'leak.mp4'),
      ]);
    }, 120_000);

    it('names the autograph with the access stats recorded when it was downloaded', async () => {
      const id = await backtrace('uploads/leak.mp4');
      expect((await result(id)).status).toBe('QUEUED');
      expect(await t.app.get(ExtractionWorker).processNext()).toBe(true);
      const done = await result(id);
      expect(done).toMatchObject({
        status: 'SUCCESS',
        percentage_completed: 100,
        error_code: null,
        error_msg: null,
      });
      expect(done.finished_at).toEqual(expect.any(Number));
      expect(done.extracted_data).toHaveLength(1);
      const [accused] = done.extracted_data;
      expect(accused).toMatchObject({
        autograph_tag: leakerTag,
        access_stats: [
          {
            ip_address: '5.9.119.0',
            ip_country: 'Germany',
            ip_type: 'DCH',
            user_agent: 'Mozilla/5.0 (Windows NT 6.3; Win64; x64) Chrome/73.0.3683.103',
            accept_language: 'N/A',
            first_accessed_at: expect.any(Number),
            percentage_obtained: '100%',
            highest_resolution: '180p',
            streaming_only: 'no',
          },
        ],
      });
      expect(accused.score).toBeGreaterThan(accused.threshold);
      expect(accused.segments_observed).toBeGreaterThanOrEqual(SECONDS - 2);
      // The suspect copy is registered, hashed and referenced.
      const file = (await request(t.http).get(`/v1/files/${done.file.id}`).set(auth())).body.file;
      const leak = await readFile(join(inputDir(), 'uploads', 'leak.mp4'));
      expect(file).toMatchObject({
        uri: expect.stringMatching(/\/uploads\/leak\.mp4$/),
        sha256: createHash('sha256').update(leak).digest('hex'),
        media: { height: 360 },
      });
    }, 120_000);

    it('finishes exactly once when a worker dies mid-extraction (lease expiry)', async () => {
      const id = await backtrace('uploads/leak.mp4');
      const backtraces = t.app.get<Model<Backtrace>>(getModelToken(Backtrace.name));
      const crashed = new LeasedQueue(backtraces, {
        owner: 'crashed-worker',
        leaseMs: 200,
        maxAttempts: 3,
      });
      const claimed = await crashed.claim();
      expect(claimed?._id.toString()).toBe(id);
      expect(await t.app.get(ExtractionWorker).processNext()).toBe(false); // still leased
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await t.app.get(ExtractionWorker).processNext()).toBe(true); // lease expired: re-claimed
      expect(await crashed.succeed(claimed!, { extracted_data: [] })).toBe(false); // the zombie cannot write
      const done = await result(id);
      expect(done.status).toBe('SUCCESS');
      expect(done.extracted_data.map((d: { autograph_tag: string }) => d.autograph_tag)).toEqual([
        leakerTag,
      ]);
      expect(await t.app.get(ExtractionWorker).processNext()).toBe(false);
    }, 120_000);
  });

  it('accuses nobody in an unmarked encode of the original', async () => {
    await runFfmpeg([
      '-i',
      join(inputDir(), 'film.mp4'),
      '-c:v',
      'libx264',
      '-crf',
      '23',
      join(inputDir(), 'unmarked.mp4'),
    ]);
    const id = await backtrace('unmarked.mp4');
    await t.app.get(ExtractionWorker).processNext();
    expect(await result(id)).toMatchObject({ status: 'SUCCESS', extracted_data: [] });
  }, 120_000);

  it('fails a truncated copy as too short, saying how many segments it has and needs', async () => {
    const clip = join(inputDir(), 'short.mp4');
    await runFfmpeg([
      '-i',
      join(inputDir(), 'uploads', 'leak.mp4'),
      '-t',
      '20',
      '-c',
      'copy',
      clip,
    ]);
    const id = await backtrace('short.mp4');
    await t.app.get(ExtractionWorker).processNext();
    const done = await result(id);
    expect(done).toMatchObject({
      status: 'FAILED',
      error_code: 'COPY_TOO_SHORT',
      extracted_data: [],
    });
    expect(done.error_msg).toMatch(/covers \d+ segments of the original; at least \d+ are needed/);
  }, 60_000);

  it.each([
    ['a missing input', 'gone.mp4', 'INPUT_NOT_FOUND'],
    ['a text file', 'notes.mp4', 'INPUT_NOT_VIDEO'],
  ])('fails %s with a clear error', async (_, name, code) => {
    await writeFile(join(inputDir(), 'notes.mp4'), 'not a video');
    const id = await backtrace(name);
    await t.app.get(ExtractionWorker).processNext();
    expect(await result(id)).toMatchObject({ status: 'FAILED', error_code: code, file: null });
  });

  it('fails when the job is not ready, or has no autographs', async () => {
    await makeClip(join(inputDir(), 'other.mp4'), 2, '160x90');
    const other = await request(t.http)
      .post('/v1/jobs')
      .set(auth())
      .send({ job: { pipeline: { id: pipelineId }, input: { input_name: 'other.mp4' } } });
    const notReady = await backtrace('uploads/leak.mp4', other.body.job.id);
    await t.app.get(ExtractionWorker).processNext();
    expect(await result(notReady)).toMatchObject({ status: 'FAILED', error_code: 'JOB_NOT_READY' });

    await t.app.get(JobsWorker).processNext();
    const empty = await backtrace('uploads/leak.mp4', other.body.job.id);
    await t.app.get(ExtractionWorker).processNext();
    expect(await result(empty)).toMatchObject({ status: 'FAILED', error_code: 'NO_AUTOGRAPHS' });
  });
});
