/**
 * `npm run bench:downloads`: 10 concurrent downloads of a ≥ 100 MB personal copy over real
 * HTTP (aggregate MB/s, errors, server CPU seconds per GB) next to the limit, express
 * `sendFile` of a file of the same size on the same machine; and a download interrupted part
 * way and resumed with Range, compared by SHA-256 with an uninterrupted one. The load runs in
 * a child process, so the server's CPU time is its own.
 */
import express from 'express';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import { BENCH_ADMIN, startBenchApi, useBenchEnvironment } from './bench-app.js';
import { apiCall, benchPipeline, makeSource, report, timed } from './support.js';

const CONCURRENT = 10;
/** 40 s of grainy 540p at 30 Mbit/s: a personal copy of about 150 MB. */
const SECONDS = 40;
const OUTPUT = { height: 540, video_bitrate: 30_000, max_bitrate: 45_000 };
const MIN_BYTES = 100e6;

interface LoadResult {
  errors: string[];
  bytes: number;
  seconds: number;
  digests: string[];
}

/** A response's body chunk by chunk; leaving the loop early drops the connection. */
async function* chunksOf(response: Response): AsyncGenerator<Uint8Array> {
  const reader = response.body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Child mode: downloads `url` `count` times at once, and prints what it got as JSON. */
async function load(url: string, count: number): Promise<void> {
  const one = async (): Promise<{ bytes: number; digest: string }> => {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of chunksOf(response)) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    if (bytes !== Number(response.headers.get('content-length'))) {
      throw new Error(`${bytes} bytes of ${response.headers.get('content-length')}`);
    }
    return { bytes, digest: hash.digest('hex') };
  };
  const [settled, seconds] = await timed(() =>
    Promise.allSettled(Array.from({ length: count }, one)),
  );
  const result: LoadResult = { errors: [], bytes: 0, seconds, digests: [] };
  for (const outcome of settled) {
    if (outcome.status === 'rejected') result.errors.push(String(outcome.reason));
    else {
      result.bytes += outcome.value.bytes;
      result.digests.push(outcome.value.digest);
    }
  }
  process.stdout.write(JSON.stringify(result));
}

/** Runs the load in a child process while measuring this process's CPU time. */
async function measure(url: string): Promise<LoadResult & { serverCpu: number }> {
  const before = process.cpuUsage();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await once(child, 'exit');
  const { user, system } = process.cpuUsage(before);
  return { ...(JSON.parse(output) as LoadResult), serverCpu: (user + system) / 1e6 };
}

/** A download cut off after `cutAt` bytes, resumed with Range + If-Range; its SHA-256. */
async function interruptedAndResumed(url: string, cutAt: number): Promise<string> {
  const hash = createHash('sha256');
  const first = await fetch(url);
  const etag = first.headers.get('etag')!;
  let received = 0;
  for await (const chunk of chunksOf(first)) {
    const kept = chunk.subarray(0, Math.max(0, cutAt - received));
    hash.update(kept);
    received += kept.length;
    if (received >= cutAt) break; // the connection drops
  }
  const rest = await fetch(url, { headers: { Range: `bytes=${received}-`, 'If-Range': etag } });
  if (rest.status !== 206) throw new Error(`resume answered ${rest.status}`);
  for await (const chunk of chunksOf(rest)) hash.update(chunk);
  return hash.digest('hex');
}

const baseOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-downloads-'));
  useBenchEnvironment(root);
  const { app, base } = await startBenchApi();
  const loadBefore = loadavg()[0];
  try {
    const call = <T>(path: string, body: unknown, token?: string) =>
      apiCall<T>(base, 'POST', path, body, token);
    const { access_token: token } = await call<{ access_token: string }>('/v1/oauth/token', {
      grant_type: 'password',
      username: BENCH_ADMIN.username,
      password: BENCH_ADMIN.password,
    });
    await makeSource(join(root, 'in.mp4'), SECONDS, 12);
    const { pipeline } = await call<{ pipeline: { id: string } }>(
      '/v1/pipelines',
      await benchPipeline(root),
      token,
    );
    const { job } = await call<{ job: { id: string } }>(
      '/v1/jobs',
      {
        job: { pipeline: { id: pipeline.id }, input: { input_name: 'in.mp4' }, outputs: [OUTPUT] },
      },
      token,
    );
    const [ran, embedSeconds] = await timed(() => app.get(JobsWorker).processNext());
    if (!ran) throw new Error('the job did not run');
    const { autograph } = await call<{ autograph: { playback: { download_url: string } } }>(
      `/v1/jobs/${job.id}/autographs`,
      { autograph: { tag: 'bench' } },
      token,
    );
    const url = autograph.playback.download_url;
    const size = Number((await fetch(url, { method: 'HEAD' })).headers.get('content-length'));
    if (size < MIN_BYTES) throw new Error(`the personal copy has ${size} bytes, < ${MIN_BYTES}`);

    // The limit: a file of the same size through express sendFile.
    const staticFile = join(root, 'static.bin');
    await writeFile(staticFile, Buffer.alloc(size, 7));
    const limitApp = express();
    limitApp.get('/file', (_req, res) => res.sendFile(staticFile));
    const limitServer = limitApp.listen(0, '127.0.0.1');
    await once(limitServer, 'listening');

    const uninterrupted = createHash('sha256');
    for await (const chunk of chunksOf(await fetch(url))) {
      uninterrupted.update(chunk);
    }
    const wholeDigest = uninterrupted.digest('hex');
    const resumedDigest = await interruptedAndResumed(url, Math.floor(size * 0.37));

    // Interleaved, twice each, so a burst of other work on the machine hits both alike.
    const rows: string[] = [];
    const totals = { personal: [] as number[], limit: [] as number[] };
    for (let round = 1; round <= 2; round++) {
      for (const [name, target] of [
        ['personal download', url],
        ['express sendFile (limit)', `${baseOf(limitServer)}/file`],
      ] as const) {
        const result = await measure(target);
        const mbPerSecond = result.bytes / 1e6 / result.seconds;
        const cpuPerGb = result.serverCpu / (result.bytes / 1e9);
        (name === 'personal download' ? totals.personal : totals.limit).push(mbPerSecond);
        const identical = new Set(result.digests).size === 1 && result.digests[0];
        rows.push(
          `| ${round} | ${name} | ${result.errors.length}${result.errors.length ? ` (${result.errors[0]})` : ''} | ${(result.bytes / 1e6).toFixed(0)} | ${result.seconds.toFixed(2)} | ${mbPerSecond.toFixed(0)} | ${cpuPerGb.toFixed(2)} | ${name === 'personal download' ? (identical === wholeDigest ? 'yes' : 'NO') : '—'} |`,
        );
      }
    }
    limitServer.close();
    const ratio = totals.personal.reduce((a, b) => a + b) / totals.limit.reduce((a, b) => a + b);
    report('downloads', [
      `# bench:downloads — ${CONCURRENT} concurrent downloads of one personal copy`,
      '',
      `Run ${new Date().toISOString()}, Node ${process.version}, ${(await stat(staticFile)).size.toLocaleString('en')}-byte copy`,
      `(${SECONDS} s of grainy ${OUTPUT.height}p at ${OUTPUT.video_bitrate / 1000} Mbit/s, embedded in ${embedSeconds.toFixed(0)} s), embedded FerretDB.`,
      `Load average (1 min) at start ${loadBefore.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}; 2 cores shared with other work.`,
      'The clients run in a child process; "server CPU" is the server process\'s user + system time during',
      'the load (the embedded FerretDB child, one `_id` read per second per autograph, is not included).',
      'The limit is express `sendFile` of a file of the same size, measured by the same client, interleaved.',
      '',
      '| round | server | errors | MB | seconds | aggregate MB/s | server CPU s per GB | bytes as the single download |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `Personal downloads reach ${ratio.toFixed(2)}× the limit's aggregate MB/s.`,
      '',
      `Interrupted at 37 % and resumed with \`Range\` + \`If-Range\`: SHA-256 ${resumedDigest === wholeDigest ? 'equals' : 'DIFFERS FROM'} the uninterrupted download's (${wholeDigest.slice(0, 16)}…).`,
    ]);
  } finally {
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2]) {
  await load(process.argv[2], CONCURRENT);
} else {
  await main();
}
