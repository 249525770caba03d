/**
 * `npm run bench:delivery`: segment GETs per second and p99 latency of personal copies through
 * the reference edge (nginx + njs: token check, A/B choice, JSON log line), through nginx
 * serving the same variant files statically (the limit), and through the API's own playback,
 * with 10^4 and 10^5 autographs issued (1 % of them revoked, so the edge holds a revocation
 * list). One machine, one run, the three measured in interleaved slices.
 */
import { getModelToken } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256 } from '../src/common/secrets.js';
import { Autograph } from '../src/autographs/schemas/autograph.schema.js';
import { EdgeApiClient, fetchEdgeConfig, syncRevocations } from '../src/edge/edge-agent.js';
import { writeEdgeFiles } from '../src/edge/edge-files.js';
import { EdgeTokensService } from '../src/edge-tokens/edge-tokens.service.js';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import type { Stored } from '../src/common/paging.js';
import { Job } from '../src/jobs/schemas/job.schema.js';
import { WatermarkKeysService } from '../src/watermarking/watermark-keys.service.js';
import type { LoadRequest, LoadResult } from './delivery-load.js';
import { BENCH_ADMIN, startBenchApi, useBenchEnvironment } from './bench-app.js';
import { apiCall, queueBenchJob, report } from './support.js';

const SECONDS = 20;
const CONNECTIONS = 50;
const VIEWERS = 200;
const SLICES = 6;
const SLICE_SECONDS = 3;
const REVOKED_SHARE = 0.01;
const NGINX = '/usr/sbin/nginx';

interface Measured {
  perSecond: number;
  p99: number;
  failures: number;
}

function runLoad(request: LoadRequest): Promise<LoadResult> {
  const child = fork(new URL('./delivery-load.js', import.meta.url));
  child.send(request);
  return new Promise((resolve, reject) => {
    child.once('message', (result: LoadResult) => resolve(result));
    child.once('exit', (code) => reject(new Error(`the load generator exited (${code})`)));
  });
}

/** Each kind in SLICES interleaved slices (the machine is shared: its load drifts). */
async function compare(kinds: { base: string; viewers: string[][] }[]): Promise<Measured[]> {
  const totals = kinds.map(() => ({ requests: 0, seconds: 0, p99s: [] as number[], failures: 0 }));
  for (let slice = 0; slice < SLICES; slice += 1) {
    for (const [k, kind] of kinds.entries()) {
      const result = await runLoad({ ...kind, connections: CONNECTIONS, seconds: SLICE_SECONDS });
      totals[k].requests += result.requests;
      totals[k].seconds += result.seconds;
      totals[k].p99s.push(result.p99);
      totals[k].failures += result.errors + result.non2xx;
    }
  }
  return totals.map((t) => ({
    perSecond: t.requests / t.seconds,
    p99: t.p99s.sort((a, b) => a - b)[Math.floor(t.p99s.length / 2)], // the median slice's
    failures: t.failures,
  }));
}

async function startNginx(prefix: string, conf: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    NGINX,
    ['-p', prefix, '-e', join(prefix, 'logs', 'error.log'), '-c', conf, '-g', 'daemon off;'],
    {
      stdio: 'inherit',
    },
  );
  for (let attempt = 0; ; attempt += 1) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return child;
    } catch (error) {
      if (attempt > 100 || child.exitCode !== null) throw error;
      await sleep(100);
    }
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

