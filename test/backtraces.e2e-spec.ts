import { XMLParser } from 'fast-xml-parser';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
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
import { runSeedCurl, SEED, seedCurlCommands } from './support/seed.js';

/** Every field of the backtrace example in test/fixtures/backtraces-api.txt, plus the job it belongs to. */
const SEED_FIELDS = [
  'input',
  'pipeline',
  'file',
  'extracted_data',
  'application',
  'status',
  'percentage_completed',
  'error_msg',
  'error_code',
  'finished_at',
  'version',
  'user',
  'created_at',
  'updated_at',
  'id',
  'job',
];
/** Beside the seed's fields: the copies when several, and what the verdict rests on. */
const FIELDS = [...SEED_FIELDS, 'inputs', 'verdict'].sort();

describe('Backtrace API (the contract in test/fixtures/backtraces-api.txt)', () => {
  let t: TestApp;
  let base: string;
  let token: string;
  let pipelineId: string;
  let jobId: string;
  let other: { id: string; token: string };
  let otherPipelineId: string;
  let otherJobId: string;

  const auth = (value = token) => ({ Authorization: `Bearer ${value}` });
  const countBacktraces = () => t.connection.collection('backtraces').countDocuments();

  /** `dir` lies in the caller's storage root (the storage root itself for the admin). */
  async function makePipelineAndJob(bearer: string, dir: string): Promise<[string, string]> {
    mkdirSync(join(dir, 'in'), { recursive: true });
    mkdirSync(join(dir, 'out'), { recursive: true });
    const pipeline = await request(t.http)
      .post('/v1/pipelines')
      .set(auth(bearer))
      .send({
        pipeline: {
          name: basename(dir),
          input: { uri: `file://${dir}/in` },
          output: { uri: `file://${dir}/out` },
        },
      });
    expect(pipeline.status).toBe(201);
    await makeClip(join(dir, 'in', SEED.inputName), 1);
    const job = await request(t.http)
      .post('/v1/jobs')
      .set(auth(bearer))
      .send({
        job: { pipeline: { id: pipeline.body.pipeline.id }, input: { input_name: SEED.inputName } },
      });
    expect(job.status).toBe(201);
    return [pipeline.body.pipeline.id, job.body.job.id];
  }

  const createBacktrace = (
    query = `job_id=${jobId}`,
    body: unknown = {
      backtrace: { pipeline: { id: pipelineId }, input: { input_name: SEED.inputName } },
    },
  ) =>
    request(t.http)
      .post(`/v1/titles/backtraces/?${query}`)
      .set(auth())
      .send(body as object);

  beforeAll(async () => {
    t = await startApp();
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${((t.app.getHttpServer() as import('node:http').Server).address() as AddressInfo).port}`;
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    [pipelineId, jobId] = await makePipelineAndJob(token, join(t.storageRoot, 'studio'));
    other = await createUser(t.http, token, 'other@example.test');
    [otherPipelineId, otherJobId] = await makePipelineAndJob(
      other.token,
      join(t.storageRoot, other.id, 'other'),
    );
  });
  afterAll(() => t.close());

  describe("the Backtrace API document's three curl examples, sent as printed (host, token and ids replaced)", () => {
    const [postCommand, getCommand, listCommand] = seedCurlCommands();
    let createdId: string;

    it('has the three examples', () => {
      expect(seedCurlCommands()).toHaveLength(3);
      expect(postCommand).toContain("'backtrace': {");
    });

    it('POST /v1/titles/backtraces/?job_id=… with the single-quoted body and no JSON content type → 201 QUEUED', async () => {
      const response = await runSeedCurl(postCommand, { host: base, token, pipelineId, jobId });
      expect(response.status).toBe(201);
      expect(response.contentType).toBe('application/json; charset=utf-8');
      expect(response.body).toMatch(/^\{\n {2}"backtrace": \{\n {4}"input"/); // human=true
      const { backtrace } = JSON.parse(response.body);
      expect(Object.keys(backtrace).sort()).toEqual(FIELDS); // show_null=true keeps every field
      expect(backtrace).toEqual({
        input: { input_name: SEED.inputName },
        inputs: null,
        pipeline: { id: pipelineId, href: `${base}/v1/pipelines/${pipelineId}` },
        file: null,
        extracted_data: [],
        application: {
          id: expect.stringMatching(/^[0-9a-f]{24}$/),
          href: expect.stringMatching(`^${base}/v1/applications/`),
        },
        job: { id: jobId, href: `${base}/v1/jobs/${jobId}` },
        verdict: null,
        status: 'QUEUED',
        percentage_completed: 0,
        error_msg: null,
        error_code: null,
        finished_at: null,
        version: 1,
        user: {
          id: expect.stringMatching(/^[0-9a-f]{24}$/),
          href: expect.stringMatching(`^${base}/v1/users/`),
        },
        created_at: expect.any(Number),
        updated_at: backtrace.created_at,
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
      });
      expect(Math.abs(backtrace.created_at - Date.now())).toBeLessThan(60_000);
      createdId = backtrace.id;
    });

    it('GET /v1/titles/backtraces/ID → the same backtrace', async () => {
      const response = await runSeedCurl(getCommand, { host: base, token, backtraceId: createdId });
      expect(response.status).toBe(200);
      const { backtrace } = JSON.parse(response.body);
      expect(Object.keys(backtrace).sort()).toEqual(FIELDS);
      expect(backtrace).toMatchObject({
        id: createdId,
        status: 'QUEUED',
        error_msg: null,
        file: null,
      });
    });

    it('GET /v1/titles/backtraces/ → {backtraces, total, start, limit}', async () => {
      const response = await runSeedCurl(listCommand, { host: base, token });
      expect(response.status).toBe(200);
      const body = JSON.parse(response.body);
      expect(Object.keys(body)).toEqual(['backtraces', 'total', 'start', 'limit']);
      expect(body).toMatchObject({ total: 1, start: 0, limit: 1000 });
      expect(body.backtraces[0].id).toBe(createdId);
    });
  });

  describe('both paths and the output parameters', () => {
    let id: string;
    beforeAll(async () => {
      id = (await createBacktrace()).body.backtrace.id;
    });

    it('answers at /v1/backtraces too', async () => {
      const response = await request(t.http).get(`/v1/backtraces/${id}`).set(auth());
      expect(response.status).toBe(200);
      expect(response.body.backtrace.id).toBe(id);
      const list = await request(t.http).get('/v1/backtraces').set(auth());
      expect(list.body.total).toBe(2);
    });

    it('omits null fields unless show_null=true, and is compact unless human=true', async () => {
      const response = await request(t.http).get(`/v1/titles/backtraces/${id}`).set(auth());
      expect(response.text).not.toContain('\n');
      expect(response.body.backtrace).not.toHaveProperty('error_msg');
      expect(response.body.backtrace).not.toHaveProperty('file');
      expect(response.body.backtrace.extracted_data).toEqual([]);
    });

    it('answers XML with format=xml, mirroring the JSON', async () => {
      const json = await request(t.http)
        .get(`/v1/titles/backtraces/${id}?show_null=true`)
        .set(auth());
      const xml = await request(t.http)
        .get(`/v1/titles/backtraces/${id}?format=xml&show_null=true&human=true`)
        .set(auth());
      expect(xml.status).toBe(200);
      expect(xml.headers['content-type']).toBe('application/xml; charset=utf-8');
      expect(xml.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<backtrace>\n')).toBe(
        true,
      );
      const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: true }).parse(
        xml.text,
      );
      const b = parsed.backtrace;
      const expected = json.body.backtrace;
      expect(b.id).toBe(expected.id);
      expect(b.status).toBe('QUEUED');
      expect(b.percentage_completed).toBe(0);
      expect(b.version).toBe(1);
      expect(b.created_at).toBe(expected.created_at);
      expect(b.input.input_name).toBe(SEED.inputName);
      expect(b.pipeline).toEqual(expected.pipeline);
      expect(b.error_msg).toEqual({ '@_nil': 'true' });
    });

    it('answers XML for Accept: application/xml, and format overrides Accept', async () => {
      const byAccept = await request(t.http)
        .get(`/v1/backtraces/${id}`)
        .set(auth())
        .set('Accept', 'application/xml');
      expect(byAccept.text).toMatch(/^<\?xml[^>]+\?><backtrace><input>/);
      const overridden = await request(t.http)
        .get(`/v1/backtraces/${id}?format=json`)
        .set(auth())
        .set('Accept', 'application/xml');
      expect(overridden.body.backtrace.id).toBe(id);
    });

    it('lists in XML with its own root and one element per item', async () => {
      const xml = await request(t.http).get('/v1/backtraces?format=xml').set(auth());
      const parsed = new XMLParser({ isArray: (name) => name === 'backtrace' }).parse(xml.text);
      expect(parsed.backtraces.total).toBe(2);
      expect(parsed.backtraces.limit).toBe(1000);
      expect(parsed.backtraces.backtrace).toHaveLength(2);
    });

    it('embeds references with expand and expand_all', async () => {
      const expanded = await request(t.http)
        .get(`/v1/backtraces/${id}?expand=user,pipeline`)
        .set(auth());
      const b = expanded.body.backtrace;
      expect(b.user).toMatchObject({ email: ADMIN_EMAIL, role: 'admin' });
      expect(b.pipeline).toMatchObject({
        id: pipelineId,
        name: 'studio',
        input: { uri: expect.stringMatching(/^file:\/\//) },
      });
      expect(b.job).toEqual({ id: jobId, href: expect.stringContaining(`/v1/jobs/${jobId}`) });
      expect(b.pipeline.user).toEqual({ id: b.user.id, href: expect.any(String) }); // one level only

      const all = await request(t.http).get(`/v1/backtraces/${id}?expand_all=true`).set(auth());
      const a = all.body.backtrace;
      expect(a.job).toMatchObject({ id: jobId, status: 'QUEUED' });
      expect(a.job.pipeline).toMatchObject({ id: pipelineId, name: 'studio' });
      expect(a.job.file).toMatchObject({
        size: expect.any(Number),
        media: { width: 320, height: 180 },
      });
      expect(a.job.pipeline.user).toMatchObject({ email: ADMIN_EMAIL });
      expect(a.application).toMatchObject({ name: 'default', user: { email: ADMIN_EMAIL } });
    });
  });

  describe('paging and sorting', () => {
    beforeAll(async () => {
      await createBacktrace();
    });

    it('pages with start and limit, and sorts both ways', async () => {
      const all = await request(t.http)
        .get('/v1/backtraces?sort=created_at&direction=1')
        .set(auth());
      expect(all.body.total).toBe(3);
      const ids = all.body.backtraces.map((b: { id: string }) => b.id);
      const page = await request(t.http).get('/v1/backtraces?start=1&limit=1').set(auth());
      expect(page.body).toMatchObject({ total: 3, start: 1, limit: 1 });
      expect(page.body.backtraces.map((b: { id: string }) => b.id)).toEqual([ids[1]]);
      const reversed = await request(t.http)
        .get('/v1/backtraces?sort=created_at&direction=-1')
        .set(auth());
      expect(reversed.body.backtraces.map((b: { id: string }) => b.id)).toEqual([...ids].reverse());
      const beyond = await request(t.http).get('/v1/backtraces?start=10').set(auth());
      expect(beyond.body).toMatchObject({ backtraces: [], total: 3, start: 10 });
    });

    it.each([
      ['sort=foo', 'sort'],
      ['sort[$gt]=', 'sort[$gt]'],
      ['direction=2', 'direction'],
      ['direction=asc', 'direction'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['start=-1', 'start'],
      ['format=yaml', 'format'],
      ['human=yes', 'human'],
      ['show_null=1', 'show_null'],
      ['expand=user,nonsense', 'expand'],
      ['expand_all=maybe', 'expand_all'],
      ['bogus=1', 'bogus'],
      ['format=json&format=xml', 'format'],
    ])('refuses ?%s naming %s', async (query, parameter) => {
      const response = await request(t.http).get(`/v1/backtraces?${query}`).set(auth());
      expect(response.status).toBe(400);
      expect(response.body.error.error_code).toBe('INVALID_PARAMETER');
      expect(response.body.error.error_msg).toContain(`'${parameter}'`);
    });

    it('reports errors in the requested format', async () => {
      const response = await request(t.http).get('/v1/backtraces?format=xml&limit=abc').set(auth());
      expect(response.status).toBe(400);
      expect(response.text).toMatch(
        /^<\?xml[^>]+\?><error><status>400<\/status><error_code>INVALID_PARAMETER<\/error_code><error_msg>/,
      );
    });
  });

  describe('bad input answers 4xx and changes nothing', () => {
    it.each([
      ['a malformed job_id', 'job_id=123', undefined, 400, 'INVALID_PARAMETER'],
      ['an unknown job', 'job_id=5f0000000000000000000000', undefined, 404, 'JOB_NOT_FOUND'],
      ['no body', 'JOB', {}, 400, 'INVALID_BODY'],
      [
        'an unknown field',
        'JOB',
        {
          backtrace: {
            pipeline: { id: 'PIPE' },
            input: { input_name: 'a.mp4' },
            $where: 'sleep(1)',
          },
        },
        400,
        'INVALID_BODY',
      ],
      [
        'an operator as a value',
        'JOB',
        { backtrace: { pipeline: { id: { $ne: null } }, input: { input_name: 'a.mp4' } } },
        400,
        'INVALID_BODY',
      ],
      [
        'a wrong type',
        'JOB',
        { backtrace: { pipeline: { id: 'PIPE' }, input: { input_name: 42 } } },
        400,
        'INVALID_BODY',
      ],
      ['a missing input', 'JOB', { backtrace: { pipeline: { id: 'PIPE' } } }, 400, 'INVALID_BODY'],
      [
        'both input and inputs',
        'JOB',
        {
          backtrace: {
            pipeline: { id: 'PIPE' },
            input: { input_name: 'a.mp4' },
            inputs: [{ input_name: 'b.mp4' }],
          },
        },
        400,
        'INPUT_AMBIGUOUS',
      ],
      [
        'an empty list of inputs',
        'JOB',
        { backtrace: { pipeline: { id: 'PIPE' }, inputs: [] } },
        400,
        'INVALID_BODY',
      ],
      [
        'one of several inputs escaping the pipeline',
        '',
        {
          backtrace: {
            pipeline: { id: 'PIPE' },
            inputs: [{ input_name: 'a.mp4' }, { input_name: '../../etc/passwd' }],
          },
        },
        400,
        'INVALID_INPUT_NAME',
      ],
      [
        'a path escaping the pipeline',
        'JOB',
        { backtrace: { pipeline: { id: 'PIPE' }, input: { input_name: '../../etc/passwd' } } },
        400,
        'INVALID_INPUT_NAME',
      ],
      [
        'an absolute path',
        'JOB',
        { backtrace: { pipeline: { id: 'PIPE' }, input: { input_name: '/etc/passwd' } } },
        400,
        'INVALID_INPUT_NAME',
      ],
      [
        'an encoded traversal',
        'JOB',
        {
          backtrace: {
            pipeline: { id: 'PIPE' },
            input: { input_name: 'uploads/%2e%2e/%2e%2e/x.mp4' },
          },
        },
        400,
        'INVALID_INPUT_NAME',
      ],
      [
        'an unknown pipeline',
        'JOB',
        {
          backtrace: {
            pipeline: { id: '5f0000000000000000000000' },
            input: { input_name: 'a.mp4' },
          },
        },
        404,
        'PIPELINE_NOT_FOUND',
      ],
    ])('%s', async (_, query, body, status, code) => {
      const before = await countBacktraces();
      const fill = (value: unknown): unknown =>
        JSON.parse(JSON.stringify(value).replace(/"PIPE"/g, `"${pipelineId}"`));
      const response = await createBacktrace(
        query.replace('JOB', `job_id=${jobId}`),
        body === undefined ? undefined : fill(body),
      );
      expect(response.status).toBe(status);
      expect(response.body.error).toEqual({
        status,
        error_code: code,
        error_msg: expect.any(String),
      });
      expect(response.body.error.error_msg.length).toBeGreaterThan(15);
      expect(await countBacktraces()).toBe(before);
    });

    it('refuses malformed JSON and oversized bodies', async () => {
      const before = await countBacktraces();
      const malformed = await request(t.http)
        .post(`/v1/backtraces?job_id=${jobId}`)
        .set(auth())
        .set('Content-Type', 'application/json')
        .send('{"backtrace": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.error_code).toBe('MALFORMED_BODY');
      const huge = await request(t.http)
        .post(`/v1/backtraces?job_id=${jobId}`)
        .set(auth())
        .set('Content-Type', 'application/json')
        .send(
          JSON.stringify({ backtrace: { input: { input_name: 'x'.repeat(2 * 1024 * 1024) } } }),
        );
      expect(huge.status).toBe(413);
      expect(huge.body.error.error_code).toBe('BODY_TOO_LARGE');
      expect(await countBacktraces()).toBe(before);
    });

    it('refuses a malformed id in the path', async () => {
      const response = await request(t.http).get('/v1/backtraces/not-an-id').set(auth());
      expect(response.status).toBe(400);
      expect(response.body.error.error_code).toBe('INVALID_ID');
    });
  });

  describe('isolation between users', () => {
    it("answers 404 for another user's backtrace, job and pipeline", async () => {
      const mine = (await createBacktrace()).body.backtrace.id;
      const before = await countBacktraces();
      const peek = await request(t.http).get(`/v1/backtraces/${mine}`).set(auth(other.token));
      expect(peek.status).toBe(404);
      expect(peek.body.error.error_code).toBe('BACKTRACE_NOT_FOUND');
      const list = await request(t.http).get('/v1/backtraces').set(auth(other.token));
      expect(list.body).toMatchObject({ backtraces: [], total: 0 });

      const foreignJob = await request(t.http)
        .post(`/v1/backtraces?job_id=${jobId}`)
        .set(auth(other.token))
        .send({
          backtrace: { pipeline: { id: otherPipelineId }, input: { input_name: SEED.inputName } },
        });
      expect(foreignJob.status).toBe(404);
      expect(foreignJob.body.error.error_code).toBe('JOB_NOT_FOUND');

      const foreignPipeline = await request(t.http)
        .post(`/v1/backtraces?job_id=${otherJobId}`)
        .set(auth(other.token))
        .send({
          backtrace: { pipeline: { id: pipelineId }, input: { input_name: SEED.inputName } },
        });
      expect(foreignPipeline.status).toBe(404);
      expect(foreignPipeline.body.error.error_code).toBe('PIPELINE_NOT_FOUND');
      expect(await countBacktraces()).toBe(before);

      const own = await request(t.http)
        .post(`/v1/backtraces?job_id=${otherJobId}`)
        .set(auth(other.token))
        .send({
          backtrace: { pipeline: { id: otherPipelineId }, input: { input_name: SEED.inputName } },
        });
      expect(own.status).toBe(201);
      expect(own.body.backtrace.user.id).toBe(other.id);
    });
  });
});
