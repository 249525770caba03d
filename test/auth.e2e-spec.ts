import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Types } from 'mongoose';
import request from 'supertest';
import { LEGACY_TOKENS_MIGRATION, TokensService } from '../src/auth/tokens.service.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createUser,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';

describe('OAuth 2.0, users and applications', () => {
  let t: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await startApp();
    adminToken = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  describe('POST /v1/oauth/token', () => {
    it('issues an opaque bearer token and a refresh token for the password grant (form-encoded)', async () => {
      const response = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        access_token: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/),
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/),
        scope: 'api',
      });
    });

    it('accepts a JSON body and ignores unknown parameters (RFC 6749 §3.1)', async () => {
      const response = await request(t.http).post('/v1/oauth/token').send({
        grant_type: 'password',
        username: ADMIN_EMAIL.toUpperCase(),
        password: ADMIN_PASSWORD,
        extra: 1,
      });
      expect(response.status).toBe(200);
      expect(response.body.token_type).toBe('Bearer');
    });

    it('stores tokens only as SHA-256 hashes', async () => {
      const token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
      const tokens = t.connection.collection('tokens');
      expect(await tokens.countDocuments({ _id: token as never })).toBe(0);
      const stored = await tokens.findOne({
        _id: createHash('sha256').update(token).digest('hex') as never,
      });
      expect(stored?.type).toBe('access');
    });

    it.each([
      [{ grant_type: 'password', username: ADMIN_EMAIL, password: 'wrong' }, 400, 'invalid_grant'],
      [
        { grant_type: 'password', username: 'nobody@example.test', password: 'x' },
        400,
        'invalid_grant',
      ],
      [{ grant_type: 'password', username: ADMIN_EMAIL }, 400, 'invalid_request'],
      [{ grant_type: 'authorization_code', code: 'x' }, 400, 'unsupported_grant_type'],
      [{ username: ADMIN_EMAIL }, 400, 'invalid_request'],
      [{ grant_type: 'client_credentials' }, 401, 'invalid_client'],
      [
        { grant_type: 'client_credentials', client_id: 'nope', client_secret: 'nope' },
        401,
        'invalid_client',
      ],
      [{ grant_type: 'refresh_token', refresh_token: 'nope' }, 400, 'invalid_grant'],
      [
        { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD, scope: 'admin' },
        400,
        'invalid_scope',
      ],
    ])('answers %j with %s %s', async (body, status, error) => {
      const response = await request(t.http).post('/v1/oauth/token').type('form').send(body);
      expect(response.status).toBe(status);
      expect(response.body).toEqual({
        error,
        error_description: expect.any(String),
        error_code: error.toUpperCase(),
        error_msg: response.body.error_description,
      });
    });

    it('refuses a repeated parameter', async () => {
      const response = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send('grant_type=password&grant_type=password&username=a@b.c&password=x');
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    });

    it('exchanges a refresh token once: a replay fails', async () => {
      const first = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      const refreshed = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.access_token).not.toBe(first.body.access_token);
      const me = await request(t.http)
        .get('/v1/users/me')
        .auth(refreshed.body.access_token, { type: 'bearer' });
      expect(me.body.user.email).toBe(ADMIN_EMAIL);
      const replay = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
    });

    it('exchanges a refresh token once even when 20 exchanges race', async () => {
      const first = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      const racing = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(t.http)
            .post('/v1/oauth/token')
            .type('form')
            .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }),
        ),
      );
      expect(racing.map((r) => r.status).sort()).toEqual([200, ...Array(19).fill(400)]);
    });

    it('keeps the tokens of version 0.1 (ObjectId ids, hash in token_hash) working after a restart', async () => {
      const token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
      const hash = createHash('sha256').update(token).digest('hex');
      type Stored = { _id: string | Types.ObjectId; token_hash?: string };
      const tokens = t.connection.collection<Stored>('tokens');
      const stored = await tokens.findOneAndDelete({ _id: hash });
      await tokens.insertOne({ ...stored, _id: new Types.ObjectId(), token_hash: hash });
      await tokens.createIndex({ token_hash: 1 }, { name: 'token_hash_1' });
      expect(
        (await request(t.http).get('/v1/users/me').auth(token, { type: 'bearer' })).status,
      ).toBe(401);

      // As at the first start of this version on 0.1's data (this test app started on none).
      await t.connection.collection<{ _id: string }>('tickets').deleteOne({
        _id: LEGACY_TOKENS_MIGRATION,
      });
      await t.app.get(TokensService).onModuleInit();

      expect(await tokens.indexExists('token_hash_1')).toBe(false);
      expect(await tokens.countDocuments({ token_hash: { $exists: true } })).toBe(0);
      const me = await request(t.http).get('/v1/users/me').auth(token, { type: 'bearer' });
      expect(me.body.user.email).toBe(ADMIN_EMAIL);
    });

    it('deletes expired tokens and the tickets of refresh tokens spent longer ago than they live', async () => {
      const hash = (value: string) => createHash('sha256').update(value).digest('hex');
      const first = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      const spent = first.body.refresh_token as string;
      await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: spent })
        .expect(200);
      const tokens = t.connection.collection<{ _id: string }>('tokens');
      const tickets = t.connection.collection<{ _id: string }>('tickets');
      const ticket = { _id: `refresh:${hash(spent)}` };
      expect(await tickets.countDocuments(ticket)).toBe(1);
      const live = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
      // The access token issued with the spent refresh token expires; the ticket is 31 days old.
      await tokens.updateOne(
        { _id: hash(first.body.access_token) },
        { $set: { expires_at: new Date(Date.now() - 1000) } },
      );
      await tickets.updateOne(ticket, { $set: { at: new Date(Date.now() - 31 * 86_400_000) } });

      await t.app.get(TokensService).sweep();

      expect(await tokens.countDocuments({ _id: hash(first.body.access_token) })).toBe(0);
      expect(await tickets.countDocuments(ticket)).toBe(0);
      expect(await tokens.countDocuments({ _id: hash(live) })).toBe(1);
      // The spent refresh token is still known (it lives 30 days): its replay still fails.
      const replay = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: spent });
      expect(replay.body.error).toBe('invalid_grant');
    });
  });

  describe('bearer authentication', () => {
    const expectUnauthorized = (response: request.Response, code: string): void => {
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(
        /^Bearer realm="autograph", error="invalid_token"/,
      );
      expect(response.body.error).toEqual({
        status: 401,
        error_code: code,
        error_msg: expect.any(String),
      });
    };

    it('refuses a request without a token', async () => {
      expectUnauthorized(await request(t.http).get('/v1/backtraces'), 'TOKEN_REQUIRED');
    });

    it('refuses an unknown token', async () => {
      expectUnauthorized(
        await request(t.http).get('/v1/backtraces').auth('not-a-token', { type: 'bearer' }),
        'INVALID_TOKEN',
      );
    });

    it('refuses an expired token', async () => {
      const token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
      expect(
        (await request(t.http).get('/v1/users/me').auth(token, { type: 'bearer' })).status,
      ).toBe(200);
      await t.connection
        .collection('tokens')
        .updateOne(
          { _id: createHash('sha256').update(token).digest('hex') as never },
          { $set: { expires_at: new Date(Date.now() - 1000) } },
        );
      expectUnauthorized(
        await request(t.http).get('/v1/users/me').auth(token, { type: 'bearer' }),
        'INVALID_TOKEN',
      );
    });

    it('refuses a revoked token (RFC 7009), and revoking an unknown token is not an error', async () => {
      const token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
      const revoked = await request(t.http).post('/v1/oauth/revoke').type('form').send({ token });
      expect(revoked.status).toBe(200);
      expectUnauthorized(
        await request(t.http).get('/v1/users/me').auth(token, { type: 'bearer' }),
        'INVALID_TOKEN',
      );
      expect(
        (await request(t.http).post('/v1/oauth/revoke').type('form').send({ token: 'unknown' }))
          .status,
      ).toBe(200);
    });

    it('revoking a refresh token revokes the access token issued with it', async () => {
      const pair = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      await request(t.http)
        .post('/v1/oauth/revoke')
        .type('form')
        .send({ token: pair.body.refresh_token });
      expectUnauthorized(
        await request(t.http).get('/v1/users/me').auth(pair.body.access_token, { type: 'bearer' }),
        'INVALID_TOKEN',
      );
    });
  });

  describe('users', () => {
    it('lets the admin create users, hashes passwords, refuses duplicates', async () => {
      const created = await request(t.http)
        .post('/v1/users')
        .auth(adminToken, { type: 'bearer' })
        .send({ user: { email: 'Alice@Example.test', password: 'alice-password', name: 'Alice' } });
      expect(created.status).toBe(201);
      expect(created.body.user).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        email: 'alice@example.test',
        name: 'Alice',
        role: 'user',
        active: true,
        storage_roots: [`file://${t.storageRoot}/${created.body.user.id}/`],
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
      });
      const stored = await t.connection
        .collection('users')
        .findOne({ email: 'alice@example.test' });
      expect(stored?.password_hash).toMatch(/^scrypt\$/);
      expect(JSON.stringify(stored)).not.toContain('alice-password');

      const duplicate = await request(t.http)
        .post('/v1/users')
        .auth(adminToken, { type: 'bearer' })
        .send({ user: { email: 'alice@example.test', password: 'another-password' } });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error.error_code).toBe('EMAIL_TAKEN');
    });

    it('validates the user body', async () => {
      const before = await t.connection.collection('users').countDocuments();
      for (const body of [
        {},
        { user: { email: 'not-an-email', password: 'long-enough-pw' } },
        { user: { email: 'x@example.test', password: 'short' } },
        { user: { email: 'x@example.test', password: 'elevenchars' } },
        { user: { email: 'x@example.test', password: 'long-enough-pw', role: 'admin' } },
        { user: { email: { $gt: '' }, password: 'long-enough-pw' } },
      ]) {
        const response = await request(t.http)
          .post('/v1/users')
          .auth(adminToken, { type: 'bearer' })
          .send(body);
        expect(response.status).toBe(400);
        expect(response.body.error.error_code).toBe('INVALID_BODY');
      }
      expect(await t.connection.collection('users').countDocuments()).toBe(before);
      const short = await request(t.http)
        .post('/v1/users')
        .auth(adminToken, { type: 'bearer' })
        .send({ user: { email: 'x@example.test', password: 'elevenchars' } });
      expect(short.body.error.error_msg).toBe('user.password must be at least 12 characters long');
    });

    it('keeps users apart: a user sees only themself and cannot create users', async () => {
      const bob = await createUser(t.http, adminToken, 'bob@example.test');
      const me = await request(t.http).get('/v1/users/me').auth(bob.token, { type: 'bearer' });
      expect(me.body.user).toMatchObject({ id: bob.id, email: 'bob@example.test', role: 'user' });

      const list = await request(t.http).get('/v1/users').auth(bob.token, { type: 'bearer' });
      expect(list.body).toMatchObject({ total: 1, start: 0, limit: 1000 });
      expect(list.body.users.map((u: { id: string }) => u.id)).toEqual([bob.id]);

      const adminMe = await request(t.http)
        .get('/v1/users/me')
        .auth(adminToken, { type: 'bearer' });
      const other = await request(t.http)
        .get(`/v1/users/${adminMe.body.user.id}`)
        .auth(bob.token, { type: 'bearer' });
      expect(other.status).toBe(404);
      expect(other.body.error.error_code).toBe('USER_NOT_FOUND');

      const forbidden = await request(t.http)
        .post('/v1/users')
        .auth(bob.token, { type: 'bearer' })
        .send({ user: { email: 'eve@example.test', password: 'eve-password' } });
      expect(forbidden.status).toBe(403);

      const all = await request(t.http)
        .get('/v1/users?sort=email')
        .auth(adminToken, { type: 'bearer' });
      expect(all.body.total).toBeGreaterThanOrEqual(2);
      const emails = all.body.users.map((u: { email: string }) => u.email);
      expect(emails).toEqual([...emails].sort());
    });
  });

  describe('applications (OAuth clients)', () => {
    it('shows the client secret once and issues client_credentials tokens by Basic or body', async () => {
      const created = await request(t.http)
        .post('/v1/applications')
        .auth(adminToken, { type: 'bearer' })
        .send({ application: { name: 'Leak monitor' } });
      expect(created.status).toBe(201);
      const { id, client_id, client_secret } = created.body.application;
      expect(client_secret).toMatch(/^[A-Za-z0-9_-]{64}$/);

      const fetched = await request(t.http)
        .get(`/v1/applications/${id}`)
        .auth(adminToken, { type: 'bearer' });
      expect(fetched.body.application).toMatchObject({ id, name: 'Leak monitor', client_id });
      expect(fetched.body.application.client_secret).toBeUndefined();
      expect(
        JSON.stringify(await t.connection.collection('applications').findOne({ client_id })),
      ).not.toContain(client_secret);

      const basic = await request(t.http)
        .post('/v1/oauth/token')
        .auth(client_id, client_secret)
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(basic.status).toBe(200);
      expect(basic.body.refresh_token).toBeUndefined();

      const inBody = await request(t.http)
        .post('/v1/oauth/token')
        .type('form')
        .send({ grant_type: 'client_credentials', client_id, client_secret });
      expect(inBody.status).toBe(200);

      // Resources record the application whose token created them.
      mkdirSync(join(t.storageRoot, 'in'), { recursive: true });
      mkdirSync(join(t.storageRoot, 'out'), { recursive: true });
      const pipeline = await request(t.http)
        .post('/v1/pipelines')
        .auth(basic.body.access_token, { type: 'bearer' })
        .send({
          pipeline: {
            name: 'p',
            input: { uri: `file://${t.storageRoot}/in` },
            output: { uri: `file://${t.storageRoot}/out` },
          },
        });
      expect(pipeline.status).toBe(201);
      expect(pipeline.body.pipeline.application.id).toBe(id);

      const wrong = await request(t.http)
        .post('/v1/oauth/token')
        .auth(client_id, 'wrong-secret')
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
      expect(wrong.body.error).toBe('invalid_client');
    });
  });
});
