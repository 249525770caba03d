/**
 * `npm run bench:soak`: two servers on one database (FerretDB), 20 rounds of kill -9 of the
 * worker holding a job's or a backtrace's lease, each killed server restarted at once. Counts
 * work lost (FAILED or gone), duplicated (outputs registered twice, a backtrace naming anyone
 * but the leaker) and stuck (not finished long after every lease expired).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { FERRETDB_BINARY } from '../src/database/embedded-ferretdb.js';
import { apiCall, ffmpeg, report } from './support.js';

const ROUNDS = 20;
const LEASE_SECONDS = 5;
/** A round's items must finish within this long after the kill (lease expiry + the work). */
const SETTLE_MS = 120_000;

interface Instance {
  name: string;
  process: ChildProcess;
  base: string;
}

async function startFerretDb(dataDir: string): Promise<{ child: ChildProcess; uri: string }> {
  const child = spawn(FERRETDB_BINARY, [`--data-dir=${dataDir}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  const uri = await new Promise<string>((resolve) =>
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /FERRETDB_URI=(\S+)/.exec(output);
      if (match) resolve(match[1]);
    }),
  );
  return { child, uri: `${uri}soak` };
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | null>,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-soak-'));
  const database = await startFerretDb(join(root, 'db'));
  const connection = await mongoose.createConnection(database.uri).asPromise();
  const db = connection.db!;
  const { ObjectId } = mongoose.Types;
  const ports = [43_111, 43_112];
  const env = (i: number): NodeJS.ProcessEnv => ({
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(ports[i]),
    MONGODB_URI: database.uri,
    DATA_DIR: join(root, `data-${i}`),
    FILE_ROOTS: root,
    ADMIN_EMAIL: 'soak@example.test',
    ADMIN_PASSWORD: 'soak-password',
    WORKER_LEASE_SECONDS: String(LEASE_SECONDS),
    WORKER_POLL_INTERVAL_MS: '200',
  });
  const start = async (i: number): Promise<Instance> => {
    const log = openSync(join(root, `server-${i}.log`), 'a');
    const child = spawn(process.execPath, ['dist-bench/src/main.js'], {
      env: env(i),
      stdio: ['ignore', log, log],
    });
    const base = `http://127.0.0.1:${ports[i]}`;
    await waitFor(`server ${i}`, 60_000, () =>
      fetch(`${base}/health`)
        .then((r) => (r.ok ? true : null))
        .catch(() => null),
    );
    return { name: `server ${i}`, process: child, base };
  };
  const instances = [await start(0), await start(1)];
  const rows: string[] = [];
  let finished = false;
  try {
    const base = instances[0].base;
    const login = await fetch(`${base}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: 'soak@example.test',
        password: 'soak-password',
      }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const call = <T>(method: string, path: string, body?: unknown) =>
      apiCall<T>(instances[0].base, method, path, body, token);
    await mkdir(join(root, 'in'), { recursive: true });
    await mkdir(join(root, 'out'), { recursive: true }); // pipeline folders must exist
    const motion = (seconds: number, path: string) =>
      ffmpeg([
        ...[
          '-f',
          'lavfi',
          '-i',
          `mandelbrot=size=480x270:rate=25:maxiter=200,crop=320:180:x=80+70*sin(t/3):y=45+40*cos(t/4)`,
        ],
        ...[
          '-t',
          String(seconds),
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
          path,
        ],
      ]);
    await motion(40, join(root, 'in', 'film.mp4'));
    await motion(6, join(root, 'in', 'short.mp4'));
    const pipeline = (
      await call<{ pipeline: { id: string } }>('POST', '/v1/pipelines', {
        pipeline: {
          name: 'soak',
          input: { uri: `file://${root}/in` },
          output: { uri: `file://${root}/out` },
        },
      })
    ).pipeline.id;
    const newJob = async (input: string): Promise<string> =>
      (
        await call<{ job: { id: string } }>('POST', '/v1/jobs', {
          job: {
            pipeline: { id: pipeline },
            input: { input_name: input },
            autograph: { segment_duration: 1 },
          },
        })
      ).job.id;
    const state = async (collection: string, id: string) =>
      (await db.collection(collection).findOne({ _id: new ObjectId(id) })) as {
        status: string;
        lease_owner: string | null;
        attempts: number;
        extracted_data?: { autograph_tag: string }[];
      } | null;
    const film = await newJob('film.mp4');
    const filmJob = await waitFor('the film job', 1_200_000, async () => {
      const status = (await state('jobs', film))?.status;
      return status === 'SUCCESS' || status === 'FAILED' ? status : null;
    });
    if (filmJob !== 'SUCCESS') throw new Error('the film job failed');
    const autographs = (
      await call<{ autographs: { tag: string; playback: { download_url: string } }[] }>(
        'POST',
        `/v1/jobs/${film}/autographs`,
        {
          autographs: Array.from({ length: 50 }, (_, i) => ({ tag: `viewer-${i}` })),
        },
      )
    ).autographs;
    const leaker = autographs[17];
    const copy = await fetch(leaker.playback.download_url);
    await writeFile(join(root, 'in', 'leak.mp4'), Buffer.from(await copy.arrayBuffer()));

    const items: { collection: 'jobs' | 'backtraces'; id: string }[] = [];
    let kills = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const job = await newJob('short.mp4');
      const backtrace = (
        await call<{ backtrace: { id: string } }>('POST', `/v1/titles/backtraces/?job_id=${film}`, {
          backtrace: { pipeline: { id: pipeline }, input: { input_name: 'leak.mp4' } },
        })
      ).backtrace.id;
      items.push({ collection: 'jobs', id: job }, { collection: 'backtraces', id: backtrace });
      // Alternate the victim: the holder of the job's lease, then of the backtrace's.
      const [collection, id] = round % 2 === 0 ? ['jobs', job] : ['backtraces', backtrace];
      const owner = await waitFor(`a lease on ${collection} ${id}`, 60_000, async () => {
        const item = await state(collection, id);
        return item?.status === 'PROCESSING' && item.lease_owner ? item.lease_owner : null;
      });
      const pid = Number(owner.split(':')[1]);
      const victim = instances.findIndex((instance) => instance.process.pid === pid);
      if (victim < 0) throw new Error(`lease owner ${owner} is not one of the servers`);
      const victimProcess = instances[victim].process;
      if (victimProcess.exitCode !== null || victimProcess.signalCode !== null) {
        throw new Error(
          `${instances[victim].name} exited on its own: see ${root}/server-${victim}.log`,
        );
      }
      const exited = once(victimProcess, 'exit');
      victimProcess.kill('SIGKILL');
      await exited;
      kills += 1;
      instances[victim] = await start(victim);
      for (const [c, i] of [
        ['jobs', job],
        ['backtraces', backtrace],
      ] as const) {
        await waitFor(`${c} ${i} to finish`, SETTLE_MS, async () => {
          const item = await state(c, i);
          return item && item.status !== 'QUEUED' && item.status !== 'PROCESSING' ? true : null;
        }).catch(() => undefined); // counted as stuck below
      }
      console.log(
        `round ${round + 1}: killed ${instances[victim].name} holding ${collection} ${id}`,
      );
    }

    let lost = 0;
    let duplicated = 0;
    let stuck = 0;
    let retried = 0;
    for (const { collection, id } of items) {
      const item = await state(collection, id);
      if (!item || item.status === 'FAILED') lost += 1;
      else if (item.status !== 'SUCCESS') stuck += 1;
      if (item && item.attempts > 1) retried += 1;
      if (collection === 'jobs') {
        const uris = (
          await db
            .collection('files')
            .find({ job: new ObjectId(id) })
            .toArray()
        ).map((f) => f.uri as string);
        if (new Set(uris).size !== uris.length) duplicated += 1;
      } else if (item?.status === 'SUCCESS') {
        const tags = (item.extracted_data ?? []).map((d) => d.autograph_tag);
        if (tags.length !== 1 || tags[0] !== leaker.tag) duplicated += 1;
      }
    }
    rows.push(
      `| ${ROUNDS} | ${kills} | ${items.length} | ${retried} | ${lost} | ${duplicated} | ${stuck} |`,
    );
    finished = true;
    report('soak', [
      '# bench:soak — two servers on one FerretDB, kill -9 of the lease holder',
      '',
      `Run ${new Date().toISOString()}, Node ${process.version}. Each round queues a 6 s job and a backtrace of a`,
      `leaked copy (40 s film, 50 autographs), kills -9 the server holding the job's lease (even rounds) or the`,
      `backtrace's (odd rounds) and restarts it. Leases last ${LEASE_SECONDS} s. Lost = FAILED or gone; duplicated = a`,
      'job whose outputs are registered twice, or a backtrace not naming exactly the leaker; stuck = not',
      `finished ${SETTLE_MS / 1000} s after the kill.`,
      '',
      '| rounds | kills | items | taken over after a kill | lost | duplicated | stuck |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ]);
  } finally {
    for (const instance of instances) instance.process.kill('SIGTERM');
    const running = instances.filter((i) => i.process.exitCode === null);
    await Promise.all(running.map((i) => once(i.process, 'exit')));
    await connection.close();
    database.child.kill('SIGTERM');
    await once(database.child, 'exit');
    if (finished) await rm(root, { recursive: true, force: true }); // else kept for its logs
  }
}

await main();
