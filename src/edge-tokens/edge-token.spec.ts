import cbor from 'cbor';
import { randomBytes } from 'node:crypto';
import edge from '../../edge/autograph-edge.js';
import { CLAIM, createEdgeToken, patternOf, readEdgeToken, variantAt } from './edge-token.js';

const { decodeCbor, selectsB, verifyToken } = edge;

const key = randomBytes(32);
const keys = { owner: key.toString('base64') };
const variants = Array.from({ length: 45 }, (_, i) => ((i * 7) % 3 === 0 ? 'b' : 'a'));
const claims = {
  tokenId: randomBytes(16).toString('hex'),
  autographId: '65f000000000000000000001',
  jobId: '65f000000000000000000002',
  issuedAt: 1_700_000_000,
  expiresAt: 1_700_003_600,
  pattern: patternOf((position) => variants[position], variants.length),
  patternLength: variants.length,
  segmentDurationMs: 2000,
};

describe('edge tokens (CWT, COSE_Mac0) and the njs edge script reading them', () => {
  it('round-trips through cose-js, and the edge script verifies the MAC and reads the claims', async () => {
    const token = await createEdgeToken(claims, key, 'owner');
    expect(await readEdgeToken(token, key)).toEqual({
      ...claims,
      pattern: Buffer.from(claims.pattern),
    });
    const read = verifyToken(token, keys);
    expect(read).not.toBeNull();
    expect(read?.[CLAIM.sub]).toBe(claims.autographId);
    expect(read?.[CLAIM.aud]).toBe(claims.jobId);
    expect(read?.[CLAIM.exp]).toBe(claims.expiresAt);
    expect(read?.[CLAIM.wmver]).toBe(1);
    expect(read?.[CLAIM.wmpatlen]).toBe(45);
    expect((read?.[CLAIM.cti] as Buffer).toString('hex')).toBe(claims.tokenId);
    expect(read?.[CLAIM.wmsegduration]).toEqual([2000, 1000]);
    const pattern = read?.[CLAIM.wmpattern] as Buffer;
    variants.forEach((variant, position) => {
      expect(selectsB(pattern, position)).toBe(variant === 'b');
      expect(variantAt(claims.pattern, position)).toBe(variant === 'b' ? 1 : 0);
    });
  });

  it('addresses pattern bits big-endian, as ETSI TS 104 002 does (0x0A: position 4 is 1)', () => {
    const pattern = Uint8Array.from([0x0a]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((p) => selectsB(pattern, p))).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      true,
      false,
    ]);
  });

  it('refuses a token with any byte changed, another key, or another kid', async () => {
    const token = await createEdgeToken(claims, key, 'owner');
    const bytes = Buffer.from(token, 'base64url');
    for (let i = 0; i < bytes.length; i += 1) {
      const tampered = Buffer.from(bytes);
      tampered[i] ^= 0x01;
      expect(verifyToken(tampered.toString('base64url'), keys)).toBeNull();
    }
    expect(verifyToken(token, { owner: randomBytes(32).toString('base64') })).toBeNull();
    expect(verifyToken(await createEdgeToken(claims, key, 'other'), keys)).toBeNull();
    expect(verifyToken('not a token', keys)).toBeNull();
    expect(verifyToken('', keys)).toBeNull();
  });

  it('decodes what the cbor library encodes canonically', () => {
    const value = new Map<number, unknown>([
      [1, 'text ü'],
      [-3, -1_000_000],
      [24, Buffer.from([1, 2, 3])],
      [65_536, [true, false, null, 2 ** 40]],
      [300, new Map([[7, []]])],
    ]);
    expect(decodeCbor(cbor.encodeCanonical(value))).toEqual({
      '1': 'text ü',
      '-3': -1_000_000,
      '24': Buffer.from([1, 2, 3]),
      '65536': [true, false, null, 2 ** 40],
      '300': { '7': [] },
    });
    expect(() => decodeCbor(Buffer.from([0x83, 0x01]))).toThrow('truncated');
    expect(() => decodeCbor(Buffer.from([0x01, 0x02]))).toThrow('trailing');
  });
});
