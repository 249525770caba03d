import { Body, Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import basicAuth from 'basic-auth';
import type { Request } from 'express';
import { Public } from '../common/auth.decorators.js';
import {
  OAuthErrorDto,
  RevokeRequest,
  TokenRequest,
  TokenResponseDto,
} from './dto/token-request.dto.js';
import { OAuthExceptionFilter } from './oauth-exception.filter.js';
import { OAuthRequestPipe } from './oauth-request.pipe.js';
import { type ClientCredentials, OAuthService } from './oauth.service.js';
import { TokensService } from './tokens.service.js';
import { OAuthError } from './oauth-error.js';
import { clientAddress } from '../common/client-address.js';

@ApiTags('oauth')
@Public()
@UseFilters(OAuthExceptionFilter)
@Controller('v1/oauth')
export class OAuthController {
  constructor(
    private readonly oauth: OAuthService,
    private readonly tokens: TokensService,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Get an access token (RFC 6749: password, client_credentials, refresh_token)',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequest })
  @ApiBasicAuth()
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ type: OAuthErrorDto })
  @ApiUnauthorizedResponse({ type: OAuthErrorDto, description: 'invalid_client' })
  @ApiTooManyRequestsResponse({
    type: OAuthErrorDto,
    description: 'Too many failed attempts from this address or for this account (Retry-After).',
  })
  async token(
    @Req() request: Request,
    @Body(new OAuthRequestPipe(TokenRequest)) body: Readonly<TokenRequest>, // Readonly: the global pipe must not refuse unknown parameters here
  ): Promise<TokenResponseDto> {
    return this.oauth.token(body, basicCredentials(request), clientAddress(request));
  }

  @Post('revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an access or refresh token (RFC 7009)' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: RevokeRequest })
  @ApiOkResponse({ description: 'Revoked, or unknown (RFC 7009 answers the same).' })
  async revoke(
    @Body(new OAuthRequestPipe(RevokeRequest)) body: Readonly<RevokeRequest>,
  ): Promise<void> {
    await this.tokens.revoke(body.token);
  }
}

/** RFC 6749 §2.3.1: the Basic credentials are form-encoded before base64. */
function basicCredentials(request: Request): ClientCredentials | null {
  if (!request.headers.authorization?.toLowerCase().startsWith('basic ')) return null;
  const credentials = basicAuth(request);
  if (!credentials)
    throw new OAuthError('invalid_client', 'The HTTP Basic credentials are malformed.');
  try {
    return {
      clientId: decodeURIComponent(credentials.name.replace(/\+/g, ' ')),
      clientSecret: decodeURIComponent(credentials.pass.replace(/\+/g, ' ')),
    };
  } catch {
    throw new OAuthError('invalid_client', 'The HTTP Basic credentials are malformed.');
  }
}
