import { validateEnvironment } from './environment.js';

describe('validateEnvironment', () => {
  it('gives every setting a default', () => {
    const environment = validateEnvironment({});
    expect(environment).toMatchObject({
      PORT: 3000,
      FILE_ROOTS: './data/storage',
      ACCESS_TOKEN_TTL_SECONDS: 3600,
      BODY_LIMIT_BYTES: 1048576,
      TRUST_PROXY: false,
    });
    expect(environment.MONGODB_URI).toBeUndefined();
  });

  it('converts numbers and booleans', () => {
    expect(validateEnvironment({ PORT: '8080', WORKERS_ENABLED: 'false' })).toMatchObject({
      PORT: 8080,
      WORKERS_ENABLED: false,
    });
  });

  it('takes a false-accusation bound up to 1e-3, default 1e-6', () => {
    const bound = (value?: string) =>
      validateEnvironment({ FALSE_ACCUSATION_PROBABILITY: value }).FALSE_ACCUSATION_PROBABILITY;
    expect(bound()).toBe(1e-6);
    expect(bound('1e-9')).toBe(1e-9);
    expect(bound('0.0005')).toBe(0.0005);
    expect(() => bound('0.01')).toThrow(/FALSE_ACCUSATION_PROBABILITY must be at most 1e-3/);
    expect(() => bound('0')).toThrow(/FALSE_ACCUSATION_PROBABILITY must be above 0/);
    expect(() => bound('tiny')).toThrow(/FALSE_ACCUSATION_PROBABILITY must be a number/);
  });

  it('reads TRUST_PROXY as Express does, as a hop count or the proxies, never as "trust all"', () => {
    const trust = (value: string) => validateEnvironment({ TRUST_PROXY: value }).TRUST_PROXY;
    expect(trust('false')).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('10.0.0.1, 10.0.0.0/8,loopback,::1')).toEqual([
      '10.0.0.1',
      '10.0.0.0/8',
      'loopback',
      '::1',
    ]);
    for (const bad of ['true', 'yes', '10.0.0.300', 'loopback,nowhere']) {
      expect(() => trust(bad)).toThrow(/TRUST_PROXY must be false, the number of proxies/);
    }
  });

  it('keeps connections open longer than the proxies in front, headers a little longer', () => {
    expect(validateEnvironment({})).toMatchObject({
      KEEP_ALIVE_TIMEOUT_MS: 65_000,
      HEADERS_TIMEOUT_MS: 66_000,
    });
    expect(validateEnvironment({ KEEP_ALIVE_TIMEOUT_MS: '120000' }).HEADERS_TIMEOUT_MS).toBe(
      121_000,
    );
    expect(() =>
      validateEnvironment({ KEEP_ALIVE_TIMEOUT_MS: '70000', HEADERS_TIMEOUT_MS: '60000' }),
    ).toThrow(/HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS/);
  });

  it('names every bad variable', () => {
    expect(() =>
      validateEnvironment({ PORT: 'eighty', MONGODB_URI: 'postgres://x', ADMIN_PASSWORD: 'short' }),
    ).toThrow(/PORT[\s\S]*MONGODB_URI must start with mongodb:\/\/[\s\S]*ADMIN_PASSWORD/);
  });
});
