import { createHash, randomBytes } from 'node:crypto';

/** An opaque credential: 384 random bits, URL-safe (64 characters). */
export function newSecret(): string {
  return randomBytes(48).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
