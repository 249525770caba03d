import { join } from 'node:path';
import request from 'supertest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  embedJob,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip } from './support/media.js';

/** Access records are evidence: only what was delivered, from whom (issue 15, item 5). */
describe('access records', () => {
  let t: TestApp;
  let admin: string;
  let jobId: string;
  const SEGMENTS = 3;

  /** A fresh autograph: its id and the path prefix of its playback URLs. */
  async function viewer(tag: string): Promise<{ id: string; base: string }> {
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .auth(admin, { type: 'bearer' })
      .send({ autograph: { tag } });
    const hls = new URL(made.body.autograph.playback.hls_url as string);
    return { id: made.body.autograph.id, base: hls.pathname.replace(/master\.m3u8$/, '') };
  }
  const statsOf = async (id: string) =>
    (await request(t.http).get(`/v1/autographs/${id}`).auth(admin, { type: 'bearer' })).body
      .autograph.access_stats as { ip_address: string; percentage_obtained: string }[];

  beforeAll(async () => {
    t = await startApp({ TRUST_PROXY: '1' });
    admin = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelineId = await createPipeline(t, admin);
    await makeClip(join(t.storageRoot, 'in', 'movie.mp4'), SEGMENTS, '160x90');
    jobId = await embedJob(t, admin, pipelineId, 'movie.mp4');
  });
  afterAll(() => t.close());

  it('records nothing for HEAD requests', async () => {
    const { id, base } = await viewer('head');
    expect((await request(t.http).head(`${base}download.mp4`)).status).toBe(200);
    expect((await request(t.http).head(`${base}90p/segment_00000.ts`)).status).toBe(200);
    expect(await statsOf(id)).toEqual([]);
  });

  it('does not count byte ranges as segments obtained', async () => {
    const { id, base } = await viewer('ranges');
    for (let segment = 0; segment < SEGMENTS; segment++) {
      for (let i = 0; i < 10; i++) {
        const response = await request(t.http)
          .get(`${base}90p/segment_${String(segment).padStart(5, '0')}.ts`)
          .set('Range', `bytes=${i}-${i}`);
        expect(response.status).toBe(206);
      }
    }
    expect(await statsOf(id)).toEqual([]);
  });

  it('counts a segment whose one range covered all of it', async () => {
    const { id, base } = await viewer('whole-range');
    const response = await request(t.http)
      .get(`${base}90p/segment_00001.ts`)
      .set('Range', 'bytes=0-');
    expect(response.status).toBe(206);
    expect((await statsOf(id)).map((stat) => stat.percentage_obtained)).toEqual([
      `${Math.floor(100 / SEGMENTS)}%`,
    ]);
  });

  it('records a whole segment once it was sent, and nothing for a failed request', async () => {
    const { id, base } = await viewer('whole');
    expect((await request(t.http).get(`${base}90p/segment_00099.ts`)).status).toBe(404);
    expect((await request(t.http).get(`${base}90p/segment_00000.ts`)).status).toBe(200);
    const stats = await statsOf(id);
    expect(stats).toHaveLength(1);
    expect(stats[0].percentage_obtained).toBe(`${Math.round(100 / SEGMENTS)}%`);
  });

  it('records the address the trusted proxy saw, not what the client claims', async () => {
    const { id, base } = await viewer('forged');
    await request(t.http)
      .get(`${base}90p/segment_00000.ts`)
      .set('X-Forwarded-For', '8.8.8.8, 127.0.0.1');
    expect((await statsOf(id)).map((stat) => stat.ip_address)).toEqual(['127.0.0.1']);
  });
});
