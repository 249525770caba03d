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
      token_hash: sha256(value),
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
    const token = await this.tokens
      .findOne({ token_hash: sha256(refreshToken), type: 'refresh' })
      .lean<Stored<Token>>()
      .exec();
    if (!token) throw invalid();
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
    const id = token._id.toString();
    if (!live || !(await this.spentRefreshTokens.take(`refresh:${id}`, `refresh:${id}`))) {
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
    const token = await this.tokens
      .findOne({ token_hash: sha256(value) })
      .lean<Stored<Token>>()
      .exec();
    if (!token) return;
    if (token.type === 'refresh') return this.revokeGrant(token.grant_id);
    await this.tokens
      .updateOne({ _id: token._id, revoked_at: null }, { $set: { revoked_at: new Date() } })
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
