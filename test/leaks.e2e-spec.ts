import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { EmbeddedFerretDb } from '../src/database/embedded-ferretdb.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';

/** What clients learn of the server's insides (issue 15, item 9): a short reason, no more. */
describe('no information leaks, 503 during a database outage', () => {
  let t: TestApp;
  let token: string;
  let pipelineId: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    if (process.env.E2E_MONGODB_URI ?? process.env.MONGODB_URI) {
      throw new Error('this file stops the embedded database: run it without MONGODB_URI');
    }
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    pipelineId = await createPipeline(t, token);
  });
  afterAll(() => t.close());

  it("answers INPUT_NOT_VIDEO with a short reason, not ffprobe's output", async () => {
    mkdirSync(join(t.storageRoot, 'in'), { recursive: true });
    writeFileSync(join(t.storageRoot, 'in', 'notes.mp4'), 'text, not a video\n');
    writeFileSync(
      join(t.storageRoot, 'in', 'list.m3u8'),
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n',
    );
    for (const name of ['notes.mp4', 'list.m3u8']) {
      const response = await request(t.http)
        .post('/v1/jobs')
        .set(auth())
        .send({ job: { pipeline: { id: pipelineId }, input: { input_name: name } } });
      expect(response.status).toBe(400);
      expect(response.body.error.error_code).toBe('INPUT_NOT_VIDEO');
      expect(response.body.error.error_msg).toContain(name);
      // No memory addresses, demuxer names, whitelists or server paths.
      expect(response.body.error.error_msg).not.toMatch(
        /0x[0-9a-f]{4,}|@|whitelist|moov|Invalid data|\/tmp\//,
      );
    }
  });

  it('tells anonymous callers nothing about the database, and answers 503 while it is down', async () => {
    await t.app.get(EmbeddedFerretDb).stop();
    const health = await request(t.http).get('/health');
    expect(health.status).toBe(503);
    expect(health.body.error.error_code).toBe('DATABASE_UNAVAILABLE');
    expect(health.text).not.toMatch(/\d+\.\d+\.\d+\.\d+|localhost|ECONN|mongo/i);

    const api = await request(t.http).get('/v1/jobs').set(auth());
    expect(api.status).toBe(503);
    expect(api.body.error.error_code).toBe('DATABASE_UNAVAILABLE');
    expect(api.headers['retry-after']).toBe('10');
  });
});
