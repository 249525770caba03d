import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import { WatermarkKeysService } from '../src/watermarking/watermark-keys.service.js';
import { codewordBit } from '../src/watermark/codes.js';
import { parseMediaPlaylist } from '../src/watermark/hls.js';
import { probeMedia } from '../src/watermark/media.js';
import { readFrames } from '../src/watermark/media-frames.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  downloadTo,
  getBytes,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip, runFfmpeg } from './support/media.js';

const SEGMENTS = 8;
const FPS = 25;

/** Mean luma of every decoded frame of a video, at 64x36. */
async function frameMeans(path: string): Promise<number[]> {
  const means: number[] = [];
  for await (const frame of readFrames(path, { width: 64, height: 36, grayOnly: true })) {
    let sum = 0;
    for (const value of frame.data) sum += value;
    means.push(sum / frame.data.length);
  }
  return means;
}

/** Downloads a personal MP4 as a browser in Germany would. */
async function download(http: TestApp['http'], url: string, path: string): Promise<string> {
  const response = await downloadTo(http, url, path, {
    'X-Forwarded-For': '5.9.119.0',
    'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Downloader/1.0',
    'Accept-Language': 'de-DE,de;q=0.9',
  });
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toBe('video/mp4');
  return path;
}

describe('jobs → autographs → playback, downloads and access stats', () => {
  let t: TestApp;
  let token: string;
  let pipelineId: string;
  let jobId: string;
  let workDir: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startApp({ TRUST_PROXY: '1' });
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    workDir = await mkdtemp(join(tmpdir(), 'autograph-downloads-'));
    pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'movie.mp4'), SEGMENTS, '320x180');
  });
  afterAll(() => t.close());

  it('queues a job with renditions and 1 s segments, and refuses to upscale', async () => {
    const upscale = await request(t.http)
      .post('/v1/jobs')
      .set(auth())
      .send({
        job: {
          pipeline: { id: pipelineId },
          input: { input_name: 'movie.mp4' },
          outputs: [{ height: 720 }],
        },
      });
    expect(upscale.status).toBe(400);
    expect(upscale.body.error.error_code).toBe('OUTPUT_UPSCALE');

    const created = await request(t.http)
      .post('/v1/jobs')
      .set(auth())
      .send({
        job: {
          pipeline: { id: pipelineId },
          input: { input_name: 'movie.mp4' },
          autograph: { segment_duration: 1 },
          outputs: [{ height: 144 }, { height: 180 }],
        },
      });
    expect(created.status).toBe(201);
    expect(created.body.job).toMatchObject({
      status: 'QUEUED',
      autograph: { segment_duration: 1 },
      outputs: [{ height: 180 }, { height: 144 }],
    });
    jobId = created.body.job.id;
  });

  it('answers 409 for playback while the job is not ready', async () => {
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autograph: { tag: 'early' } });
    expect(made.status).toBe(201);
    const response = await request(t.http).get(
      new URL(made.body.autograph.playback.hls_url).pathname,
    );
    expect(response.status).toBe(409);
    expect(response.body.error.error_code).toBe('JOB_NOT_READY');
  });

  it('embeds the A/B variants and registers every output', async () => {
    expect(await t.app.get(JobsWorker).processNext()).toBe(true);
    const job = (await request(t.http).get(`/v1/jobs/${jobId}`).set(auth())).body.job;
    expect(job).toMatchObject({
      status: 'SUCCESS',
      percentage_completed: 100,
      segment_count: SEGMENTS,
      outputs: [
        { height: 180, width: 320 },
        { height: 144, width: 256 },
      ],
    });
    expect(job.duration).toBeCloseTo(SEGMENTS, 0);
    expect(job.finished_at).toBeGreaterThanOrEqual(job.created_at);
    // 2 renditions × (2 playlists + 2 × 8 segments + 2 download packages) + the detection
    // reference, plus the original.
    const files = await request(t.http).get('/v1/files').set(auth());
    expect(files.body.total).toBe(2 * (2 + 2 * SEGMENTS + 2) + 1 + 1);
    // The original was hashed by the worker, while it decoded it.
    const original = await request(t.http).get(`/v1/files/${job.file.id}`).set(auth());
    const bytes = readFileSync(join(t.storageRoot, 'in', 'movie.mp4'));
    expect(original.body.file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('creates autographs one by one and in batches, with unique tags per job', async () => {
    const one = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autograph: { tag: 'test_tag' } });
    expect(one.status).toBe(201);
    expect(one.body.autograph).toMatchObject({
      tag: 'test_tag',
      job: { id: jobId },
      playback: {
        hls_url: expect.stringMatching(
          /^http:\/\/127\.0\.0\.1:\d+\/v1\/play\/[0-9a-f]{24}[A-Za-z0-9_-]{43}\/master\.m3u8$/,
        ),
        download_url: expect.stringMatching(/\/download\.mp4$/),
      },
      access_stats: [],
    });
    const batch = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autographs: [{ tag: 'bob' }, {}, { tag: 'carol' }] });
    expect(batch.status).toBe(201);
    expect(batch.body.total).toBe(3);
    expect(batch.body.autographs[1].tag).toMatch(/^autograph_[0-9a-f]{12}$/);

    const before = await t.connection.collection('autographs').countDocuments();
    for (const [body, status, code] of [
      [{ autograph: { tag: 'bob' } }, 409, 'TAG_TAKEN'],
      [{ autographs: [{ tag: 'dave' }, { tag: 'bob' }] }, 409, 'TAG_TAKEN'],
      [{ autographs: [{ tag: 'x' }, { tag: 'x' }] }, 400, 'DUPLICATE_TAG'],
      [{ autograph: { tag: '' } }, 400, 'INVALID_BODY'],
      [{ autograph: { tag: 'bell\u0007' } }, 400, 'INVALID_BODY'],
      [{ autograph: { tag: 'a'.repeat(257) } }, 400, 'INVALID_BODY'],
      [{ autograph: {}, autographs: [{}] }, 400, 'INVALID_BODY'],
      [{}, 400, 'INVALID_BODY'],
    ] as const) {
      const response = await request(t.http)
        .post(`/v1/jobs/${jobId}/autographs`)
        .set(auth())
        .send(body);
      expect([JSON.stringify(body), response.status, response.body.error?.error_code]).toEqual([
        JSON.stringify(body),
        status,
        code,
      ]);
    }
    expect(await t.connection.collection('autographs').countDocuments()).toBe(before);

    // Two batches racing for one tag: exactly one is created whole, nothing of the other stays.
    const racing = await Promise.all(
      [
        ['erin', 'frank'],
        ['gina', 'erin'],
      ].map((tags) =>
        request(t.http)
          .post(`/v1/jobs/${jobId}/autographs`)
          .set(auth())
          .send({ autographs: tags.map((tag) => ({ tag })) }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(racing.find((r) => r.status === 409)?.body.error.error_code).toBe('TAG_TAKEN');
    expect(await t.connection.collection('autographs').countDocuments()).toBe(before + 2);
    const list = await request(t.http)
      .get(`/v1/jobs/${jobId}/autographs?sort=tag&limit=2`)
      .set(auth());
    expect(list.body).toMatchObject({ total: 7, start: 0, limit: 2 });
    expect(list.body.autographs.map((a: { tag: string }) => a.tag)).toEqual(
      [...list.body.autographs.map((a: { tag: string }) => a.tag)].sort(),
    );
  });

  it("lists a job's autographs in the order they were made, from either end, with the total", async () => {
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autographs: ['ls_1', 'ls_2', 'ls_3', 'ls_4'].map((tag) => ({ tag })) })
      .expect(201);
    const tags = (body: { autographs: { tag: string }[] }): string[] =>
      body.autographs.map((a) => a.tag);
    const byId = await request(t.http).get(`/v1/jobs/${jobId}/autographs?sort=id`).set(auth());

    const newest = await request(t.http)
      .get(`/v1/jobs/${jobId}/autographs?direction=-1&limit=3`)
      .set(auth());
    expect(newest.body).toMatchObject({ total: byId.body.total, start: 0, limit: 3 });
    expect(tags(newest.body)).toEqual(['ls_4', 'ls_3', 'ls_2']);
    const oldest = await request(t.http)
      .get(`/v1/jobs/${jobId}/autographs?start=${byId.body.total - 4}&limit=10`)
      .set(auth());
    expect(tags(oldest.body)).toEqual(['ls_1', 'ls_2', 'ls_3', 'ls_4']);
    expect(oldest.body.autographs[0].id).toBe(made.body.autographs[0].id);
    expect(tags(byId.body)).toEqual(
      tags((await request(t.http).get(`/v1/jobs/${jobId}/autographs`).set(auth())).body),
    );
  });

  describe('personal playback', () => {
    let alice: { id: string; playback: { hls_url: string; download_url: string } };
    let bob: { id: string; playback: { hls_url: string; download_url: string } };
    let bits: (autographId: string) => number[];

    beforeAll(async () => {
      const made = await request(t.http)
        .post(`/v1/jobs/${jobId}/autographs`)
        .set(auth())
        .send({ autographs: [{ tag: 'alice' }, { tag: 'bob2' }] });
      [alice, bob] = made.body.autographs;
      const keys = t.app.get(WatermarkKeysService);
      bits = (id) => {
        const codeword = keys.codeword(jobId, id, SEGMENTS);
        return Array.from({ length: SEGMENTS }, (_, i) => codewordBit(codeword, i));
      };
      // Over 8 segments two codewords can coincide (biased bits); bob must differ from alice.
      for (let k = 3; bits(bob.id).join() === bits(alice.id).join(); k++) {
        const another = await request(t.http)
          .post(`/v1/jobs/${jobId}/autographs`)
          .set(auth())
          .send({ autograph: { tag: `bob${k}` } });
        bob = another.body.autograph;
      }
    });

    it('serves RFC 8216 playlists', async () => {
      const base = new URL(alice.playback.hls_url).pathname.replace(/master\.m3u8$/, '');
      const master = await request(t.http).get(`${base}master.m3u8`);
      expect(master.status).toBe(200);
      expect(master.headers['content-type']).toBe('application/vnd.apple.mpegurl; charset=utf-8');
      const lines = master.text.trim().split('\n');
      expect(lines[0]).toBe('#EXTM3U');
      expect(lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF:BANDWIDTH='))).toHaveLength(2);
      expect(lines).toContain('180p/index.m3u8');
      expect(lines.find((l) => l.includes('RESOLUTION=256x144'))).toBeDefined();

      const media = await request(t.http).get(`${base}180p/index.m3u8`);
      expect(media.text).toMatch(
        /^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n/,
      );
      expect(media.text.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
      const segments = parseMediaPlaylist(media.text);
      expect(segments.map((s) => s.uri)).toEqual(
        Array.from({ length: SEGMENTS }, (_, i) => `segment_0000${i}.ts`),
      );
      for (const segment of segments) expect(segment.duration_s).toBeCloseTo(1, 2);
    });

    it('plays in ffmpeg over real HTTP, every rendition of the master playlist', async () => {
      const server = await t.app.listen(0, '127.0.0.1');
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}${new URL(alice.playback.hls_url).pathname}`;
      const log = await runFfmpeg(['-i', url, '-map', '0:v', '-f', 'null', '-']);
      // Two variant streams (180p and 144p), each decoded in full.
      const frames = [...log.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]));
      expect(frames.at(-1)).toBe(SEGMENTS * FPS);
      expect(log).toMatch(/Stream #0:\d+.*Video: h264.* 320x180/);
      expect(log).toMatch(/Stream #0:\d+.*Video: h264.* 256x144/);
    });

    it("serves each segment as the variant of the viewer's codeword bit", async () => {
      const job = await t.connection.collection('jobs').findOne({ status: 'SUCCESS' });
      const result = job?.result as {
        output_dir: string;
        renditions: { height: number; segments: { a: string; b: string }[] }[];
      };
      const rendition = result.renditions.find((r) => r.height === 180)!;
      const base = new URL(alice.playback.hls_url).pathname.replace(/master\.m3u8$/, '');
      const aliceBits = bits(alice.id);
      for (let i = 0; i < SEGMENTS; i++) {
        const served = await getBytes(
          t.http,
          `${base}180p/segment_${String(i).padStart(5, '0')}.ts`,
        )
          .set('X-Forwarded-For', '5.9.119.0')
          .set('User-Agent', 'hls.js test player');
        expect(served.status).toBe(200);
        expect(served.headers['content-type']).toBe('video/mp2t');
        const variant = aliceBits[i] === 1 ? rendition.segments[i].a : rendition.segments[i].b;
        expect((served.body as Buffer).equals(readFileSync(join(result.output_dir, variant)))).toBe(
          true,
        );
      }
      const missing = await request(t.http).get(`${base}180p/segment_00099.ts`);
      expect(missing.status).toBe(404);
      const rendition404 = await request(t.http).get(`${base}1080p/index.m3u8`);
      expect(rendition404.body.error.error_code).toBe('RENDITION_NOT_FOUND');
    });

    it('downloads personal MP4s that differ exactly where the codewords differ', async () => {
      const alicePath = await download(
        t.http,
        `${alice.playback.download_url}?rendition=180p`,
        join(workDir, 'alice.mp4'),
      );
      const bobPath = await download(
        t.http,
        `${bob.playback.download_url}?rendition=180p`,
        join(workDir, 'bob.mp4'),
      );
      const info = await probeMedia(alicePath);
      expect(info).toMatchObject({ width: 320, height: 180, codec: 'h264' });
      expect(info.duration_s).toBeCloseTo(SEGMENTS, 0);

      const [aliceFrames, bobFrames] = await Promise.all([
        frameMeans(alicePath),
        frameMeans(bobPath),
      ]);
      expect(aliceFrames).toHaveLength(SEGMENTS * FPS);
      expect(bobFrames).toHaveLength(SEGMENTS * FPS);
      const aliceBits = bits(alice.id);
      const bobBits = bits(bob.id);
      expect(aliceBits).not.toEqual(bobBits);
      for (let segment = 0; segment < SEGMENTS; segment++) {
        const frames = aliceFrames.slice(segment * FPS, (segment + 1) * FPS);
        const same = frames.every((mean, i) => mean === bobFrames[segment * FPS + i]);
        expect([segment, same]).toEqual([segment, aliceBits[segment] === bobBits[segment]]);
      }
    });

    it('records access stats per viewer: IP, country, type, agent, language, share, resolution, streaming', async () => {
      // Bob streams half of the 144p rendition from a private address.
      const base = new URL(bob.playback.hls_url).pathname.replace(/master\.m3u8$/, '');
      for (let i = 0; i < SEGMENTS / 2; i++) {
        await request(t.http)
          .get(`${base}144p/segment_${String(i).padStart(5, '0')}.ts`)
          .set('X-Forwarded-For', '192.168.1.20')
          .set('User-Agent', 'VLC/3.0.20');
      }
      const aliceStats = (await request(t.http).get(`/v1/autographs/${alice.id}`).set(auth())).body
        .autograph.access_stats;
      // ffmpeg's playback over HTTP (first test) came from 127.0.0.1 with its own user agent.
      expect(aliceStats).toHaveLength(3);
      expect(aliceStats[0]).toMatchObject({
        ip_address: '127.0.0.1',
        ip_type: 'RSV',
        user_agent: expect.stringMatching(/^Lavf\//),
        percentage_obtained: '100%',
        highest_resolution: '180p',
        streaming_only: 'yes',
      });
      expect(aliceStats.slice(1)).toEqual([
        {
          ip_address: '5.9.119.0',
          ip_country: 'Germany',
          ip_type: 'DCH',
          user_agent: 'hls.js test player',
          accept_language: 'N/A',
          first_accessed_at: expect.any(Number),
          percentage_obtained: '100%',
          highest_resolution: '180p',
          streaming_only: 'yes',
        },
        {
          ip_address: '5.9.119.0',
          ip_country: 'Germany',
          ip_type: 'DCH',
          user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Downloader/1.0',
          accept_language: 'de-DE,de;q=0.9',
          first_accessed_at: expect.any(Number),
          percentage_obtained: '100%',
          highest_resolution: '180p',
          streaming_only: 'no',
        },
      ]);
      expect(aliceStats[1].first_accessed_at).toBeLessThanOrEqual(aliceStats[2].first_accessed_at);
      const bobStats = (await request(t.http).get(`/v1/autographs/${bob.id}`).set(auth())).body
        .autograph.access_stats;
      expect(bobStats).toContainEqual(
        expect.objectContaining({
          ip_address: '192.168.1.20',
          ip_country: 'N/A',
          ip_type: 'RSV',
          user_agent: 'VLC/3.0.20',
          percentage_obtained: '50%',
          highest_resolution: '144p',
          streaming_only: 'yes',
        }),
      );
    });

    it('answers 404 for unknown and revoked playback links', async () => {
      expect((await request(t.http).get('/v1/play/not-a-real-token/master.m3u8')).status).toBe(404);
      const revoked = await request(t.http).delete(`/v1/autographs/${bob.id}`).set(auth());
      expect(revoked.status).toBe(204);
      const response = await request(t.http).get(new URL(bob.playback.hls_url).pathname);
      expect(response.status).toBe(404);
      expect(response.body.error.error_code).toBe('PLAYBACK_NOT_FOUND');
      const still = (await request(t.http).get(`/v1/autographs/${bob.id}`).set(auth())).body
        .autograph;
      expect(still.revoked_at).toEqual(expect.any(Number));
    });
  });
});
