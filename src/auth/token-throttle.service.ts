import { HttpStatus, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { OAuthError } from './oauth-error.js';

/** Failed token requests allowed per client address, and per account, in WINDOW_SECONDS. */
export const FAILURES_PER_ADDRESS = 30;
export const FAILURES_PER_ACCOUNT = 10;
const WINDOW_SECONDS = 15 * 60;

const limiter = (points: number, keyPrefix: string) =>
  new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_SECONDS });

/**
 * Brute-force protection of the token endpoint (RFC 6819 §4.4.3.6, §5.1.4.2.3): failed
 * attempts are counted per client address and per account (the username or client_id tried).
 * Past the limit the endpoint answers 429 with Retry-After until the window has passed; a
 * success clears the account's count.
 *
 * The counts live in this process's memory: rate-limiter-flexible's database store counts with
 * an upserting findOneAndUpdate `$inc`, which FerretDB v1 runs as a read followed by a write, so
 * parallel failures would be lost there, exactly what an attacker would send. In memory every
 * failure counts; with N instances the limits are N times as high.
 */
@Injectable()
export class TokenThrottle {
  private readonly byAddress = limiter(FAILURES_PER_ADDRESS, 'address');
  private readonly byAccount = limiter(FAILURES_PER_ACCOUNT, 'account');

  /** 429 when the address or the account has used up its failures. */
  async check(address: string, account: string | null): Promise<void> {
    const [byAddress, byAccount] = await Promise.all([
      this.byAddress.get(address),
      account ? this.byAccount.get(account.toLowerCase()) : null,
    ]);
    const blocked = [
      [byAddress, FAILURES_PER_ADDRESS],
      [byAccount, FAILURES_PER_ACCOUNT],
    ].filter(
      (entry): entry is [RateLimiterRes, number] =>
        entry[0] !== null && (entry[0] as RateLimiterRes).consumedPoints >= (entry[1] as number),
    );
    if (blocked.length === 0) return;
    const retryAfter = Math.ceil(Math.max(...blocked.map(([res]) => res.msBeforeNext)) / 1000);
    throw new OAuthError(
      'invalid_request',
      `Too many failed attempts: try again in ${retryAfter} s.`,
      {
        status: HttpStatus.TOO_MANY_REQUESTS,
        code: 'TOO_MANY_ATTEMPTS',
        headers: { 'Retry-After': String(Math.max(1, retryAfter)) },
      },
    );
  }

  async recordFailure(address: string, account: string | null): Promise<void> {
    await Promise.all([
      this.byAddress.penalty(address, 1),
      account ? this.byAccount.penalty(account.toLowerCase(), 1) : null,
    ]);
  }

  async recordSuccess(account: string | null): Promise<void> {
    if (account) await this.byAccount.delete(account.toLowerCase());
  }
}
