import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Agent, get, type IncomingMessage, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { fragmentLayout, probeMedia } from '../src/watermark/index.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  embedJob,
  getBytes,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeMultilingualClip, runFfmpeg } from './support/media.js';

const SECONDS = 8;
const FPS = 25;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Personal MP4s as files: length, ranges, validators, resumption, playback (issue 16). */
describe('downloads', () => {
  let t: TestApp;
  let token: string;
  let jobId: string;
  let port: number;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  /** A fresh autograph's id and the path of its download. */
  async function viewer(tag: string): Promise<{ id: string; path: string }> {
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autograph: { tag } });
    return {
      id: made.body.autograph.id,
      path: new URL(made.body.autograph.playback.download_url as string).pathname,
    };
  }
  const statsOf = async (id: string) =>
    (await request(t.http).get(`/v1/autographs/${id}`).set(auth())).body.autograph.access_stats as {
      percentage_obtained: string;
      streaming_only: string;
    }[];
  const whole = (path: string) => getBytes(t.http, path);

  beforeAll(async () => {
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelineId = await createPipeline(t, token);
    await makeMultilingualClip(join(t.storageRoot, 'in', 'film.mkv'), SECONDS);
    // A high bitrate: a copy of several MB, more than the sockets buffer (the cut-off test).
    jobId = await embedJob(t, token, pipelineId, 'film.mkv', [
      { height: 180, video_bitrate: 6000, max_bitrate: 9000 },
    ]);
    await t.app.listen(0, '127.0.0.1');
    ({ port } = (t.app.getHttpServer() as { address(): AddressInfo }).address());
  }, 180_000);
  afterAll(() => t?.close());

  it('is a file: the same bytes with a length, a strong ETag and ranges accepted', async () => {
    const alice = await viewer('alice');
    const first = await whole(alice.path);
    const again = await whole(alice.path);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('video/mp4');
    expect(first.headers['accept-ranges']).toBe('bytes');
    expect(Number(first.headers['content-length'])).toBe((first.body as Buffer).length);
    expect(first.headers.etag).toMatch(/^"[\w-]{32}"$/);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(sha256(again.body as Buffer)).toBe(sha256(first.body as Buffer));

    // Another viewer: another ETag exactly when other bytes.
    const bob = await whole((await viewer('bob')).path);
    expect(bob.headers.etag === first.headers.etag).toBe(
      (bob.body as Buffer).equals(first.body as Buffer),
    );
  });

  it('answers HEAD with the headers alone, and records nothing', async () => {
    const { id, path } = await viewer('head');
    const full = await whole(path);
    const head = await request(t.http).head(path);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(full.headers['content-length']);
    expect(head.headers.etag).toBe(full.headers.etag);
    expect(head.text ?? '').toBe('');
    // Only the full GET above counts.
    expect((await statsOf(id)).map((s) => s.percentage_obtained)).toEqual(['100%']);
  });

  it('serves one range per request, 416 outside the file, and If-Range as download managers use it', async () => {
    const { path } = await viewer('ranges');
    const full = await whole(path);
    const bytes = full.body as Buffer;
    const size = bytes.length;
    const etag = full.headers.etag;

    const middle = await getBytes(t.http, path).set('Range', 'bytes=1000-1999');
    expect(middle.status).toBe(206);
    expect(middle.headers['content-range']).toBe(`bytes 1000-1999/${size}`);
    expect(middle.headers['content-length']).toBe('1000');
    expect((middle.body as Buffer).equals(bytes.subarray(1000, 2000))).toBe(true);

    const suffix = await getBytes(t.http, path).set('Range', 'bytes=-500');
    expect(suffix.headers['content-range']).toBe(`bytes ${size - 500}-${size - 1}/${size}`);
    expect((suffix.body as Buffer).equals(bytes.subarray(size - 500))).toBe(true);

    const outside = await request(t.http).get(path).set('Range', `bytes=${size}-`);
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${size}`);
    expect(outside.body.error.error_code).toBe('RANGE_NOT_SATISFIABLE');

    const sameVersion = await getBytes(t.http, path)
      .set('Range', 'bytes=10-19')
      .set('If-Range', etag);
    expect(sameVersion.status).toBe(206);
    for (const other of ['"another-version"', `W/${etag}`, 'Mon, 30 Nov 2026 10:00:00 GMT']) {
      const changed = await getBytes(t.http, path)
        .set('Range', 'bytes=10-19')
        .set('If-Range', other);
      expect([other, changed.status]).toEqual([other, 200]);
      expect((changed.body as Buffer).equals(bytes)).toBe(true);
    }
    // Several ranges are not supported: the whole file, as RFC 9110 allows.
    const several = await getBytes(t.http, path).set('Range', 'bytes=0-1,5-6');
    expect(several.status).toBe(200);
    expect((several.body as Buffer).length).toBe(size);
  });

  it('resumes an interrupted download with Range into the same file', async () => {
    const { path } = await viewer('resume');
    const full = (await whole(path)).body as Buffer;
    const etag = (await request(t.http).head(path)).headers.etag;
    // The first attempt breaks off after about a third; the download manager asks for the rest.
    const cutAt = Math.floor(full.length / 3);
    const start = (await getBytes(t.http, path).set('Range', `bytes=0-${cutAt - 1}`))
      .body as Buffer;
    const rest = await getBytes(t.http, path).set('Range', `bytes=${cutAt}-`).set('If-Range', etag);
    expect(rest.status).toBe(206);
    expect(sha256(Buffer.concat([start, rest.body as Buffer]))).toBe(sha256(full));
  });

  it('plays from start to end with every language, decoded without an error', async () => {
    const { path } = await viewer('player');
    const file = join(t.storageRoot, 'player.mp4');
    writeFileSync(file, (await whole(path)).body as Buffer);
    const info = await probeMedia(file);
    expect(info).toMatchObject({ height: 180, codec: 'h264' });
    expect(info.duration_s).toBeCloseTo(SECONDS, 0);
    expect(info.audio_tracks.map((track) => track.language)).toEqual(['eng', 'fra', 'und']);
    const log = await runFfmpeg(['-v', 'error', '-i', file, '-map', '0', '-f', 'null', '-']);
    expect(log).toBe('');
    const frames = await runFfmpeg(['-i', file, '-map', '0:v', '-f', 'null', '-']);
    expect(frames).toMatch(new RegExp(`frame=\\s*${SECONDS * FPS} `));
  });

  it('counts only the segments a range covered whole; forty 1-byte ranges count nothing', async () => {
    // Another viewer's copy shows where the shared init ends.
    const file = join(t.storageRoot, 'layout.mp4');
    writeFileSync(file, (await whole((await viewer('layout')).path)).body as Buffer);
    const { init, fragments: layout } = await fragmentLayout(file);
    expect(layout).toHaveLength(SECONDS);

    const counted = await viewer('counted');
    const range = (first: number, last: number) =>
      getBytes(t.http, counted.path).set('Range', `bytes=${first}-${last}`);
    for (let i = 0; i < 40; i++) expect((await range(i * 997, i * 997)).status).toBe(206);
    // This viewer's fragment sizes, from 8-byte reads of the box headers (moof, then mdat).
    const boxSize = async (at: number) =>
      ((await range(at, at + 7)).body as Buffer).readUInt32BE(0);
    const fragmentAt = async (at: number) => {
      const moof = await boxSize(at);
      return moof + (await boxSize(at + moof));
    };
    const fragments = [await fragmentAt(init.length)];
    fragments.push(await fragmentAt(init.length + fragments[0]));
    expect(await statsOf(counted.id)).toEqual([]);

    // From one byte into fragment 0 to one byte into fragment 2: fragment 1 alone is whole.
    const from = init.length + 1;
    const to = init.length + fragments[0] + fragments[1];
    expect((await range(from, to)).status).toBe(206);
    expect((await statsOf(counted.id)).map((s) => s.percentage_obtained)).toEqual([
      `${Math.floor(100 / SECONDS)}%`,
    ]);
  });

  it('counts only what was sent of a download cut off mid-way', async () => {
    const { id, path } = await viewer('cut');
    const size = Number((await request(t.http).head(path)).headers['content-length']);
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      get({ port, host: '127.0.0.1', path }, resolve).on('error', reject),
    );
    let received = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > size / 4) break; // ends the iteration: the connection is destroyed
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stats = await statsOf(id);
    expect(stats).toHaveLength(1);
    const obtained = Number.parseInt(stats[0].percentage_obtained, 10);
    expect(obtained).toBeGreaterThan(0);
    expect(obtained).toBeLessThan(100);
    expect(stats[0].streaming_only).toBe('no');
  });

  it('keeps the connection open for the next request after a download read slowly', async () => {
    const { path } = await viewer('slow');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = (method: string, headers: Record<string, string> = {}) =>
        new Promise<{ response: IncomingMessage; reused: boolean; localPort: number }>(
          (resolve, reject) => {
            const outgoing = httpRequest(
              { agent, port, host: '127.0.0.1', path, method, headers },
              (response) =>
                resolve({
                  response,
                  reused: outgoing.reusedSocket,
                  localPort: outgoing.socket!.localPort!,
                }),
            );
            outgoing.on('error', reject).end();
          },
        );
      // A piece small enough for the sockets' buffers: the server has sent all of it at once and
      // the connection is idle on its side while the slow viewer has not read it for 7 s (Node's
      // default keep-alive timeout, 5 s, closed the connection meanwhile).
      const first = await send('GET', { Range: 'bytes=0-16383' });
      expect(first.response.statusCode).toBe(206);
      first.response.pause();
      await new Promise((resolve) => setTimeout(resolve, 7000));
      first.response.resume();
      await once(first.response, 'end');
      const second = await send('HEAD');
      expect(second.response.statusCode).toBe(200);
      expect(second.reused).toBe(true);
      expect(second.localPort).toBe(first.localPort);
      second.response.resume();
    } finally {
      agent.destroy();
    }
  }, 30_000);
});
