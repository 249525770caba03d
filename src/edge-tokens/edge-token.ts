import cbor from 'cbor';
import cose from 'cose-js';

/**
 * Claim keys of the edge token: RFC 8392's registered claims and ETSI TS 104 002's
 * watermarking claims (its table 1).
 */
export const CLAIM = {
  iss: 1,
  sub: 2,
  aud: 3,
  exp: 4,
  iat: 6,
  cti: 7,
  wmver: 300,
  wmvnd: 301,
  wmpatlen: 302,
  wmsegduration: 303,
  wmpattern: 304,
} as const;

/** The token version ETSI TS 104 002 V1.1.1 describes. */
export const WM_VERSION = 1;
/** wmvnd: the standard's vendor registry has no entry for this project; 0 = unregistered. */
export const WM_VENDOR = 0;
/** CBOR tag of a CWT (RFC 8392 section 6), wrapping the COSE_Mac0 (tag 17). */
const CWT_TAG = 61;
const ISSUER = 'autograph';

/** What an edge token says (direct mode: the pattern itself travels in the token). */
export interface EdgeClaims {
  /** Token id (cti), 16 random bytes, hex: the edge logs it. */
  tokenId: string;
  autographId: string;
  jobId: string;
  issuedAt: number;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** Bit p (big-endian, as the standard addresses it) = the variant of position p: 0 A, 1 B. */
  pattern: Uint8Array;
  patternLength: number;
  /** Nominal segment duration in milliseconds (wmsegduration [ticks, 1000]). */
  segmentDurationMs: number;
}

/**
 * The WM pattern of a codeword: position p carries variant 0 (A) when codeword bit p is 1,
 * else 1 (B), the standard's variant numbering, bit p of byte p >> 3 counted from the most
 * significant bit.
 */
export function patternOf(variantOf: (position: number) => 'a' | 'b', length: number): Uint8Array {
  const pattern = new Uint8Array(Math.ceil(length / 8));
  for (let position = 0; position < length; position += 1) {
    if (variantOf(position) === 'b') pattern[position >> 3] |= 0x80 >> (position & 7);
  }
  return pattern;
}

/** The variant (0 = A, 1 = B) a pattern selects at `position`. */
export function variantAt(pattern: Uint8Array, position: number): 0 | 1 {
  return ((pattern[position >> 3] >> (7 - (position & 7))) & 1) as 0 | 1;
}

/**
 * An edge token: the claims as deterministically encoded CBOR with integer keys, MAC'd as a
 * COSE_Mac0 (HMAC 256/256) tagged as a CWT, base64url, as ETSI TS 104 002 clause 5.4 asks.
 * `kid` names the key, so an edge can hold the keys of several owners.
 */
export async function createEdgeToken(
  claims: EdgeClaims,
  key: Buffer,
  kid: string,
): Promise<string> {
  const payload = cbor.encodeCanonical(
    new Map<number, unknown>([
      [CLAIM.iss, ISSUER],
      [CLAIM.sub, claims.autographId],
      [CLAIM.aud, claims.jobId],
      [CLAIM.exp, claims.expiresAt],
      [CLAIM.iat, claims.issuedAt],
      [CLAIM.cti, Buffer.from(claims.tokenId, 'hex')],
      [CLAIM.wmver, WM_VERSION],
      [CLAIM.wmvnd, WM_VENDOR],
      [CLAIM.wmpatlen, claims.patternLength],
      [CLAIM.wmsegduration, [claims.segmentDurationMs, 1000]],
      [CLAIM.wmpattern, Buffer.from(claims.pattern)],
    ]),
  );
  const mac0 = await cose.mac.create(
    { p: { alg: 'SHA-256' }, u: { kid: Buffer.from(kid) } },
    payload as unknown as string, // cose-js takes bytes; its typings say string
    { key },
  );
  const cwt = cbor.encode(new cbor.Tagged(CWT_TAG, cbor.decodeFirstSync(mac0)));
  return cwt.toString('base64url');
}

/** The claims of a token whose MAC `key` verifies; throws otherwise (expiry is not checked). */
export async function readEdgeToken(token: string, key: Buffer): Promise<EdgeClaims> {
  const tagged = cbor.decodeFirstSync(Buffer.from(token, 'base64url')) as cbor.Tagged;
  if (!(tagged instanceof cbor.Tagged) || tagged.tag !== CWT_TAG) throw new Error('not a CWT');
  const payload = await cose.mac.read(cbor.encode(tagged.value), key);
  const claims = cbor.decodeFirstSync(payload) as Map<number, unknown>;
  const [duration] = claims.get(CLAIM.wmsegduration) as [number, number];
  return {
    tokenId: (claims.get(CLAIM.cti) as Buffer).toString('hex'),
    autographId: claims.get(CLAIM.sub) as string,
    jobId: claims.get(CLAIM.aud) as string,
    issuedAt: claims.get(CLAIM.iat) as number,
    expiresAt: claims.get(CLAIM.exp) as number,
    pattern: claims.get(CLAIM.wmpattern) as Buffer,
    patternLength: claims.get(CLAIM.wmpatlen) as number,
    segmentDurationMs: duration,
  };
}
