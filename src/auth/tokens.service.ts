import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { Model, Types } from 'mongoose';
import { Environment } from '../config/environment.js';
import type { Principal } from '../common/principal.js';
import { duplicatePositions } from '../common/duplicate-keys.js';
import { Tickets } from '../common/tickets.js';
import { UsersService } from '../users/users.service.js';
import { OAuthError } from './oauth-error.js';
import { Token, type TokenType } from './schemas/token.schema.js';
import { newSecret, sha256 } from '../common/secrets.js';

/** The one scope there is: the whole API of the token's user. */
export const API_SCOPE = 'api';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

/** How often expired tokens and the tickets of spent refresh tokens are deleted. */
const SWEEP_INTERVAL_MS = 3600_000;
const SPENT_REFRESH_SCOPE = 'spent-refresh-token';
/** The ticket that says tokens written by version 0.1 have been re-keyed. */
export const LEGACY_TOKENS_MIGRATION = 'migration:tokens-keyed-by-hash';

/** A token as read back (its `_id` is the hash of its value). */
type StoredToken = Token & { created_at: Date };

/** Issues, checks, refreshes and revokes opaque OAuth 2.0 tokens (RFC 6749, 6750, 7009). */
@Injectable()
export class TokensService implements OnModuleInit, OnModuleDestroy {
  /** One ticket per spent refresh token: the atomic "spent once" on every compatible server. */
  private readonly spentRefreshTokens: Tickets;
  private sweeper?: NodeJS.Timeout;
  private readonly logger = new Logger(TokensService.name);

  constructor(
    @InjectModel(Token.name) private readonly tokens: Model<Token>,
    private readonly users: UsersService,
    private readonly environment: Environment,
  ) {
    this.spentRefreshTokens = new Tickets(tokens.db);
  }

  async onModuleInit(): Promise<void> {
    await new Tickets(this.tokens.db).runOnce(LEGACY_TOKENS_MIGRATION, () =>
      this.adoptLegacyTokens(),
    );
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.logger.warn(`deleting expired tokens failed: ${(error as Error).message}`),
      );
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /**
   * Version 0.1 kept the hash in `token_hash` beside an ObjectId: re-keys those tokens by their
   * hash (so they keep working) and drops that field's unique index, which would refuse every
   * second token without the field.
   */
  private async adoptLegacyTokens(): Promise<void> {
    const collection = this.tokens.collection;
    if ((await collection.indexExists('token_hash_1').catch(() => false)) === true) {
      await collection.dropIndex('token_hash_1');
    }
    for (;;) {
      const legacy = await collection
        .find({ token_hash: { $exists: true } })
        .limit(100)
        .toArray();
      if (legacy.length === 0) return;
      await collection
        .insertMany(
          legacy.map(({ _id, token_hash, ...token }) => ({ ...token, _id: token_hash as never })),
          { ordered: false },
        )
        .catch(duplicatePositions); // some were re-keyed before a crash
      await collection.deleteMany({ _id: { $in: legacy.map(({ _id }) => _id) } });
    }
  }

  /**
   * Deletes expired tokens (MongoDB's TTL index does too; FerretDB v1 has none) and the tickets
   * of refresh tokens spent longer ago than a refresh token lives: theirs have expired.
   */
  async sweep(): Promise<void> {
    const now = Date.now();
    await this.tokens.deleteMany({ expires_at: { $lt: new Date(now) } }).exec();
    const lifetime = this.environment.REFRESH_TOKEN_TTL_SECONDS * 1000;
    await this.spentRefreshTokens.forgetTakenBefore(SPENT_REFRESH_SCOPE, new Date(now - lifetime));
  }

