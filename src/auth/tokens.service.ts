import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { Model, Types } from 'mongoose';
import { Environment } from '../config/environment.js';
import type { Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { Tickets } from '../common/tickets.js';
import { UsersService } from '../users/users.service.js';
import { OAuthError } from './oauth-error.js';
import { Token, type TokenType } from './schemas/token.schema.js';
import { newSecret, sha256 } from './secrets.js';

/** The one scope there is: the whole API of the token's user. */
export const API_SCOPE = 'api';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

/** Issues, checks, refreshes and revokes opaque OAuth 2.0 tokens (RFC 6749, 6750, 7009). */
@Injectable()
export class TokensService {
  /** One ticket per spent refresh token: the atomic "spent once" on every compatible server. */
  private readonly spentRefreshTokens: Tickets;

  constructor(
    @InjectModel(Token.name) private readonly tokens: Model<Token>,
    private readonly users: UsersService,
    private readonly environment: Environment,
  ) {
    this.spentRefreshTokens = new Tickets(tokens.db);
  }

  async issue(
    userId: Types.ObjectId,
    applicationId: Types.ObjectId | null,
    withRefreshToken: boolean,
  ): Promise<TokenResponse> {
    const grantId = randomUUID();
    const accessToken = newSecret();
    const refreshToken = withRefreshToken ? newSecret() : undefined;
    const now = Date.now();
    const record = (value: string, type: TokenType, ttlSeconds: number): Partial<Token> => ({
      token_hash: sha256(value),
      type,
      user: userId,
      application: applicationId,
      grant_id: grantId,
      scope: API_SCOPE,
      expires_at: new Date(now + ttlSeconds * 1000),
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
    if (!user) return null;
    return { userId: user._id, role: user.role, applicationId: token.application };
  }

  /**
   * Exchanges a refresh token for a new pair. The old refresh token is spent atomically, so
   * a replayed one fails even under a race.
   */
  async refresh(refreshToken: string, clientId: Types.ObjectId | null): Promise<TokenResponse> {
    const spent = await this.findLive(refreshToken, 'refresh');
    const id = spent?._id.toString();
    if (!spent || !(await this.spentRefreshTokens.take(`refresh:${id}`, `refresh:${id}`))) {
      throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');
    }
    await this.tokens.updateOne({ _id: spent._id }, { $set: { revoked_at: new Date() } }).exec();
    if (clientId && !clientId.equals(spent.application ?? undefined)) {
      throw new OAuthError('invalid_grant', 'The refresh token was issued to another client.');
    }
    return this.issue(spent.user, spent.application, true);
  }

  /** RFC 7009: revoking an unknown token is not an error. A refresh token takes its grant along. */
  async revoke(value: string): Promise<void> {
    const token = await this.tokens
      .findOne({ token_hash: sha256(value) })
      .lean<Stored<Token>>()
      .exec();
    if (!token) return;
    const filter = token.type === 'refresh' ? { grant_id: token.grant_id } : { _id: token._id };
    await this.tokens
      .updateMany({ ...filter, revoked_at: null }, { $set: { revoked_at: new Date() } })
      .exec();
  }

  private async findLive(value: string, type: TokenType): Promise<Stored<Token> | null> {
    return this.tokens
      .findOne({
        token_hash: sha256(value),
        type,
        revoked_at: null,
        expires_at: { $gt: new Date() },
      })
      .lean<Stored<Token>>()
      .exec();
  }
}
