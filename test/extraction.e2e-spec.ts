import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getModelToken } from '@nestjs/mongoose';
import { XMLParser } from 'fast-xml-parser';
import { type Model, Types } from 'mongoose';
import { chromium } from 'playwright-core';
import request from 'supertest';
import { Backtrace } from '../src/backtraces/schemas/backtrace.schema.js';
import { LeasedQueue } from '../src/common/leased-queue.js';
import { ExtractionWorker } from '../src/extraction/extraction.worker.js';
import { JobSignaturesService } from '../src/jobs/job-signatures.service.js';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import { WatermarkEngine } from '../src/watermarking/watermark-engine.service.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  createUser,
  embedJob,
  downloadTo,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip, runFfmpeg } from './support/media.js';

/** Debian's Chromium (`.ci/run` installs it), for the evidence document. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
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
      .post(`/v1/titles/backtraces/${job ? `?job_id=${job}` : ''}`)
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
    // A 360p film, the lowest rung of a real ladder (730 kbit/s): the panning fractal rendered
    // at 180p (rendering it at 360p takes minutes) and scaled up.
    const small = join(t.storageRoot, 'film-180p.mp4');
    await makeClip(small, SECONDS, '320x180', 'motion');
    await mkdir(inputDir(), { recursive: true });
    await runFfmpeg([
      ...['-loglevel', 'error', '-i', small, '-vf', 'scale=640:360:flags=bicubic'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '14', join(inputDir(), 'film.mp4')],
    ]);
    jobId = await embedJob(t, token, pipelineId, 'film.mp4');
    const autographs = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      // Tags with markup: the evidence document must show them as text.
      .send({ autographs: Array.from({ length: 100 }, (_, i) => ({ tag: `viewer-${i} <i>&'` })) });
    expect(autographs.body.total).toBe(100);
  }, 1_800_000);
  afterAll(() => t.close());

  describe('a leaked, re-encoded copy', () => {
    let leakerTag: string;
    /** Two backtraces of the same leak, for the evidence tests. */
    const traced: string[] = [];

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
    }, 300_000);

    it('names the autograph with the access stats recorded when it was downloaded', async () => {
      const id = await backtrace('uploads/leak.mp4');
      traced.push(id);
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
            highest_resolution: '360p',
            streaming_only: 'no',
          },
        ],
      });
      expect(accused.score).toBeGreaterThan(accused.threshold);
      expect(accused.segments_observed).toBeGreaterThanOrEqual(SECONDS - 2);
      // What the verdict rests on: 100 autographs share the bound of 1e-6 for the backtrace.
      expect(done.verdict).toMatchObject({
        autographs_scored: 100,
        jobs_traced: 1,
        false_accusation_probability: 1e-6,
        per_autograph_probability: 1e-8,
        threshold: accused.threshold,
        segments_observed: accused.segments_observed,
        segment_count: SECONDS,
      });
      expect(done.verdict.max_innocent_score).toBeLessThan(accused.threshold);
      expect(accused.innocent_probability).toBeLessThanOrEqual(1e-8);
      expect(accused.any_innocent_probability / accused.innocent_probability).toBeCloseTo(100, 1);
      // The suspect copy is registered, hashed and referenced.
      const file = (await request(t.http).get(`/v1/files/${done.file.id}`).set(auth())).body.file;
      const leak = await readFile(join(inputDir(), 'uploads', 'leak.mp4'));
      expect(file).toMatchObject({
        uri: expect.stringMatching(/\/uploads\/leak\.mp4$/),
        sha256: createHash('sha256').update(leak).digest('hex'),
        media: { height: 360 },
      });
    }, 300_000);

    it('finishes exactly once when a worker dies mid-extraction (lease expiry)', async () => {
      const id = await backtrace('uploads/leak.mp4');
      traced.push(id);
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
    }, 300_000);

    describe('the evidence document', () => {
      const evidenceOf = async (id: string) =>
        (
          await request(t.http)
            .get(`/v1/backtraces/${id}/evidence?format=json`)
            .set(auth())
            .expect(200)
        ).body.evidence;

      it('states the facts as JSON, the same for the same copy traced twice', async () => {
        const [first, second] = await Promise.all(traced.map(evidenceOf));
        const leak = await readFile(join(inputDir(), 'uploads', 'leak.mp4'));
        const film = await readFile(join(inputDir(), 'film.mp4'));
        expect(first).toMatchObject({
          suspect_copies: [
            {
              name: 'uploads/leak.mp4',
              size: leak.length,
              sha256: createHash('sha256').update(leak).digest('hex'),
              height: 360,
              alignment: { matched: true, rate: expect.closeTo(1, 2) },
            },
          ],
          original: {
            job_id: jobId,
            name: 'film.mp4',
            sha256: createHash('sha256').update(film).digest('hex'),
            segment_count: SECONDS,
          },
          reference_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          software: { version: '0.1.0', commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
          bound: {
            autographs_scored: 100,
            per_autograph_probability: 1e-8,
            segment_count: SECONDS,
          },
          accused: [{ autograph_tag: leakerTag }],
        });
        expect(first.suspect_copies[0].alignment.offset_seconds).toBeCloseTo(0, 1);
        expect(first.suspect_copies[0].alignment.mirrored).toBe(false);
        expect(first.soft_bits).toHaveLength(SECONDS);
        expect(first.accused[0].codeword_symbols).toHaveLength(SECONDS);
        // The soft bits agree with the leaker's codeword far more often than chance.
        const agreeing = first.soft_bits.filter(
          (bit: number, i: number) => bit * first.accused[0].codeword_symbols[i] > 0,
        ).length;
        expect(agreeing).toBeGreaterThan(SECONDS * 0.75);
        expect(first.score_histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(100);
        const timeless = (evidence: Record<string, unknown>) => ({
          ...evidence,
          backtrace_id: null,
          traced_at: null,
          generated_at: null,
        });
        expect(timeless(second)).toEqual(timeless(first));
      });

      it('states the same facts as XML with format=xml', async () => {
        const json = await evidenceOf(traced[0]);
        const response = await request(t.http)
          .get(`/v1/titles/backtraces/${traced[0]}/evidence?format=xml`)
          .set(auth())
          .expect(200);
        expect(response.headers['content-type']).toBe('application/xml; charset=utf-8');
        const { evidence } = new XMLParser({ parseTagValue: false }).parse(response.text);
        expect(evidence.original.sha256).toBe(json.original.sha256);
        expect(evidence.reference_sha256).toBe(json.reference_sha256);
        expect(evidence.accused.item.autograph_tag).toBe(leakerTag);
        expect(evidence.soft_bits.soft_bit).toHaveLength(SECONDS);
      });

      it('is shown to its owner and admins only, once the backtrace has succeeded', async () => {
        const other = await createUser(t.http, token, 'evidence-outsider@example.test');
        for (const path of [
          `/v1/backtraces/${traced[0]}/evidence`,
          `/v1/titles/backtraces/${traced[0]}/evidence?format=json`,
        ]) {
          const response = await request(t.http).get(path).auth(other.token, { type: 'bearer' });
          expect(response.status).toBe(404);
        }
        // Queued, then failed (the input is missing): no evidence either way.
        const failing = await backtrace('gone.mp4');
        for (let run = 0; run < 2; run++) {
          const early = await request(t.http).get(`/v1/backtraces/${failing}/evidence`).set(auth());
          expect(early.status).toBe(409);
          expect(early.body.error.error_code).toBe('BACKTRACE_NOT_FINISHED');
          await t.app.get(ExtractionWorker).processNext();
        }
      }, 300_000);

      it('renders as a self-contained page in headless Chromium, tags shown as text', async () => {
        if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}`);
        const response = await request(t.http)
          .get(`/v1/titles/backtraces/${traced[0]}/evidence`)
          .set(auth());
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        const facts = await evidenceOf(traced[0]);
        const browser = await chromium.launch({
          executablePath: CHROMIUM_PATH,
          args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
        });
        try {
          const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
          const requests: string[] = [];
          page.on('request', (sent) => requests.push(sent.url()));
          await page.setContent(response.text, { waitUntil: 'load' });
          const text = await page.locator('body').innerText();
          for (const fact of [
            leakerTag,
            facts.suspect_copies[0].sha256,
            facts.original.sha256,
            facts.reference_sha256,
            facts.software.commit,
            `${facts.suspect_copies[0].size.toLocaleString('en-US')} bytes`,
            `${facts.bound.segments_observed} of ${SECONDS}`,
            String(facts.accused[0].score),
            facts.accused[0].any_innocent_probability.toExponential(2),
            'at most 1.00e-6',
            '5.9.119.0',
            'Germany',
          ]) {
            expect(text).toContain(fact);
          }
          // The markup in the tag stayed text; the two charts are there.
          expect(await page.locator('section.accused i').count()).toBe(0);
          expect(await page.locator('svg').count()).toBe(2);
          expect(requests.filter((url) => !url.startsWith('about:'))).toEqual([]);
          if (process.env.EVIDENCE_SCREENSHOT) {
            await page.screenshot({ path: process.env.EVIDENCE_SCREENSHOT, fullPage: true });
          }
        } finally {
          await browser.close();
        }
      }, 120_000);
    });

    it('combines three clips of different scenes, each too short alone', async () => {
      // 20 s each of the leaker's own download, from three places of the film.
      const starts = [0, 50, 95];
      for (const start of starts) {
        await runFfmpeg([
          ...['-loglevel', 'error', '-ss', String(start), '-t', '20'],
          ...['-i', join(t.storageRoot, 'download.mp4'), '-c:v', 'libx264', '-crf', '23'],
          join(inputDir(), 'uploads', `clip-${start}.mp4`),
        ]);
      }
      const alone = await backtrace('uploads/clip-50.mp4');
      await t.app.get(ExtractionWorker).processNext();
      expect(await result(alone)).toMatchObject({ status: 'FAILED', error_code: 'COPY_TOO_SHORT' });

      const response = await request(t.http)
        .post(`/v1/titles/backtraces/?job_id=${jobId}`)
        .set(auth())
        .send({
          backtrace: {
            pipeline: { id: pipelineId },
            inputs: starts.map((start) => ({ input_name: `uploads/clip-${start}.mp4` })),
          },
        });
      expect(response.status).toBe(201);
      expect(response.body.backtrace.input).toEqual({ input_name: 'uploads/clip-0.mp4' });
      expect(response.body.backtrace.inputs).toHaveLength(3);
      const id = response.body.backtrace.id as string;
      await t.app.get(ExtractionWorker).processNext();
      const done = await result(id);
      expect(done.status).toBe('SUCCESS');
      expect(done.extracted_data.map((d: { autograph_tag: string }) => d.autograph_tag)).toEqual([
        leakerTag,
      ]);
      expect(done.verdict.segments_observed).toBeGreaterThanOrEqual(55);
      const evidence = (
        await request(t.http).get(`/v1/backtraces/${id}/evidence?format=json`).set(auth())
      ).body.evidence;
      // Each clip was placed on the original by itself.
      const offsets = evidence.suspect_copies.map(
        (copy: { alignment: { offset_seconds: number } }) => copy.alignment.offset_seconds,
      );
      offsets.forEach((offset: number, i: number) => expect(offset).toBeCloseTo(starts[i], 0));
      const covered = evidence.suspect_copies.map(
        (copy: { segments_observed: number }) => copy.segments_observed,
      );
      for (const segments of covered) expect(segments).toBeLessThanOrEqual(21);
    }, 600_000);

    describe('without job_id, two jobs of the same film', () => {
      let secondJobId: string;
      let secondLeakerTag: string;

      beforeAll(async () => {
        // The same original again, other autographs (one rendition: the lock cannot tell them apart).
        secondJobId = await embedJob(t, token, pipelineId, 'film.mp4', [360]);
        const created = await request(t.http)
          .post(`/v1/jobs/${secondJobId}/autographs`)
          .set(auth())
          .send({ autographs: Array.from({ length: 10 }, (_, i) => ({ tag: `second-${i}` })) });
        const leaker = created.body.autographs[6];
        secondLeakerTag = leaker.tag;
        const downloaded = join(t.storageRoot, 'second-download.mp4');
        await downloadTo(t.http, leaker.playback.download_url, downloaded, {});
        await runFfmpeg([
          ...['-loglevel', 'error', '-i', downloaded, '-c:v', 'libx264', '-crf', '28'],
          join(inputDir(), 'uploads', 'second-leak.mp4'),
        ]);
      }, 900_000);

      /** A job's stored signature, and the one its detection reference gives. */
      const signatures = async (id: string) => {
        const _id = new Types.ObjectId(id);
        const job = await t.connection.collection('jobs').findOne({ _id });
        const fromReference = await t.app
          .get(WatermarkEngine)
          .jobSignature(join(job?.result.output_dir, job?.result.reference));
        return { stored: await t.app.get(JobSignaturesService).stored(_id), fromReference };
      };

      it("keeps each job's signature from when it succeeded; an older job's is computed when needed", async () => {
        for (const id of [jobId, secondJobId]) {
          const { stored, fromReference } = await signatures(id);
          expect(Buffer.from(stored ?? [])).toEqual(fromReference);
          expect(fromReference.length).toBeGreaterThan(32 + SECONDS * 12);
        }
        // As a job embedded before signatures were kept: the next backtraces compute it.
        const _id = new Types.ObjectId(jobId);
        await t.connection.collection('job_signatures').deleteOne({ _id });
        expect(await t.app.get(JobSignaturesService).stored(_id)).toBeNull();
      });

      it.each([
        ['the first', () => ['uploads/leak.mp4', jobId, leakerTag, 100]],
        ['the second', () => ['uploads/second-leak.mp4', secondJobId, secondLeakerTag, 10]],
      ])(
        'names the leaker of %s job and reports that job, the bound shared by both',
        async (_, of) => {
          const [input, expectedJob, tag, autographs] = of() as [string, string, string, number];
          const id = await backtrace(input, '');
          await t.app.get(ExtractionWorker).processNext();
          const done = await result(id);
          expect(done).toMatchObject({ status: 'SUCCESS', job: { id: expectedJob } });
          expect(
            done.extracted_data.map((d: { autograph_tag: string }) => d.autograph_tag),
          ).toEqual([tag]);
          expect(done.verdict).toMatchObject({
            jobs_traced: 2,
            autographs_scored: autographs,
            false_accusation_probability: 1e-6,
            per_autograph_probability: expect.closeTo(1e-6 / (2 * autographs), 15),
          });
        },
        600_000,
      );

      it("stored the older job's signature at the first backtrace that needed it", async () => {
        const { stored, fromReference } = await signatures(jobId);
        expect(Buffer.from(stored ?? [])).toEqual(fromReference);
      });

      it('fails a copy of no original', async () => {
        await makeClip(join(inputDir(), 'stranger.mp4'), 30, '320x180', 'pattern');
        const stranger = await backtrace('stranger.mp4', '');
        await t.app.get(ExtractionWorker).processNext();
        expect(await result(stranger)).toMatchObject({
          status: 'FAILED',
          error_code: 'ORIGINAL_NOT_FOUND',
          job: null,
        });
      }, 600_000);
    });
  });

  it('accuses nobody in an unmarked encode of the original', async () => {
    await runFfmpeg([
      '-i',
      join(inputDir(), 'film.mp4'),
      // The preset is not the point: a fast one keeps the test in time on a loaded machine.
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23'],
      join(inputDir(), 'unmarked.mp4'),
    ]);
    const id = await backtrace('unmarked.mp4');
    await t.app.get(ExtractionWorker).processNext();
    const done = await result(id);
    expect(done).toMatchObject({ status: 'SUCCESS', extracted_data: [] });
    expect(done.verdict).toMatchObject({ autographs_scored: 100, segment_count: SECONDS });
  }, 600_000);

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
