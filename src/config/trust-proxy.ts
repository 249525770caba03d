import ipaddr from 'ipaddr.js';

/** Express's own names for address ranges in `trust proxy`. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY in Express's `trust proxy` terms: `false` (no proxy), a hop count (`1` = one
 * proxy in front), or the proxies' addresses (IPs, CIDR ranges, loopback/linklocal/uniquelocal,
 * comma-separated). `true` (believe any X-Forwarded-For) is refused: a client could then name
 * any address it likes. Returns null when the value is none of these.
 */
export function parseTrustProxy(value: string): false | number | string[] | null {
  const text = value.trim();
  if (text === 'false' || text === '0' || text === '') return false;
  if (/^\d{1,2}$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  const valid = entries.every(
    (entry) => RANGE_NAMES.has(entry) || ipaddr.isValid(entry) || isCidr(entry),
  );
  return valid && entries.length > 0 ? entries : null;
}

function isCidr(entry: string): boolean {
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}
