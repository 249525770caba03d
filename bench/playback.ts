/**
 * `npm run bench:playback`: segment GETs of personal copies over real HTTP against the embedded
 * database, after 0, 10^5 and 10^6 recorded requests, with 10^4 and 10^5 autographs in the job,
 * next to the limit: express `sendFile` of the same files without any database work. Also the
 * access stats of an autograph with 10,000 recorded requests next to one with none.
 */
import { getModelToken } from '@nestjs/mongoose';
import express from 'express';
import type { Model } from 'mongoose';
import { Types } from 'mongoose';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessRecorder } from '../src/autographs/access-recorder.service.js';
import { AccessSummary } from '../src/autographs/schemas/access-summary.schema.js';
import { sha256 } from '../src/common/secrets.js';
import { Autograph } from '../src/autographs/schemas/autograph.schema.js';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import { Job } from '../src/jobs/schemas/job.schema.js';
import { WatermarkKeysService } from '../src/watermarking/watermark-keys.service.js';
import { BENCH_ADMIN, startBenchApi, useBenchEnvironment } from './bench-app.js';
import { apiCall, peakRssMiB, queueBenchJob, report } from './support.js';

const REQUESTS = 2000;
const CONCURRENCY = 20;
const STATS_REQUESTS = 40;
const SECONDS = 20;
const VIEWERS = 20_000;

interface Load {
  perSecond: number;
  p50: number;
  p99: number;
}

