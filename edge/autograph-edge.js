// Autograph's reference edge for nginx's JavaScript module (njs ≥ 0.7.8): ETSI TS 104 002
// A/B delivery. Every viewer gets the same playlists; each segment request carries the
// viewer's token (CWT, COSE_Mac0 HMAC 256/256) whose WM pattern picks variant A or B.
// `npm run edge:config` copies this file beside the nginx configuration it writes, with two
// preloaded objects: `edge_config` (token keys, jobs: neutral URI → position and variant
// files) and `revoked` (revoked autographs, refreshed by `npm run edge:ship`).
// It also runs under Node (the unit spec checks it against the Node CBOR and COSE libraries).
import crypto from 'crypto';

const CWT_TAG = 61;
const MAC0_TAG = 17;
const HMAC_256_256 = 5;
const CLAIM = { sub: 2, aud: 3, exp: 4, cti: 7, wmver: 300, wmpatlen: 302, wmpattern: 304 };
const TOKEN_HEADER = 'CTA-Common-Access-Token';
const TOKEN_COOKIE = /(?:^|;\s*)wmt=([A-Za-z0-9_-]+)/;

/**
 * Decodes one CBOR item (RFC 8949) of what a CWT holds: integers, byte and text strings,
 * arrays, maps, tags, booleans and null, definite lengths only (deterministic encoding).
 * Maps become objects (integer keys as their decimal text); tags {tag, value}.
 */
function decodeCbor(bytes) {
  let pos = 0;
  function need(n) {
    if (pos + n > bytes.length) throw new Error('truncated CBOR');
  }
  function argument(info) {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (size === 0) throw new Error('unsupported CBOR length');
    need(size);
    let value = 0;
    for (let i = 0; i < size; i += 1) value = value * 256 + bytes[pos + i];
    pos += size;
    return value;
  }
  function item(depth) {
    if (depth > 8) throw new Error('CBOR nested too deep');
    need(1);
    const initial = bytes[pos];
    pos += 1;
    const major = initial >> 5;
    const info = initial & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw new Error('unsupported CBOR simple value');
    }
    const n = argument(info);
    if (major === 0) return n;
    if (major === 1) return -1 - n;
    if (major === 2 || major === 3) {
      need(n);
      const start = pos;
      pos += n;
      return major === 2 ? bytes.slice(start, pos) : bytes.toString('utf8', start, pos);
    }
    if (major === 4) {
      const array = [];
      for (let i = 0; i < n; i += 1) array.push(item(depth + 1));
      return array;
    }
    if (major === 5) {
      const map = {};
      for (let i = 0; i < n; i += 1) {
        const key = item(depth + 1);
        map[String(key)] = item(depth + 1);
      }
      return map;
    }
    return { tag: n, value: item(depth + 1) };
  }
  const value = item(0);
  if (pos !== bytes.length) throw new Error('trailing bytes after CBOR');
  return value;
}

/** The head of a CBOR byte string of `length` bytes. */
function byteStringHead(length) {
  if (length < 24) return Buffer.from([0x40 + length]);
  if (length < 256) return Buffer.from([0x58, length]);
  return Buffer.from([0x59, length >> 8, length & 255]);
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a[i] ^ b[i];
  return difference === 0;
}

/**
 * The claims of a token whose MAC verifies with the key its kid names, or null: the MAC is
 * recomputed over the COSE MAC_structure ["MAC0", protected, h'', payload] (RFC 9052 6.3).
 */
