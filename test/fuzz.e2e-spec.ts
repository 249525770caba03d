import fc from 'fast-check';
import { readFileSync } from 'node:fs';
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

/**
 * Schema-driven fuzzing of every operation in openapi/openapi.json (issue 15, item 6): path
 * parameters, query parameters and bodies drawn from the documented schemas, mostly well-typed,
 * often not, with real ids mixed in, sent with real tokens. Whatever the client sends, the
 * answer is never a 5xx.
 */
interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  allOf?: Schema[];
  example?: unknown;
}
interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

const document = JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
);
const RUNS_PER_OPERATION = 60;

function resolve(schema: Schema): Schema {
  let resolved = schema;
  while (resolved.$ref) resolved = document.components.schemas[resolved.$ref.split('/').pop()!];
  return resolved;
}

describe('schema-driven fuzzing: no 5xx on any endpoint', () => {
  let t: TestApp;
  let tokens: string[];
  /** Real ids and names, so that generated requests reach past the 404s. */
  let known: string[];

  beforeAll(async () => {
    t = await startApp();
    const admin = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const user = await createUser(t.http, admin, 'fuzz@example.test');
    const pipelineId = await createPipeline(t, admin);
    await makeClip(join(t.storageRoot, 'in', 'movie.mp4'), 1, '160x90');
    const jobId = await embedJob(t, admin, pipelineId, 'movie.mp4');
    const autograph = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .auth(admin, { type: 'bearer' })
      .send({ autograph: { tag: 'fuzz' } });
    const playToken = new URL(autograph.body.autograph.playback.hls_url as string).pathname.split(
      '/',
    )[3];
    tokens = [admin, admin, admin, user.token, ''];
    known = [
      user.id,
      pipelineId,
      jobId,
      autograph.body.autograph.id,
      playToken,
      'movie.mp4',
      '90p',
      'segment_00000.ts',
      `file://${t.storageRoot}/in`,
      '../../etc/passwd',
    ];
  });
  afterAll(() => t.close());

  const strings = () =>
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(...known),
      fc.stringMatching(/^[0-9a-f]{24}$/),
      fc.constantFrom('', ' ', '0', '-1', '2147483648', '1e309', 'true', 'null', '[]', '{}'),
    );
  const numbers = () =>
    fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, Number.MAX_VALUE));

  /** Values for `schema`: mostly of its type, sometimes any JSON at all. */
  function valueOf(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
    const s = resolve(schema);
    // The wrong types clients really send: empty containers, null, and any JSON at all.
    const anything = fc.oneof(
      fc.constantFrom([], {}, null, '', 0, true, [[]]),
      fc.jsonValue({ maxDepth: 2 }),
    );
    if (depth > 5) return anything;
    let typed: fc.Arbitrary<unknown>;
    if (s.oneOf) typed = fc.oneof(...s.oneOf.map((option) => valueOf(option, depth + 1)));
    else if (s.allOf) typed = valueOf(s.allOf[0], depth + 1);
    else if (s.enum) typed = fc.constantFrom(...s.enum);
    else if (s.properties || s.type === 'object') {
      const properties = Object.entries(s.properties ?? {});
      typed = fc.record(
        Object.fromEntries(properties.map(([name, sub]) => [name, valueOf(sub, depth + 1)])),
        { requiredKeys: (s.required ?? []).filter((name) => s.properties?.[name]) },
      );
    } else if (s.type === 'array') {
      typed = fc.array(valueOf(s.items ?? {}, depth + 1), { maxLength: 3 });
    } else if (s.type === 'string') typed = strings();
    else if (s.type === 'integer' || s.type === 'number') typed = numbers();
    else if (s.type === 'boolean') typed = fc.boolean();
    else typed = anything;
    return fc.oneof({ weight: 3, arbitrary: typed }, { weight: 1, arbitrary: anything });
  }

  /** A query value as a client writes it: a string, from the parameter's schema or not. */
  const queryValue = (schema: Schema = {}) =>
    fc.oneof(
      valueOf(schema).map((value) => (typeof value === 'string' ? value : JSON.stringify(value))),
      strings(),
    );

  const requestFor = (path: string, operation: Operation) => {
    const parameters = operation.parameters ?? [];
    const pathParams = fc.record(
      Object.fromEntries(parameters.filter((p) => p.in === 'path').map((p) => [p.name, strings()])),
    );
    const query = fc.record(
      Object.fromEntries(
        parameters.filter((p) => p.in === 'query').map((p) => [p.name, queryValue(p.schema)]),
      ),
      { requiredKeys: [] },
    );
    const extraQuery = fc.option(fc.tuple(fc.string({ maxLength: 12 }), fc.string()));
    const bodySchema = Object.values(operation.requestBody?.content ?? {})[0]?.schema;
    const body = bodySchema ? valueOf(bodySchema) : fc.constant(undefined);
    return fc.record({
      url: fc.tuple(pathParams, query, extraQuery).map(([values, q, extra]) => {
        const search = new URLSearchParams(q as Record<string, string>);
        if (extra) search.append(...extra);
        const filled = path.replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent(values[name]),
        );
        return `${filled}?${search.toString()}`;
      }),
      body,
      token: fc.constantFrom(...tokens),
    });
  };

  it(`answers ${operations.length} operations × ${RUNS_PER_OPERATION} generated requests without a 5xx`, async () => {
    let cases = 0;
    for (const { path, method, operation } of operations) {
      await fc.assert(
        fc.asyncProperty(requestFor(path, operation), async ({ url, body, token }) => {
          cases++;
          let call = request(t.http)[method as 'get' | 'post' | 'patch' | 'delete'](url);
          if (token) call = call.auth(token, { type: 'bearer' });
          if (body !== undefined)
            call = call.set('Content-Type', 'application/json').send(JSON.stringify(body));
          const response = await call;
          if (response.status >= 500) {
            throw new Error(
              `${method.toUpperCase()} ${url} ${JSON.stringify(body)} → ${response.status} ${response.text.slice(0, 300)}`,
            );
          }
        }),
        { numRuns: RUNS_PER_OPERATION },
      );
    }
    expect(cases).toBe(operations.length * RUNS_PER_OPERATION);
  });
});
