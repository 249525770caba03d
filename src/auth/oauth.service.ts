import { Injectable } from '@nestjs/common';
import type { Types } from 'mongoose';
import type { Stored } from '../common/paging.js';
import { UsersService } from '../users/users.service.js';
import { ApplicationsService } from './applications.service.js';
import type { TokenRequest } from './dto/token-request.dto.js';
import { OAuthError } from './oauth-error.js';
import type { Application } from './schemas/application.schema.js';
import { TokenThrottle } from './token-throttle.service.js';
import { API_SCOPE, type TokenResponse, TokensService } from './tokens.service.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** The rules of the token endpoint: which grant, which client, which user. */
@Injectable()
export class OAuthService {
  constructor(
    private readonly users: UsersService,
    private readonly applications: ApplicationsService,
    private readonly tokens: TokensService,
    private readonly throttle: TokenThrottle,
  ) {}

  /**
   * Answers a token request from `address`, throttled: failed credentials count against the
   * address and the account tried (TokenThrottle).
   */
  async token(
    request: Readonly<TokenRequest>,
    basic: ClientCredentials | null,
    address: string,
  ): Promise<TokenResponse> {
    const account = request.username ?? basic?.clientId ?? request.client_id ?? null;
    await this.throttle.check(address, account);
    try {
      const response = await this.grant(request, basic);
      await this.throttle.recordSuccess(account);
      return response;
    } catch (error) {
      const wrongCredentials =
        error instanceof OAuthError &&
        (error.oauthCode === 'invalid_grant' || error.oauthCode === 'invalid_client');
      if (wrongCredentials) await this.throttle.recordFailure(address, account);
      throw error;
    }
  }

  private async grant(
    request: Readonly<TokenRequest>,
    basic: ClientCredentials | null,
  ): Promise<TokenResponse> {
    if (request.scope !== undefined && request.scope.split(' ').some((s) => s !== API_SCOPE)) {
      throw new OAuthError(
        'invalid_scope',
        `Unknown scope '${request.scope}': the only scope is '${API_SCOPE}'.`,
      );
    }
    const client = await this.authenticateClient(request, basic);
    switch (request.grant_type) {
      case 'password':
        return this.passwordGrant(request, client);
      case 'client_credentials':
        if (!client) {
          throw new OAuthError(
            'invalid_client',
            'client_credentials needs the client id and secret, with HTTP Basic or client_id/client_secret.',
          );
        }
        if (!(await this.users.isActive(client.user))) {
          throw new OAuthError('invalid_client', 'The owner of this client has been deactivated.');
        }
        return this.tokens.issue(client.user, client._id, false, { clientAuthenticated: true });
      case 'refresh_token':
        if (!request.refresh_token)
          throw new OAuthError('invalid_request', 'refresh_token is required.');
        return this.tokens.refresh(request.refresh_token, client?._id ?? null);
      default:
        throw new OAuthError(
          'unsupported_grant_type',
          `grant_type must be password, client_credentials or refresh_token, not '${request.grant_type}'.`,
        );
    }
  }

  private async passwordGrant(
    request: Readonly<TokenRequest>,
    client: Stored<Application> | null,
  ): Promise<TokenResponse> {
    if (!request.username || !request.password) {
      throw new OAuthError(
        'invalid_request',
        'The password grant needs username (the email) and password.',
      );
    }
    const user = await this.users.verifyCredentials(request.username, request.password);
    if (!user) throw new OAuthError('invalid_grant', 'Wrong email or password.');
    if (client && !client.user.equals(user._id)) {
      throw new OAuthError('unauthorized_client', 'This client belongs to another user.');
    }
    const applicationId: Types.ObjectId =
      client?._id ?? (await this.applications.defaultFor(user._id))._id;
    return this.tokens.issue(user._id, applicationId, true, { clientAuthenticated: !!client });
  }

  /** The client named by HTTP Basic or by the body (never both), or null when none is named. */
  private async authenticateClient(
    request: Readonly<TokenRequest>,
    basic: ClientCredentials | null,
  ): Promise<Stored<Application> | null> {
    if (basic && (request.client_id || request.client_secret)) {
      throw new OAuthError(
        'invalid_request',
        'Send client credentials with HTTP Basic or in the body, not both.',
      );
    }
    const credentials =
      basic ??
      (request.client_id !== undefined
        ? { clientId: request.client_id, clientSecret: request.client_secret ?? '' }
        : null);
    if (!credentials) return null;
    const client = await this.applications.authenticateClient(
      credentials.clientId,
      credentials.clientSecret,
    );
    if (!client) throw new OAuthError('invalid_client', 'Unknown client or wrong client secret.');
    return client;
  }
}