function verifyToken(token, keys) {
  let cwt;
  try {
    cwt = decodeCbor(Buffer.from(token, 'base64url'));
  } catch (e) {
    return null;
  }
  if (!cwt || cwt.tag !== CWT_TAG || !cwt.value || cwt.value.tag !== MAC0_TAG) return null;
  const parts = cwt.value.value;
  if (!Array.isArray(parts) || parts.length !== 4) return null;
  // (njs has no destructuring)
  const protectedBytes = parts[0];
  const unprotectedHeader = parts[1];
  const payload = parts[2];
  const tag = parts[3];
  if (!Buffer.isBuffer(protectedBytes) || !Buffer.isBuffer(payload) || !Buffer.isBuffer(tag)) {
    return null;
  }
  let header;
  try {
    header = decodeCbor(protectedBytes);
  } catch (e) {
    return null;
  }
  const kid = unprotectedHeader && unprotectedHeader['4'];
  const key = Buffer.isBuffer(kid) && keys[kid.toString()];
  if (!header || header['1'] !== HMAC_256_256 || !key) return null;
  const structure = Buffer.concat([
    Buffer.from([0x84, 0x64]), // array(4), text(4)
    Buffer.from('MAC0'),
    byteStringHead(protectedBytes.length),
    protectedBytes,
    Buffer.from([0x40]), // external_aad: empty byte string
    byteStringHead(payload.length),
    payload,
  ]);
  const expected = crypto
    .createHmac('sha256', Buffer.from(key, 'base64'))
    .update(structure)
    .digest();
  if (!sameBytes(expected, tag)) return null;
  try {
    return decodeCbor(payload);
  } catch (e) {
    return null;
  }
}

/** Whether position `position` of a big-endian WM pattern selects variant 1 (B). */
function selectsB(pattern, position) {
  return ((pattern[position >> 3] >> (7 - (position & 7))) & 1) === 1;
}

function tokenOf(r) {
  if (r.variables.wm_path_token) return r.variables.wm_path_token;
  const header = r.headersIn[TOKEN_HEADER];
  if (header) return header;
  const cookie = TOKEN_COOKIE.exec(r.headersIn.Cookie || '');
  return cookie ? cookie[1] : '';
}

/** Refused: the same answer whatever the reason, with no hint of a variant. */
function refuse(r, status) {
  r.headersOut['Access-Control-Allow-Origin'] = '*';
  r.return(status);
}

/**
 * Serves one object of a job: a playlist (the same for everyone) or a segment in the variant
 * the viewer's pattern selects, both by an internal redirect that nginx serves as a file.
 */
function serve(r) {
  if (r.method === 'OPTIONS') {
    r.headersOut['Access-Control-Allow-Origin'] = '*';
    r.headersOut['Access-Control-Allow-Headers'] = TOKEN_HEADER;
    r.headersOut['Access-Control-Max-Age'] = '86400';
    r.return(204);
    return;
  }
  const config = edge_config;
  const jobId = r.variables.wm_job;
  const job = config.jobs[jobId];
  const entry = job && job.objects[r.variables.wm_object];
  if (!entry) {
    r.return(404);
    return;
  }
  const token = tokenOf(r);
  if (!token) {
    refuse(r, 401);
    return;
  }
  const claims = verifyToken(token, config.keys);
  const now = Date.now() / 1000;
  if (
    !claims ||
    claims[CLAIM.wmver] !== 1 ||
    claims[CLAIM.aud] !== jobId ||
    !(claims[CLAIM.exp] > now) ||
    revoked.autographs[claims[CLAIM.sub]]
  ) {
    refuse(r, 403);
    return;
  }
  const position = entry[0];
  const pattern = claims[CLAIM.wmpattern];
  r.variables.wm_autograph = claims[CLAIM.sub];
  r.variables.wm_token_id = Buffer.isBuffer(claims[CLAIM.cti])
    ? claims[CLAIM.cti].toString('hex')
    : '';
  if (position < 0) {
    r.internalRedirect(entry[1]);
    return;
  }
  if (
    !Buffer.isBuffer(pattern) ||
    position >= claims[CLAIM.wmpatlen] ||
    position >= pattern.length * 8
  ) {
    refuse(r, 403);
    return;
  }
  const variantB = selectsB(pattern, position);
  r.variables.wm_position = String(position);
  r.variables.wm_height = String(entry[3]);
  r.internalRedirect(variantB ? entry[2] : entry[1]);
}

// njs 0.7 allows a default export only: the helpers are exported with the handler (for the spec).
export default { serve, decodeCbor, verifyToken, selectsB };