  /**
   * Issues an access token (and a refresh token) to a user through a client; `grant` carries a
   * refresh-token family on, and says whether the client authenticated.
   */
  async issue(
    userId: Types.ObjectId,
    applicationId: Types.ObjectId | null,
    withRefreshToken: boolean,
    grant: { id?: string; clientAuthenticated: boolean },
  ): Promise<TokenResponse> {
    const grantId = grant.id ?? randomUUID();
    const accessToken = newSecret();
    const refreshToken = withRefreshToken ? newSecret() : undefined;
    const now = Date.now();
    const record = (value: string, type: TokenType, ttlSeconds: number): Partial<Token> => ({
      _id: sha256(value),
      type,
      user: userId,
      application: applicationId,
      grant_id: grantId,
      scope: API_SCOPE,
      expires_at: new Date(now + ttlSeconds * 1000),
      client_authenticated: grant.clientAuthenticated,
    });
    await this.tokens.insertMany([
      record(accessToken, 'access', this.environment.ACCESS_TOKEN_TTL_SECONDS),
      ...(refreshToken
        ? [record(refreshToken, 'refresh', this.environment.REFRESH_TOKEN_TTL_SECONDS)]
        : []),
    ]);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.environment.ACCESS_TOKEN_TTL_SECONDS,
      refresh_token: refreshToken,
      scope: API_SCOPE,
    };
  }

  /** The caller behind a bearer token, or null when it is unknown, expired or revoked. */
  async authenticate(accessToken: string): Promise<Principal | null> {
    const token = await this.findLive(accessToken, 'access');
    if (!token) return null;
    const user = await this.users.findById(token.user);
    if (!user || !this.users.acceptsTokensIssuedAt(user, token.created_at)) return null;
    return { userId: user._id, role: user.role, applicationId: token.application };
  }

  /**
   * Exchanges a refresh token for a new pair. The old refresh token is spent atomically, so
   * a replayed one fails even under a race.
   */
  async refresh(refreshToken: string, clientId: Types.ObjectId | null): Promise<TokenResponse> {
    const invalid = () =>
      new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');
    const token = await this.tokens.findById(sha256(refreshToken)).lean<StoredToken>().exec();
    if (token?.type !== 'refresh') throw invalid();
    if (clientId && !clientId.equals(token.application ?? undefined)) {
      throw new OAuthError('invalid_grant', 'The refresh token was issued to another client.');
    }
    if (token.client_authenticated && !clientId) {
      throw new OAuthError(
        'invalid_client',
        'This refresh token was issued to an application: authenticate as that client (HTTP Basic or client_id/client_secret).',
      );
    }
    // Spent once: of two racing uses, the one taking the ticket wins (a conditional update is
    // not atomic on every compatible server) and the other is a replay.
    const live = !token.revoked_at && token.expires_at > new Date();
    if (
      !live ||
      !(await this.spentRefreshTokens.take(`refresh:${token._id}`, SPENT_REFRESH_SCOPE))
    ) {
      // A spent or revoked refresh token used again: it was stolen, or its thief already used
      // it. Either way the whole family goes (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).
      await this.revokeGrant(token.grant_id);
      throw invalid();
    }
    await this.tokens.updateOne({ _id: token._id }, { $set: { revoked_at: new Date() } }).exec();
    const user = await this.users.findById(token.user);
    if (!user || !this.users.acceptsTokensIssuedAt(user, token.created_at)) throw invalid();
    return this.issue(token.user, token.application, true, {
      id: token.grant_id,
      clientAuthenticated: token.client_authenticated,
    });
  }

  /** Revokes every live token of the filter (a user's, an application's). */
  async revokeAll(filter: { user?: Types.ObjectId; application?: Types.ObjectId }): Promise<void> {
    await this.tokens
      .updateMany({ ...filter, revoked_at: null }, { $set: { revoked_at: new Date() } })
      .exec();
  }

  private async revokeGrant(grantId: string): Promise<void> {
    await this.tokens
      .updateMany({ grant_id: grantId, revoked_at: null }, { $set: { revoked_at: new Date() } })
      .exec();
  }

  /** RFC 7009: revoking an unknown token is not an error. A refresh token takes its grant along. */
  async revoke(value: string): Promise<void> {
    const token = await this.tokens.findById(sha256(value)).lean<StoredToken>().exec();
    if (!token) return;
    if (token.type === 'refresh') return this.revokeGrant(token.grant_id);
    if (token.revoked_at) return;
    await this.tokens.updateOne({ _id: token._id }, { $set: { revoked_at: new Date() } }).exec();
  }

  private async findLive(value: string, type: TokenType): Promise<StoredToken | null> {
    const token = await this.tokens.findById(sha256(value)).lean<StoredToken>().exec();
    const live = token?.type === type && !token.revoked_at && token.expires_at > new Date();
    return live ? token : null;
  }
}
