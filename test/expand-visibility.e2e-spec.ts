import { join } from 'node:path';
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

/** Expansion shows no more than a direct GET would (issue 15, item 10). */
describe('expand across owners', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
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
});
