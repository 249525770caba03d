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

/**
 * Two servers on one database: playback keeps looked-up autographs for a minute, so a
 * revocation made on one server must reach the other through the revocation signal.
 */
describe('a revocation made on one server stops playback on another', () => {
  let first: TestApp;
  let second: TestApp;
  let token: string;
  let jobId: string;

  beforeAll(async () => {
    first = await startApp();
    token = await passwordToken(first.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelineId = await createPipeline(first, token);
    await makeClip(join(first.storageRoot, 'in', 'movie.mp4'), 2, '160x90');
    jobId = await embedJob(first, token, pipelineId, 'movie.mp4');
    const { host, port, name } = first.connection;
    second = await startApp({
      MONGODB_URI: `mongodb://${host}:${port}/${name}`,
      FILE_ROOTS: first.storageRoot,
    });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  const newSegmentPath = async (tag: string): Promise<{ id: string; segment: string }> => {
    const made = await request(first.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .auth(token, { type: 'bearer' })
      .send({ autograph: { tag } });
    expect(made.status).toBe(201);
    const hls = new URL(made.body.autograph.playback.hls_url as string);
    return {
      id: made.body.autograph.id as string,
      segment: hls.pathname.replace('master.m3u8', '90p/segment_00000.ts'),
    };
  };

  it('within a second, while the other autographs keep playing', async () => {
    const [revoked, kept] = [await newSegmentPath('leaker'), await newSegmentPath('viewer')];
    // The second server has both autographs in its cache.
    expect((await request(second.http).get(revoked.segment)).status).toBe(200);
    expect((await request(second.http).get(kept.segment)).status).toBe(200);

    const deleted = await request(first.http)
      .delete(`/v1/autographs/${revoked.id}`)
      .auth(token, { type: 'bearer' });
    expect(deleted.status).toBe(204);
    expect((await request(first.http).get(revoked.segment)).status).toBe(404); // at once here

    await new Promise((resolve) => setTimeout(resolve, 1500));
    const refused = await request(second.http).get(revoked.segment);
    expect(refused.status).toBe(404);
    expect(refused.body.error.error_code).toBe('PLAYBACK_NOT_FOUND');
    expect((await request(second.http).get(kept.segment)).status).toBe(200);
  });
});
