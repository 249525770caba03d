import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRET_FILE_NAME } from '../src/watermarking/autograph-secret.js';
import { makeClip } from './support/media.js';
import {
  buildServer,
  isAlive,
  runServerToExit,
  type ServerProcess,
  startServer,
  stopServer,
  waitGone,
} from './support/server.js';

/**
 * The embedded database keeps everything across restarts of the real server process: a clean
 * stop (SIGTERM) and a kill -9, after which its FerretDB child must not survive either.
 */
describe('restarts keep the data (embedded FerretDB in DATA_DIR)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'autograph-restart-data-'));
  const storage = mkdtempSync(join(tmpdir(), 'autograph-restart-files-'));
  const env = {
    DATA_DIR: dataDir,
    FILE_ROOTS: storage,
    ADMIN_EMAIL: 'admin@example.test',
    ADMIN_PASSWORD: 'restart-password',
    WORKER_POLL_INTERVAL_MS: '200',
    MONGODB_URI: '',
    AUTOGRAPH_SECRET: '',
  };
  let server: ServerProcess;
  let token: string;
  const ids: Record<string, string> = {};

  /** A parsed JSON body, as supertest's `body` (the test reads what it asserts on). */
  type Json = ReturnType<typeof JSON.parse>;
  const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const response = await fetch(`${server.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const settled = async (path: string, key: 'job' | 'backtrace'): Promise<Json> => {
    for (;;) {
      const item = (await call('GET', path))[key];
      if (item.status === 'SUCCESS' || item.status === 'FAILED') return item;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  /** A new backtrace of the leaked copy, run to the end: its id and the tags it names. */
  const backtrace = async (): Promise<{ id: string; tags: string[] }> => {
    const created = await call('POST', `/v1/titles/backtraces/?job_id=${ids.job}`, {
      backtrace: { pipeline: { id: ids.pipeline }, input: { input_name: 'leak.mp4' } },
    });
    const done = await settled(`/v1/backtraces/${created.backtrace.id}`, 'backtrace');
    expect(done.status).toBe('SUCCESS');
    return {
      id: done.id,
      tags: done.extracted_data.map((d: { autograph_tag: string }) => d.autograph_tag),
    };
  };
  /** Everything created before the restart, read back through the API. */
  const expectEverythingThere = async (): Promise<void> => {
    expect((await call('GET', `/v1/pipelines/${ids.pipeline}`)).pipeline.name).toBe('studio');
    expect((await call('GET', `/v1/jobs/${ids.job}`)).job.status).toBe('SUCCESS');
    const leaker = (await call('GET', `/v1/autographs/${ids.leaker}`)).autograph;
    expect(leaker.tag).toBe('leaker');
    expect(leaker.access_stats).toEqual([
      expect.objectContaining({ percentage_obtained: '100%', streaming_only: 'no' }),
    ]);
    const first = (await call('GET', `/v1/backtraces/${ids.backtrace}`)).backtrace;
    expect(first.extracted_data.map((d: { autograph_tag: string }) => d.autograph_tag)).toEqual([
      'leaker',
    ]);
  };

  beforeAll(async () => {
    buildServer();
    // Pipeline folders must exist (see *Storage per owner*).
    mkdirSync(join(storage, 'out'), { recursive: true });
    // 60 one-second segments: the bound covers the whole job (ε / 3 autographs per innocent).
    await makeClip(join(storage, 'in', 'film.mp4'), 60, '320x180', 'motion');
    server = await startServer(env);
    const login = await fetch(`${server.base}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: env.ADMIN_EMAIL,
        password: env.ADMIN_PASSWORD,
      }),
    });
    token = ((await login.json()) as { access_token: string }).access_token;
    ids.pipeline = (
      await call('POST', '/v1/pipelines', {
        pipeline: {
          name: 'studio',
          input: { uri: `file://${storage}/in` },
          output: { uri: `file://${storage}/out` },
        },
      })
    ).pipeline.id;
    const job = await call('POST', '/v1/jobs', {
      job: {
        pipeline: { id: ids.pipeline },
        input: { input_name: 'film.mp4' },
        // The ladder's 180p rung (86 kbit/s) leaves a thin margin on 60 one-second segments;
        // this test is about restarts, so the mark gets the bitrate of a 360p rendition.
        outputs: [{ height: 180, video_bitrate: 730 }],
        autograph: { segment_duration: 1 },
      },
    });
    ids.job = job.job.id;
    expect((await settled(`/v1/jobs/${ids.job}`, 'job')).status).toBe('SUCCESS');
    const created = await call('POST', `/v1/jobs/${ids.job}/autographs`, {
      autographs: [{ tag: 'innocent' }, { tag: 'leaker' }, { tag: 'other' }],
    });
    const leaker = created.autographs.find((a: { tag: string }) => a.tag === 'leaker');
    ids.leaker = leaker.id;
    const copy = await fetch(leaker.playback.download_url);
    expect(copy.status).toBe(200);
    await writeFile(join(storage, 'in', 'leak.mp4'), Buffer.from(await copy.arrayBuffer()));
    const created2 = await call('POST', `/v1/titles/backtraces/?job_id=${ids.job}`, {
      backtrace: { pipeline: { id: ids.pipeline }, input: { input_name: 'leak.mp4' } },
    });
    ids.backtrace = created2.backtrace.id;
    expect((await settled(`/v1/backtraces/${ids.backtrace}`, 'backtrace')).status).toBe('SUCCESS');
  }, 600_000);

  afterAll(async () => {
    if (server?.process.exitCode === null) await stopServer(server, 'SIGTERM');
  });

  it('keeps everything across a clean stop (SIGTERM), and the database child stops with it', async () => {
    const [database] = server.children();
    expect(database).toBeGreaterThan(0);
    // Nest re-raises SIGTERM once its shutdown hooks have run.
    expect(await stopServer(server, 'SIGTERM')).toBe('SIGTERM');
    expect(await waitGone(database, 10_000)).toBe(true);

    server = await startServer(env);
    await expectEverythingThere();
    expect((await backtrace()).tags).toEqual(['leaker']); // a copy downloaded before the restart
  }, 300_000);

  it('keeps what was committed across kill -9 of the server, whose database child exits too', async () => {
    const [database] = server.children();
    const last = await backtrace();
    expect(await stopServer(server, 'SIGKILL')).toBe('SIGKILL');
    expect(await waitGone(database, 5_000)).toBe(true);

    server = await startServer(env);
    await expectEverythingThere();
    const kept = (await call('GET', `/v1/backtraces/${last.id}`)).backtrace;
    expect(kept.status).toBe('SUCCESS');
    expect(kept.extracted_data.map((d: { autograph_tag: string }) => d.autograph_tag)).toEqual([
      'leaker',
    ]);
    expect((await call('GET', '/v1/backtraces?limit=100')).total).toBe(3);
  }, 300_000);

  it('refuses to start when the secret in DATA_DIR and the one in the database disagree', async () => {
    expect(await stopServer(server, 'SIGTERM')).toBe('SIGTERM');
    const backup = join(storage, 'secret.backup');
    await copyFile(join(dataDir, SECRET_FILE_NAME), backup);
    writeFileSync(join(dataDir, SECRET_FILE_NAME), `${Buffer.alloc(32, 7).toString('base64')}\n`);
    const { code, output } = await runServerToExit(env);
    expect(code).toBe(1);
    expect(output).toContain('differs from the one in the database');
    await copyFile(backup, join(dataDir, SECRET_FILE_NAME));
    server = await startServer(env);
    expect(isAlive(server.process.pid!)).toBe(true);
  }, 120_000);
});
