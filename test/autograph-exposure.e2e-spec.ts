import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Types } from 'mongoose';
import request from 'supertest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  createUser,
  embedJob,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip } from './support/media.js';

const SECRET = 'a-server-secret-for-this-test-only-0123456789';

/**
 * What an autograph gives away (issue 15, items 10 and 11): expansion shows no more than a
 * direct GET would; playback tokens are stored hashed and the server secret is shown nowhere.
 */
describe('autograph exposure', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ AUTOGRAPH_SECRET: SECRET });
  });
  afterAll(() => t.close());

  it("does not embed the admin's application and user in an autograph on a user's job", async () => {
    const admin = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const alice = await createUser(t.http, admin, 'alice@example.test');
    const dir = join(t.storageRoot, alice.id, 'studio');
    const pipelineId = await createPipeline(t, alice.token, dir);
    await makeClip(join(dir, 'in', 'movie.mp4'), 1, '160x90');
    const jobId = await embedJob(t, alice.token, pipelineId, 'movie.mp4');
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .auth(admin, { type: 'bearer' })
      .send({ autograph: { tag: 'made-by-admin' } });
    expect(made.status).toBe(201);

    const seen = await request(t.http)
      .get(`/v1/autographs/${made.body.autograph.id}?expand_all=true`)
      .auth(alice.token, { type: 'bearer' });
    expect(seen.status).toBe(200);
    expect(seen.text).not.toContain(ADMIN_EMAIL);
    const { application, user, job } = seen.body.autograph;
    expect(Object.keys(application).sort()).toEqual(['href', 'id']);
    expect(user.email).toBe('alice@example.test');
    expect(job.user.email).toBe('alice@example.test');
    // A direct GET of that application is a 404 for her, as the expansion now agrees.
    const direct = await request(t.http)
      .get(`/v1/applications/${application.id}`)
      .auth(alice.token, { type: 'bearer' });
    expect(direct.status).toBe(404);
  });

  it('stores playback tokens hashed, finds them by hash, and shows the secret nowhere', async () => {
    const admin = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelineId = await createPipeline(t, admin);
    await makeClip(join(t.storageRoot, 'in', 'short.mp4'), 1, '160x90');
    const jobId = await embedJob(t, admin, pipelineId, 'short.mp4');
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .auth(admin, { type: 'bearer' })
      .send({ autograph: { tag: 'viewer' } });
    const hls = new URL(made.body.autograph.playback.hls_url as string);
    const token = hls.pathname.split('/')[3];

    const stored = await t.connection
      .collection('autographs')
      .findOne({ _id: new Types.ObjectId(made.body.autograph.id as string) });
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored?.playback_token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect((await request(t.http).get(hls.pathname)).status).toBe(200);
    expect((await request(t.http).get(hls.pathname.replace(token, `${token}x`))).status).toBe(404);

    // The same links on every read, and never the secret.
    const answers = await Promise.all(
      [
        `/v1/autographs/${made.body.autograph.id}?expand_all=true`,
        `/v1/jobs/${jobId}/autographs?expand_all=true`,
        `/v1/jobs/${jobId}?expand_all=true`,
      ].map((path) => request(t.http).get(path).auth(admin, { type: 'bearer' })),
    );
    expect(new URL(answers[0].body.autograph.playback.hls_url as string).pathname).toBe(
      hls.pathname,
    );
    for (const answer of answers) expect(answer.text).not.toContain(SECRET);
  });
});