/** nginx serving the job's variant files as they are: what an edge cannot beat. */
function staticConf(prefix: string, origin: string, port: number): string {
  return `user ${process.env.USER ?? 'root'};
worker_processes 1;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  types { video/mp2t ts; video/mp4 mp4 m4s; }
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000;
  client_body_temp_path ${prefix}/tmp; proxy_temp_path ${prefix}/tmp; fastcgi_temp_path ${prefix}/tmp;
  uwsgi_temp_path ${prefix}/tmp; scgi_temp_path ${prefix}/tmp;
  server {
    listen 127.0.0.1:${port};
    access_log ${prefix}/logs/access.log;
    location /static/ { alias ${origin}/; add_header Cache-Control "private, no-store"; }
    location / { return 404; }
  }
}
`;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-delivery-'));
  const [edgePort, staticPort] = [await freePort(), await freePort()];
  useBenchEnvironment(root, { EDGE_URL: `http://127.0.0.1:${edgePort}` });
  const { app, base: api } = await startBenchApi();
  const nginxes: ChildProcess[] = [];
  const rows: string[] = [];
  try {
    const call = <T>(method: string, path: string, body?: unknown, token?: string) =>
      apiCall<T>(api, method, path, body, token);
    const { access_token: token } = await call<{ access_token: string }>(
      'POST',
      '/v1/oauth/token',
      { grant_type: 'password', ...BENCH_ADMIN },
    );
    const queuedJobId = await queueBenchJob(api, token, root, SECONDS);
    if (!(await app.get(JobsWorker).processNext())) throw new Error('the job did not run');
    const jobId = new Types.ObjectId(queuedJobId);
    const stored = (await app
      .get<Model<Job>>(getModelToken(Job.name))
      .findById(jobId)
      .lean<Stored<Job>>()
      .exec())!;
    const segments = stored.result!.renditions[0].segments;
    const variantFiles = segments.flatMap((s) => [s.a, s.b]);
    const segmentKiB =
      variantFiles.reduce(
        (sum, path) => sum + statSync(join(stored.result!.output_dir, path)).size,
        0,
      ) /
      variantFiles.length /
      1024;

    const { application } = await call<{
      application: { client_id: string; client_secret: string };
    }>('POST', '/v1/applications', { application: { name: 'edge' } }, token);
    const client = new EdgeApiClient(api, application.client_id, application.client_secret);
    const edgeOut = join(root, 'edge');
    writeEdgeFiles(await fetchEdgeConfig(client, [queuedJobId]), {
      out: edgeOut,
      listen: `127.0.0.1:${edgePort}`,
      workers: '1',
    });
    await syncRevocations(client, edgeOut);
    nginxes.push(await startNginx(edgeOut, join(edgeOut, 'nginx.conf'), edgePort));
    const staticDir = join(root, 'static');
    await mkdir(join(staticDir, 'logs'), { recursive: true });
    await mkdir(join(staticDir, 'tmp'), { recursive: true });
    await writeFile(
      join(staticDir, 'nginx.conf'),
      staticConf(staticDir, join(edgeOut, 'origin'), staticPort),
    );
    nginxes.push(await startNginx(staticDir, join(staticDir, 'nginx.conf'), staticPort));

    const model = app.get<Model<Autograph>>(getModelToken(Autograph.name));
    const keys = app.get(WatermarkKeysService);
    const ids: Types.ObjectId[] = [];
    const addAutographs = async (count: number): Promise<void> => {
      for (let start = ids.length; start < count; start += 10_000) {
        const now = new Date();
        const batch = Array.from({ length: Math.min(10_000, count - start) }, (_, k) => {
          const _id = new Types.ObjectId();
          return {
            _id,
            job: jobId,
            user: stored.user,
            application: null,
            tag: `viewer-${start + k}`,
            playback_token_hash: sha256(keys.playbackToken(_id.toString())),
            revoked_at: (start + k) % Math.round(1 / REVOKED_SHARE) === 0 ? now : null,
            created_at: now,
            updated_at: now,
          };
        });
        await model.insertMany(batch, { lean: true });
        ids.push(...batch.map((a) => a._id));
      }
      await syncRevocations(client, edgeOut); // the edge reloads its revocation list
      await sleep(1000);
    };

    const cell = async (): Promise<void> => {
      const load = loadavg()[0]; // the machine is shared: what else ran
      const tokens = app.get(EdgeTokensService);
      const live = ids.filter((_, i) => i % Math.round(1 / REVOKED_SHARE) !== 0);
      const sample = Array.from(
        { length: VIEWERS },
        () => live[Math.floor(Math.random() * live.length)],
      );
      const edgeViewers: string[][] = [];
      const staticViewers: string[][] = [];
      const apiViewers: string[][] = [];
      for (const id of sample) {
        const edge = (await tokens.issue(id.toString(), stored))!;
        const codeword = keys.codeword(queuedJobId, id.toString(), segments.length);
        const play = `/v1/play/${keys.playbackToken(id.toString())}/180p`;
        edgeViewers.push(
          segments.map((s) => `/${queuedJobId}/~${edge.token}/180p/${s.a.split('/').pop()}`),
        );
        staticViewers.push(
          segments.map(
            (s, i) => `/static/${queuedJobId}/${(codeword[i >>> 5] >>> (i & 31)) & 1 ? s.a : s.b}`,
          ),
        );
        apiViewers.push(segments.map((_, i) => `${play}/segment_${String(i).padStart(5, '0')}.ts`));
      }
      const [staticLoad, edgeLoad, apiLoad] = await compare([
        { base: `http://127.0.0.1:${staticPort}`, viewers: staticViewers },
        { base: `http://127.0.0.1:${edgePort}`, viewers: edgeViewers },
        { base: api, viewers: apiViewers },
      ]);
      const ratio = (load: Measured) => load.perSecond / staticLoad.perSecond;
      const column = (load: Measured) =>
        `${load.perSecond.toFixed(0)} | ${load.p99.toFixed(0)} | ${ratio(load).toFixed(2)}`;
      rows.push(
        `| ${ids.length.toLocaleString('en')} | ${load.toFixed(1)} | ${staticLoad.perSecond.toFixed(0)} | ${staticLoad.p99.toFixed(0)} | ${column(edgeLoad)} ${ratio(edgeLoad) >= 0.8 ? '✔' : '✘'} | ${column(apiLoad)} | ${staticLoad.failures + edgeLoad.failures + apiLoad.failures} |`,
      );
      report('delivery', [
        `# bench:delivery — segment GETs through the edge, nginx static and the API's playback`,
        '',
        `Run ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores (shared with other work).`,
        `A ${SECONDS} s job (1 s segments, 180p; the segment files average ${segmentKiB.toFixed(0)} KiB).`,
        `${CONNECTIONS} keep-alive connections (autocannon in a child process), each a viewer playing the copy`,
        `of one of ${VIEWERS} random live autographs segment after segment; ${SLICES} slices of ${SLICE_SECONDS} s per`,
        'path, interleaved. Static: nginx serving the variant files the viewer would get (the limit).',
        'Edge: the generated nginx + njs configuration (token MAC, expiry, revocation list, A/B choice',
        'by internal redirect, JSON log line). API: GET /v1/play/TOKEN/180p/segment_N.ts. nginx with one',
        `worker each, the API one Node process (embedded FerretDB). ${REVOKED_SHARE * 100} % of the autographs are`,
        'revoked (the edge preloads the list). p99 is the median slice’s. Goal: edge ≥ 0.8× static.',
        '',
        '| autographs | load avg | static GETs/s | p99 ms | edge GETs/s | p99 ms | × static | API GETs/s | p99 ms | × static | failed |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...rows,
      ]);
    };
    await addAutographs(10_000);
    await cell();
    await addAutographs(100_000);
    await cell();
  } finally {
    for (const nginx of nginxes) nginx.kill('SIGQUIT');
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
