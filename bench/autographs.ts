/**
 * `npm run bench:autographs`: creating autographs in batch calls of 10,000 (the API's largest)
 * over real HTTP against the embedded database, up to 100,000 in one job, and reading a page of
 * 1000 with access stats at 10,000 and at 100,000 (in the order they were made: read from the job's
 * roster by `_id`), and the same page in tag order (a query on the job) for comparison.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types } from 'mongoose';
import { AccessRecorder } from '../src/autographs/access-recorder.service.js';
import { BENCH_ADMIN, startBenchApi, useBenchEnvironment } from './bench-app.js';
import { apiCall, benchPipeline, ffmpeg, peakRssMiB, report, timed } from './support.js';

const BATCH = 10_000;
const TOTAL = 100_000;

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-autographs-'));
  useBenchEnvironment(root);
  const { app, base } = await startBenchApi();
  try {
    const call = <T = Record<string, { id: string }>>(
      method: string,
      path: string,
      body?: unknown,
      token?: string,
    ) => apiCall<T>(base, method, path, body, token);
    const { access_token: token } = await call<{ access_token: string }>(
      'POST',
      '/v1/oauth/token',
      {
        grant_type: 'password',
        username: BENCH_ADMIN.username,
        password: BENCH_ADMIN.password,
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
    const pipeline = await call('POST', '/v1/pipelines', await benchPipeline(root), token);
    const job = await call(
      'POST',
      '/v1/jobs',
      { job: { pipeline: { id: pipeline.pipeline.id }, input: { input_name: 'in.mp4' } } },
      token,
    );
    const jobId = job.job.id;

    const rows: string[] = [];
    /** A page of 1000 whose autographs each have access summaries (3 viewers), with stats. */
    const page = async (start: number): Promise<void> => {
      const listed = await call<{ autographs: { id: string }[] }>(
        'GET',
        `/v1/jobs/${jobId}/autographs?limit=1000&start=${start}`,
        undefined,
        token,
      );
      const recorder = app.get(AccessRecorder);
      for (const [i, { id }] of listed.autographs.entries()) {
        for (let viewer = 0; viewer < 3; viewer += 1) {
          recorder.record({
            autograph: new Types.ObjectId(id),
            viewer: { ip: `10.0.${viewer}.${i % 250}`, userAgent: 'bench', acceptLanguage: 'en' },
            segments: [0],
            segmentCount: 1,
            height: 90,
            download: false,
          });
        }
      }
      await recorder.flush();
      const [withStats, seconds] = await timed(() =>
        call<{ autographs: { access_stats: unknown[] }[] }>(
          'GET',
          `/v1/jobs/${jobId}/autographs?limit=1000&start=${start}`,
          undefined,
          token,
        ),
      );
      const stats = withStats.autographs.reduce((n, a) => n + a.access_stats.length, 0);
      rows.push(
        `| GET a page of 1000 with access stats (${stats} entries) at ${(start + 1000).toLocaleString('en')} | ${(seconds * 1000).toFixed(0)} ms | |`,
      );
    };
    for (let batch = 0; batch < TOTAL / BATCH; batch += 1) {
      const tags = Array.from({ length: BATCH }, (_, i) => ({
        tag: `viewer-${batch * BATCH + i}`,
      }));
      const [created, seconds] = await timed(() =>
        call<{ total: number }>(
          'POST',
          `/v1/jobs/${jobId}/autographs`,
          { autographs: tags },
          token,
        ),
      );
      if (batch === 0 || batch === TOTAL / BATCH - 1) {
        rows.push(
          `| POST ${BATCH.toLocaleString('en')} tags in one call, job holding ${(batch * BATCH).toLocaleString('en')} → ${((batch + 1) * BATCH).toLocaleString('en')} | ${seconds.toFixed(2)} s (${created.total} created) | seconds, not minutes ${seconds < 10 ? '✔' : '✘'} |`,
        );
      }
      if (batch === 0) await page(5000);
    }
    await page(TOTAL / 2);
    // The same page in another order than the roster's: a query on the job, a scan on FerretDB.
    const [, scanSeconds] = await timed(() =>
      call(
        'GET',
        `/v1/jobs/${jobId}/autographs?limit=1000&start=${TOTAL / 2}&sort=tag`,
        undefined,
        token,
      ),
    );
    rows.push(
      `| the same page sorted by tag (a query on the job, not the roster) at ${(TOTAL / 2 + 1000).toLocaleString('en')} | ${(scanSeconds * 1000).toFixed(0)} ms | |`,
    );
    report('autographs', [
      `# bench:autographs — batches of ${BATCH.toLocaleString('en')} autographs over HTTP up to ${TOTAL.toLocaleString('en')} (embedded FerretDB)`,
      '',
      `Run ${new Date().toISOString()}, Node ${process.version}.`,
      '',
      '| measure | value | target |',
      '| --- | --- | --- |',
      ...rows,
      `| peak RSS | ${peakRssMiB().toFixed(0)} MiB | |`,
    ]);
  } finally {
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
