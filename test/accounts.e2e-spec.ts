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
      // The admin's success above does not reset the address's count.
      for (let i = FAILURES_PER_ACCOUNT; i < FAILURES_PER_ADDRESS; i++) {
        const response = await login(`nobody-${i}@example.test`, 'some-password-1');
        expect(response.status).toBe(400);
      }
      const blocked = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
      expect(blocked.status).toBe(429);
      expect(blocked.headers['retry-after']).toMatch(/^\d+$/);
    });
  });
});
