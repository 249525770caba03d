import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createUser,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip } from './support/media.js';

describe('pipelines, files, jobs, health', () => {
  let t: TestApp;
  let token: string;
  let pipeline: { id: string; input: { uri: string }; output: { uri: string } };
  const auth = (value = token) => ({ Authorization: `Bearer ${value}` });
  const inputDir = () => join(t.storageRoot, 'in');
  const count = (collection: string) => t.connection.collection(collection).countDocuments();

  const createJob = (inputName: string, pipelineId = pipeline.id, bearer = token) =>
    request(t.http)
      .post('/v1/jobs')
      .set(auth(bearer))
      .send({ job: { pipeline: { id: pipelineId }, input: { input_name: inputName } } });

  beforeAll(async () => {
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    for (const dir of ['in', 'out', 'o', 't/in', 't/out']) {
      mkdirSync(join(t.storageRoot, dir), { recursive: true });
    }
    const created = await request(t.http)
      .post('/v1/pipelines')
      .set(auth())
      .send({
        pipeline: {
          name: 'Studio',
          input: { uri: `file://${inputDir()}` },
          output: { uri: `file://${t.storageRoot}/out/` },
        },
      });
    expect(created.status).toBe(201);
    pipeline = created.body.pipeline;
    await makeClip(join(inputDir(), 'uploads', 'movie.mp4'), 2);
  });
  afterAll(() => t.close());

  it('GET /health checks the database', async () => {
    const response = await request(t.http).get('/health');
    expect(response.status).toBe(200);
    expect(response.text).toBe('{"status":"ok"}');
  });

  it('answers an unknown route with a 404 in the envelope', async () => {
    const response = await request(t.http).get('/v1/nothing-here').set(auth());
    expect(response.status).toBe(404);
    expect(response.body.error.error_code).toBe('ROUTE_NOT_FOUND');
  });

  it.each([
    ['GET', 'bogus=1', "unknown query parameter 'bogus'"],
    ['GET', 'expand=nothing', "query parameter 'expand' lists an unknown reference"],
    ['POST', 'format=yaml', "query parameter 'format' must be json or xml"],
    ['POST', 'human=maybe', "query parameter 'human' must be true or false"],
  ])(
    'refuses %s with ?%s on a route without a query of its own',
    async (method, query, message) => {
      const before = await count('pipelines');
      const response =
        method === 'GET'
          ? await request(t.http).get(`/v1/pipelines/${pipeline.id}?${query}`).set(auth())
          : await request(t.http)
              .post(`/v1/pipelines?${query}`)
              .set(auth())
              .send({
                pipeline: { name: 'never', input: pipeline.input, output: pipeline.output },
              });
      expect(response.status).toBe(400);
      expect(response.body.error.error_code).toBe('INVALID_PARAMETER');
      expect(response.body.error.error_msg).toContain(message);
      expect(await count('pipelines')).toBe(before);
    },
  );

  describe('pipelines', () => {
    it('stores canonical directory URIs inside FILE_ROOTS', () => {
      expect(pipeline.input.uri).toBe(`file://${inputDir()}/`);
      expect(pipeline.output.uri).toBe(`file://${t.storageRoot}/out/`);
    });

    it.each([
      ['outside every root', 'file:///etc/', 'URI_OUTSIDE_ROOTS'],
      ['escaping with ..', 'file://ROOT/../../etc', 'URI_OUTSIDE_ROOTS'],
      ['another scheme', 'http://example.com/videos', 'UNSUPPORTED_URI'],
      ['a bare path', '/srv/videos', 'UNSUPPORTED_URI'],
      ['an encoded slash', 'file://ROOT/a%2Fb', 'INVALID_URI'],
    ])('refuses an input URI %s', async (_, uri, code) => {
      const before = await count('pipelines');
      const response = await request(t.http)
        .post('/v1/pipelines')
        .set(auth())
        .send({
          pipeline: {
            name: 'x',
            input: { uri: uri.replace('ROOT', t.storageRoot) },
            output: { uri: `file://${t.storageRoot}/o` },
          },
        });
      expect(response.status).toBe(400);
      expect(response.body.error.error_code).toBe(code);
      expect(await count('pipelines')).toBe(before);
    });

    it('refuses a directory reached through a symlink that leads outside the roots', async () => {
      symlinkSync('/etc', join(t.storageRoot, 'etc-link'));
      const response = await request(t.http)
        .post('/v1/pipelines')
        .set(auth())
        .send({
          pipeline: {
            name: 'x',
            input: { uri: `file://${t.storageRoot}/etc-link` },
            output: { uri: `file://${t.storageRoot}/o` },
          },
        });
      expect(response.status).toBe(400);
      expect(response.body.error.error_code).toBe('URI_OUTSIDE_ROOTS');
    });

    it('updates, refuses to delete while used, deletes when unused', async () => {
      const made = await request(t.http)
        .post('/v1/pipelines')
        .set(auth())
        .send({
          pipeline: {
            name: 'temp',
            input: { uri: `file://${t.storageRoot}/t/in` },
            output: { uri: `file://${t.storageRoot}/t/out` },
          },
        });
      const id = made.body.pipeline.id as string;
      const renamed = await request(t.http)
        .patch(`/v1/pipelines/${id}`)
        .set(auth())
        .send({ pipeline: { name: 'renamed' } });
      expect(renamed.status).toBe(200);
      expect(renamed.body.pipeline).toMatchObject({
        id,
        name: 'renamed',
        input: made.body.pipeline.input,
      });
      const badPatch = await request(t.http)
        .patch(`/v1/pipelines/${id}`)
        .set(auth())
        .send({ pipeline: { input: { uri: 'file:///tmp' } } });
      expect(badPatch.status).toBe(400);
      expect(
        (await request(t.http).get(`/v1/pipelines/${id}`).set(auth())).body.pipeline.input,
      ).toEqual(made.body.pipeline.input);

      expect((await createJob('uploads/movie.mp4')).status).toBe(201);
      const inUse = await request(t.http).delete(`/v1/pipelines/${pipeline.id}`).set(auth());
      expect(inUse.status).toBe(409);
      expect(inUse.body.error.error_code).toBe('PIPELINE_IN_USE');
      expect((await request(t.http).get(`/v1/pipelines/${pipeline.id}`).set(auth())).status).toBe(
        200,
      );

      const deleted = await request(t.http).delete(`/v1/pipelines/${id}`).set(auth());
      expect(deleted.status).toBe(204);
      expect((await request(t.http).get(`/v1/pipelines/${id}`).set(auth())).status).toBe(404);
    });

    it('keeps pipelines apart between users', async () => {
      const other = await createUser(t.http, token, 'other@example.test');
      expect(
        (await request(t.http).get(`/v1/pipelines/${pipeline.id}`).set(auth(other.token))).status,
      ).toBe(404);
      expect(
        (
          await request(t.http)
            .patch(`/v1/pipelines/${pipeline.id}`)
            .set(auth(other.token))
            .send({ pipeline: { name: 'mine' } })
        ).status,
      ).toBe(404);
      expect(
        (await request(t.http).delete(`/v1/pipelines/${pipeline.id}`).set(auth(other.token)))
          .status,
      ).toBe(404);
      expect((await request(t.http).get('/v1/pipelines').set(auth(other.token))).body.total).toBe(
        0,
      );
      const job = await createJob('uploads/movie.mp4', pipeline.id, other.token);
      expect(job.status).toBe(404);
      expect(job.body.error.error_code).toBe('PIPELINE_NOT_FOUND');
    });
  });

  describe('jobs and files', () => {
    it('queues a job and registers its original as a file with size and media info', async () => {
      const response = await createJob('uploads/movie.mp4');
      expect(response.status).toBe(201);
      const job = response.body.job;
      expect(job).toMatchObject({
        input: { input_name: 'uploads/movie.mp4' },
        pipeline: { id: pipeline.id },
        status: 'QUEUED',
        percentage_completed: 0,
        version: 1,
      });
      const file = (
        await request(t.http).get(`/v1/files/${job.file.id}?show_null=true`).set(auth())
      ).body.file;
      expect(file).toMatchObject({
        uri: `file://${inputDir()}/uploads/movie.mp4`,
        size: statSync(join(inputDir(), 'uploads', 'movie.mp4')).size,
        // Hashed by the worker, which reads the file anyway: the request does not wait for it.
        sha256: null,
        media: { width: 320, height: 180, codec: 'h264', frame_rate: 25 },
      });
      expect(file.media.duration).toBeCloseTo(2, 1);

      const files = await request(t.http).get('/v1/files?sort=size&direction=-1').set(auth());
      expect(files.body.total).toBeGreaterThanOrEqual(1);
      const jobs = await request(t.http).get('/v1/jobs?expand=file,pipeline').set(auth());
      const listed = jobs.body.jobs.find((j: { id: string }) => j.id === job.id);
      expect(listed.file.uri).toBe(file.uri);
      expect(listed.pipeline.name).toBe('Studio');
    });

    it('refuses bad inputs with a clear error and registers nothing', async () => {
      mkdirSync(join(inputDir(), 'bad'), { recursive: true });
      writeFileSync(join(inputDir(), 'bad', 'notes.mp4'), 'this is text, not a video\n');
      writeFileSync(join(inputDir(), 'bad', 'empty.mp4'), '');
      symlinkSync('/etc/hostname', join(inputDir(), 'bad', 'link.mp4'));
      // A playlist whose segment is a file outside the roots (here: the output of another job).
      writeFileSync(
        join(inputDir(), 'bad', 'playlist.m3u8'),
        `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile://${inputDir()}/uploads/movie.mp4\n#EXT-X-ENDLIST\n`,
      );
      const jobsBefore = await count('jobs');
      const filesBefore = await count('files');
      for (const [name, code] of [
        ['uploads/missing.mp4', 'INPUT_NOT_FOUND'],
        ['bad/notes.mp4', 'INPUT_NOT_VIDEO'],
        ['bad/empty.mp4', 'INPUT_EMPTY'],
        ['bad/playlist.m3u8', 'INPUT_NOT_VIDEO'],
        ['bad', 'INPUT_NOT_A_FILE'],
        ['bad/link.mp4', 'INVALID_INPUT_NAME'],
        ['../out/x.mp4', 'INVALID_INPUT_NAME'],
        ['uploads/%2e%2e/%2e%2e/x.mp4', 'INVALID_INPUT_NAME'],
        [`file://${t.storageRoot}/out/x.mp4`, 'INVALID_INPUT_NAME'],
      ]) {
        const response = await createJob(name);
        expect([name, response.status, response.body.error?.error_code]).toEqual([name, 400, code]);
      }
      const unknownPipeline = await createJob('uploads/movie.mp4', '5f0000000000000000000000');
      expect(unknownPipeline.status).toBe(404);
      expect(await count('jobs')).toBe(jobsBefore);
      expect(await count('files')).toBe(filesBefore);
    });

    it('accepts a file:// URI inside the pipeline input', async () => {
      const response = await createJob(`file://${inputDir()}/uploads/movie.mp4`);
      expect(response.status).toBe(201);
    });
  });
});
