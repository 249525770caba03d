import request from 'supertest';
import { FAILURES_PER_ACCOUNT, FAILURES_PER_ADDRESS } from '../src/auth/token-throttle.service.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createUser,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';

/** Accounts and tokens under attack (issue 15, items 7 and 8). */
describe('accounts and tokens', () => {
  let t: TestApp;
  let admin: string;
  const login = (username: string, password: string) =>
    request(t.http)
      .post('/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'password', username, password });

  beforeAll(async () => {
    t = await startApp();
    admin = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  const me = (token: string) => request(t.http).get('/v1/users/me').auth(token, { type: 'bearer' });
  const refresh = (refreshToken: string) =>
    request(t.http)
      .post('/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: refreshToken });

  describe('token lifecycle', () => {
    it('revokes the whole family when a spent refresh token is replayed', async () => {
      const first = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
      const second = await refresh(first.body.refresh_token);
      expect(second.status).toBe(200);
      expect((await me(second.body.access_token)).status).toBe(200);
      const replay = await refresh(first.body.refresh_token);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      // The thief's or the victim's newer tokens: all gone.
      expect((await me(second.body.access_token)).status).toBe(401);
      expect((await refresh(second.body.refresh_token)).status).toBe(400);
    });

    it("needs the application's client authentication to refresh its refresh token", async () => {
      const app = await request(t.http)
        .post('/v1/applications')
        .auth(admin, { type: 'bearer' })
        .send({ application: { name: 'player' } });
      const { client_id, client_secret } = app.body.application;
      const issued = await request(t.http)
        .post('/v1/oauth/token')
        .auth(client_id, client_secret)
        .type('form')
        .send({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      expect(issued.status).toBe(200);
      const anonymous = await refresh(issued.body.refresh_token);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('invalid_client');
      const authenticated = await request(t.http)
        .post('/v1/oauth/token')
        .auth(client_id, client_secret)
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token });
      expect(authenticated.status).toBe(200);
    });

    it('takes the access token from the Authorization header only', async () => {
      const inBody = await request(t.http)
        .get('/v1/users/me')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ access_token: admin }));
      expect(inBody.status).toBe(400);
      expect(inBody.body.error.error_code).toBe('TOKEN_NOT_IN_HEADER');
      const inDeleteBody = await request(t.http)
        .delete('/v1/autographs/5f0000000000000000000000')
        .send({ access_token: admin });
      expect(inDeleteBody.status).toBe(400);
      const inQuery = await request(t.http).get(`/v1/users/me?access_token=${admin}`);
      expect(inQuery.status).toBe(400);
    });

    it('lets users change their password, which revokes their tokens', async () => {
      const user = await createUser(t.http, admin, 'changer@example.test');
      const change = (body: object) =>
        request(t.http)
          .patch(`/v1/users/${user.id}`)
          .auth(user.token, { type: 'bearer' })
          .send({ user: body });
      const wrong = await change({ password: 'a-brand-new-password', current_password: 'nope' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.error_code).toBe('WRONG_PASSWORD');
      expect(
        (await change({ password: 'short', current_password: 'user-password-123' })).status,
      ).toBe(400);
      const changed = await change({
        password: 'a-brand-new-password',
        current_password: 'user-password-123',
      });
      expect(changed.status).toBe(200);
      expect((await me(user.token)).status).toBe(401);
      expect((await login('changer@example.test', 'user-password-123')).status).toBe(400);
      expect((await login('changer@example.test', 'a-brand-new-password')).status).toBe(200);
    });

    it('lets an admin, and only an admin, deactivate a user: no login, no token', async () => {
      const user = await createUser(t.http, admin, 'leaver@example.test');
      const self = await request(t.http)
        .patch(`/v1/users/${user.id}`)
        .auth(user.token, { type: 'bearer' })
        .send({ user: { active: false } });
      expect(self.status).toBe(403);
      const deactivated = await request(t.http)
        .patch(`/v1/users/${user.id}`)
        .auth(admin, { type: 'bearer' })
        .send({ user: { active: false } });
      expect(deactivated.status).toBe(200);
      expect(deactivated.body.user.active).toBe(false);
      expect((await me(user.token)).status).toBe(401);
      expect((await login('leaver@example.test', 'user-password-123')).status).toBe(400);
      await request(t.http)
        .patch(`/v1/users/${user.id}`)
        .auth(admin, { type: 'bearer' })
        .send({ user: { active: true } });
      expect((await login('leaver@example.test', 'user-password-123')).status).toBe(200);
    });

    it("rotates or deletes an application's secret, revoking its tokens", async () => {
      const made = await request(t.http)
        .post('/v1/applications')
        .auth(admin, { type: 'bearer' })
        .send({ application: { name: 'monitor' } });
      const { id, client_id, client_secret } = made.body.application;
      const clientToken = async (secret: string) =>
        request(t.http)
          .post('/v1/oauth/token')
          .auth(client_id, secret)
          .type('form')
          .send({ grant_type: 'client_credentials' });
      const before = (await clientToken(client_secret)).body.access_token as string;
      expect((await me(before)).status).toBe(200);
      const rotated = await request(t.http)
        .post(`/v1/applications/${id}/secret`)
        .auth(admin, { type: 'bearer' });
      expect(rotated.status).toBe(200);
      const newSecret = rotated.body.application.client_secret as string;
      expect(newSecret).not.toBe(client_secret);
      expect((await me(before)).status).toBe(401);
      expect((await clientToken(client_secret)).status).toBe(401);
      const after = await clientToken(newSecret);
      expect(after.status).toBe(200);
      const deleted = await request(t.http)
        .delete(`/v1/applications/${id}`)
        .auth(admin, { type: 'bearer' });
      expect(deleted.status).toBe(204);
      expect((await me(after.body.access_token)).status).toBe(401);
    });
  });

  describe('brute force on the token endpoint', () => {
    it('locks an account out after repeated wrong passwords, even for the right one', async () => {
      await createUser(t.http, admin, 'target@example.test');
      for (let i = 0; i < FAILURES_PER_ACCOUNT; i++) {
        expect((await login('target@example.test', `guess-number-${i}`)).status).toBe(400);
      }
      const locked = await login('TARGET@example.test', 'user-password-123');
      expect(locked.status).toBe(429);
      expect(locked.body).toMatchObject({
        error: 'invalid_request',
        error_code: 'TOO_MANY_ATTEMPTS',
      });
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(60);
      // Another account from the same address is not locked out.
      expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD)).status).toBe(200);
    });

    it('limits failures per client address across accounts (credential stuffing)', async () => {
      // Each account is tried once, and successes do not reset the address's count.
      for (let i = 0; i < FAILURES_PER_ADDRESS; i++) {
        const response = await login(`nobody-${i}@example.test`, 'some-password-1');
        expect([400, 429]).toContain(response.status);
      }
      const blocked = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
      expect(blocked.status).toBe(429);
      expect(blocked.headers['retry-after']).toMatch(/^\d+$/);
    });
  });
});