/** `total` GETs of `urlOf()` by CONCURRENCY clients, every body read to the end: latencies in ms. */
async function load(total: number, urlOf: () => string, headers = {}): Promise<number[]> {
  const latencies: number[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < total) {
        started += 1;
        const url = urlOf();
        const t0 = performance.now();
        const response = await fetch(url, { headers });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${url}: ${response.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return latencies;
}

/**
 * `total` GETs of each of several URL kinds, in interleaved slices (the machine is shared, so
 * its load drifts; interleaving exposes every kind to the same drift).
 */
async function compare(total: number, kinds: (() => string)[], headers = {}): Promise<Load[]> {
  const slices = 20;
  const latencies = kinds.map(() => [] as number[]);
  const seconds = kinds.map(() => 0);
  for (let slice = 0; slice < slices; slice += 1) {
    for (const [k, urlOf] of kinds.entries()) {
      const started = performance.now();
      latencies[k].push(...(await load(total / slices, urlOf, headers)));
      seconds[k] += (performance.now() - started) / 1000;
    }
  }
  return latencies.map((values, k) => {
    values.sort((a, b) => a - b);
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
    return { perSecond: values.length / seconds[k], p50: at(0.5), p99: at(0.99) };
  });
}

function baseOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-playback-'));
  useBenchEnvironment(root);
  let { app, base } = await startBenchApi();
  const rows: string[] = [];
  try {
    const call = <T>(method: string, path: string, body?: unknown, token?: string) =>
      apiCall<T>(base, method, path, body, token);
    const login = () =>
      call<{ access_token: string }>('POST', '/v1/oauth/token', {
        grant_type: 'password',
        username: BENCH_ADMIN.username,
        password: BENCH_ADMIN.password,
      }).then((r) => r.access_token);
    let token = await login();
    const queuedJobId = await queueBenchJob(base, token, root, SECONDS);
    if (!(await app.get(JobsWorker).processNext())) throw new Error('the job did not run');
    const jobId = new Types.ObjectId(queuedJobId);
    const stored = await app.get<Model<Job>>(getModelToken(Job.name)).findById(jobId).lean().exec();
    const { output_dir, renditions } = stored!.result!;
    const segments = renditions[0].segments;
    const files = segments.flatMap((s) => [join(output_dir, s.a), join(output_dir, s.b)]);

    // The limit: the same files through express sendFile, no database.
    const limitApp = express();
    limitApp.get('/:i', (req, res) => {
      res.set({ 'Cache-Control': 'private, no-store' });
      res.sendFile(files[Number(req.params.i) % files.length], {
        headers: { 'Content-Type': 'video/mp2t' },
      });
    });
    const limitServer = limitApp.listen(0, '127.0.0.1');
    await new Promise((resolve) => limitServer.once('listening', resolve));
    const limitBase = baseOf(limitServer);

    const tokens: string[] = [];
    const ids: Types.ObjectId[] = [];
    const addAutographs = async (count: number): Promise<void> => {
      const model = app.get<Model<Autograph>>(getModelToken(Autograph.name));
      const keys = app.get(WatermarkKeysService);
      const user = (stored as unknown as { user: Types.ObjectId }).user;
      for (let start = tokens.length; start < count; start += 10_000) {
        const now = new Date();
        const batch = Array.from({ length: Math.min(10_000, count - start) }, (_, k) => {
          const _id = new Types.ObjectId();
          return {
            _id,
            job: jobId,
            user,
            application: null,
            tag: `viewer-${start + k}`,
            playback_token_hash: sha256(keys.playbackToken(_id.toString())),
            revoked_at: null,
            created_at: now,
            updated_at: now,
          };
        });
        await model.insertMany(batch, { lean: true });
        for (const a of batch) {
          tokens.push(keys.playbackToken(a._id.toString()));
          ids.push(a._id);
        }
      }
    };
    let recorded = 0;
    /** Records requests through the server's own AccessRecorder, as playback does. */
    const recordUpTo = async (total: number): Promise<void> => {
      const recorder = app.get(AccessRecorder);
      for (; recorded < total; recorded += 1) {
        const viewer = recorded % VIEWERS;
        recorder.record({
          autograph: ids[viewer % (ids.length / 2)], // the second half stays without access
          viewer: {
            ip: `10.${viewer >> 16}.${(viewer >> 8) & 255}.${viewer & 255}`,
            userAgent: 'bench',
            acceptLanguage: 'en',
          },
          segments: [recorded % segments.length],
          segmentCount: segments.length,
          height: 180,
          download: false,
        });
        if (recorded % 100_000 === 99_999) await recorder.flush();
      }
      await recorder.flush();
    };
    const random = (n: number) => Math.floor(Math.random() * n);
    /** Written after every row, so a run cut short still leaves what it measured. */
    const writeReport = (stats: string[]): void =>
      report('playback', [
        `# bench:playback — ${REQUESTS} segment GETs at concurrency ${CONCURRENCY} (embedded FerretDB)`,
        '',
        `Run ${new Date().toISOString()}, Node ${process.version}. A ${SECONDS} s job (1 s segments, 180p).`,
        `"Viewers": ${CONCURRENCY} clients, each playing the copy of one random autograph segment after segment (how`,
        'players fetch). "Scattered": every GET a random autograph and segment (no reuse at all). "Recorded"',
        `requests went through the server's AccessRecorder (${VIEWERS.toLocaleString('en')} viewers of half the autographs)`,
        'and were written before the run. The limit is express `sendFile` of the same segment files without',
        'any database work, measured by the same client in slices interleaved with the playback GETs (the',
        'machine is shared with other work). Goal: ≥ 0.7× the limit, flat in events and autographs.',
        '',
        '| autographs | recorded requests | viewers GETs/s | p99 ms | × limit | scattered GETs/s | p99 ms | × limit | limit GETs/s | limit p99 ms |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...rows,
        ...stats,
        '',
        `Peak RSS ${peakRssMiB().toFixed(0)} MiB.`,
      ]);
    let statsLines: string[] = [];
    /** Two patterns next to the limit: 20 viewers each playing one copy, and a random GET each time. */
    const cell = async (): Promise<void> => {
      const viewers = Array.from({ length: CONCURRENCY }, () => tokens[random(tokens.length)]);
      let n = 0;
      const [streaming, scattered, limit] = await compare(REQUESTS, [
        () => {
          const i = n++;
          const segment = Math.floor(i / CONCURRENCY) % segments.length;
          return `${base}/v1/play/${viewers[i % CONCURRENCY]}/180p/segment_${segment}.ts`;
        },
        () =>
          `${base}/v1/play/${tokens[random(tokens.length)]}/180p/segment_${random(segments.length)}.ts`,
        () => `${limitBase}/${random(files.length)}`,
      ]);
      const row = (load: Load) =>
        `${load.perSecond.toFixed(0)} | ${load.p99.toFixed(1)} | ${(load.perSecond / limit.perSecond).toFixed(2)} ${load.perSecond / limit.perSecond >= 0.7 ? '✔' : '✘'}`;
      rows.push(
        `| ${tokens.length.toLocaleString('en')} | ${recorded.toLocaleString('en')} | ${row(streaming)} | ${row(scattered)} | ${limit.perSecond.toFixed(0)} | ${limit.p99.toFixed(1)} |`,
      );
      writeReport(statsLines);
    };

    await addAutographs(10_000);
    await load(200, () => `${base}/v1/play/${tokens[random(tokens.length)]}/180p/segment_0.ts`); // warm-up
    await cell();
    await recordUpTo(100_000);
    await cell();
    await recordUpTo(1_000_000);
    await cell();

    // Access stats: an autograph with 10,000 recorded requests next to one with none.
    const busy = ids[0].toString();
    const idle = ids[ids.length - 1].toString();
    const recorder = app.get(AccessRecorder);
    for (let i = 0; i < 10_000; i += 1) {
      recorder.record({
        autograph: ids[0],
        viewer: { ip: '192.0.2.1', userAgent: `viewer ${i % 10}`, acceptLanguage: 'en' },
        segments: [i % segments.length],
        segmentCount: segments.length,
        height: 180,
        download: false,
      });
    }
    await recorder.flush();
    const headers = { Authorization: `Bearer ${token}` };
    const [busyStats, idleStats] = await compare(
      STATS_REQUESTS,
      [() => `${base}/v1/autographs/${busy}`, () => `${base}/v1/autographs/${idle}`],
      headers,
    );
    const summaries = await app
      .get<Model<AccessSummary>>(getModelToken(AccessSummary.name))
      .countDocuments();
    statsLines = [
      '',
      `GET /v1/autographs/ID (${STATS_REQUESTS} at concurrency ${CONCURRENCY}, ${summaries.toLocaleString('en')} access summaries in the database):`,
      '',
      '| autograph | GETs/s | p99 ms |',
      '| --- | --- | --- |',
      `| with 10,000 recorded segment requests (10 viewers) | ${busyStats.perSecond.toFixed(0)} | ${busyStats.p99.toFixed(1)} |`,
      `| with none | ${idleStats.perSecond.toFixed(0)} | ${idleStats.p99.toFixed(1)} |`,
    ];

    // 10^5 autographs, starting again from no recorded requests (a fresh server on the same data).
    await app.get<Model<AccessSummary>>(getModelToken(AccessSummary.name)).deleteMany({});
    await app.close();
    ({ app, base } = await startBenchApi());
    await app.get<Model<AccessSummary>>(getModelToken(AccessSummary.name)).deleteMany({});
    token = await login();
    recorded = 0;
    await addAutographs(100_000);
    await load(200, () => `${base}/v1/play/${tokens[random(tokens.length)]}/180p/segment_0.ts`);
    await cell();
    await recordUpTo(100_000);
    await cell();
    await recordUpTo(1_000_000);
    await cell();
    limitServer.close();

    writeReport(statsLines);
  } finally {
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
