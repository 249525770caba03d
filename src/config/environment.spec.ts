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
    expect(validateEnvironment({ PORT: '8080', TRUST_PROXY: 'true' })).toMatchObject({
      PORT: 8080,
      TRUST_PROXY: true,
    });
  });

  it('names every bad variable', () => {
    expect(() =>
      validateEnvironment({ PORT: 'eighty', MONGODB_URI: 'postgres://x', ADMIN_PASSWORD: 'short' }),
    ).toThrow(/PORT[\s\S]*MONGODB_URI must start with mongodb:\/\/[\s\S]*ADMIN_PASSWORD/);
  });
});
