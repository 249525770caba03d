import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export const GRANT_TYPES = ['password', 'client_credentials', 'refresh_token'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

const ONCE = { message: '$property must be given once, as a string' };

/** RFC 6749 token request (form-encoded or JSON). Unknown parameters are ignored (§3.1). */
export class TokenRequest {
  @ApiProperty({ enum: GRANT_TYPES })
  @IsString(ONCE)
  grant_type!: string;

  @ApiPropertyOptional({ description: 'password grant: the user email.' })
  @IsOptional()
  @IsString(ONCE)
  @MaxLength(254)
  username?: string;

  @ApiPropertyOptional({ description: 'password grant.' })
  @IsOptional()
  @IsString(ONCE)
  @MaxLength(256)
  password?: string;

  @ApiPropertyOptional({ description: 'refresh_token grant.' })
  @IsOptional()
  @IsString(ONCE)
  @MaxLength(256)
  refresh_token?: string;

  @ApiPropertyOptional({ description: 'Client id, when not sent with HTTP Basic.' })
  @IsOptional()
  @IsString(ONCE)
  @MaxLength(256)
  client_id?: string;

  @ApiPropertyOptional({ description: 'Client secret, when not sent with HTTP Basic.' })
  @IsOptional()
  @IsString(ONCE)
  @MaxLength(256)
  client_secret?: string;

  @ApiPropertyOptional({ enum: ['api'] })
  @IsOptional()
  @IsString(ONCE)
  scope?: string;
}

/** RFC 7009 revocation request. */
export class RevokeRequest {
  @ApiProperty()
  @IsString(ONCE)
  @MaxLength(256)
  token!: string;

  @ApiPropertyOptional({ enum: ['access_token', 'refresh_token'] })
  @IsOptional()
  @IsIn(['access_token', 'refresh_token'])
  token_type_hint?: string;
}

export class TokenResponseDto {
  @ApiProperty() access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
  @ApiProperty({ description: 'Lifetime of the access token in seconds.' }) expires_in!: number;
  @ApiPropertyOptional({ description: 'Issued for the password and refresh_token grants.' })
  refresh_token?: string;
  @ApiProperty({ example: 'api' }) scope!: string;
}

export class OAuthErrorDto {
  @ApiProperty({ example: 'invalid_grant' }) error!: string;
  @ApiProperty() error_description!: string;
}
