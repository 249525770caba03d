import { HttpStatus, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { OAuthError } from './oauth-error.js';

/** Failed token requests allowed per client address, and per account, in WINDOW_SECONDS. */
export const FAILURES_PER_ADDRESS = 30;
export const FAILURES_PER_ACCOUNT = 10;
const WINDOW_SECONDS = 15 * 60;

/**
 * Brute-force protection of the token endpoint (RFC 6819 §4.4.3.6, §5.1.4.2.3): failed
 * attempts are counted per client address and per account (the username or client_id tried),
 * in the database so that every instance sees the same counts. Past the limit the endpoint
 * answers 429 with Retry-After until the window has passed; a success clears the account's count.
 */
@Injectable()
export class TokenThrottle implements OnModuleInit {
  private byAddress!: RateLimiterMongo;
  private byAccount!: RateLimiterMongo;

  constructor(@InjectConnection() private readonly connection: Connection) {}

  onModuleInit(): void {
    const limiter = (points: number, keyPrefix: string) =>
      new RateLimiterMongo({
        storeClient: this.connection.db,
        tableName: 'token_failures',
        keyPrefix,
        points,
        duration: WINDOW_SECONDS,
      });
    this.byAddress = limiter(FAILURES_PER_ADDRESS, 'address');
    this.byAccount = limiter(FAILURES_PER_ACCOUNT, 'account');
  }

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
