import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsEmail,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { ListMetaDto } from '../../common/dto/ref.dto.js';
import { NestedObject } from '../../common/dto/nested-object.decorator.js';
import { COMMON_SORT_KEYS, ListQuery } from '../../common/dto/query.dto.js';
import type { Role } from '../../common/principal.js';
import { MIN_PASSWORD_LENGTH } from '../../config/password-policy.js';

export class NewUser {
  @ApiProperty({ example: 'owner@example.com' })
  @IsEmail({}, { message: '$property must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH, maxLength: 256 })
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH, {
    message: `$property must be at least ${MIN_PASSWORD_LENGTH} characters long`,
  })
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({ example: 'Studio owner' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  name?: string;
}

export class UserChanges {
  @ApiPropertyOptional({
    minLength: MIN_PASSWORD_LENGTH,
    maxLength: 256,
    description: 'A new password; every token issued before is revoked.',
  })
  @IsOptional()
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH, {
    message: `$property must be at least ${MIN_PASSWORD_LENGTH} characters long`,
  })
  @MaxLength(256)
  password?: string;

  @ApiPropertyOptional({ description: 'Your present password: required to change your own.' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  current_password?: string;

  @ApiPropertyOptional({
    description: 'Admin only: false deactivates the user (no login, every token revoked).',
  })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({
    type: [String],
    example: ['file:///srv/autograph/storage/studio-a/'],
    description:
      "Admin only: the directories this user's pipelines may use (existing, inside FILE_ROOTS); [] = their own default root.",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  storage_roots?: string[];
}

export class UpdateUserBody {
  @ApiProperty({ type: UserChanges })
  @IsDefined({ message: 'user is required: send {"user": {...fields to change}}' })
  @NestedObject(() => UserChanges)
  user!: UserChanges;
}

export class CreateUserBody {
  @ApiProperty({ type: NewUser })
  @IsDefined({ message: 'user is required: send {"user": {"email": ..., "password": ...}}' })
  @NestedObject(() => NewUser)
  user!: NewUser;
}

export class UserDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ enum: ['admin', 'user'] }) role!: Role;
  @ApiProperty({ description: 'False once an admin has deactivated the user.' }) active!: boolean;
  @ApiProperty({
    type: [String],
    example: ['file:///srv/autograph/storage/6650c3e2a4b1f2d3e4f5a6b7/'],
    description: "Where this user's pipelines may read and write (file:// directory URIs).",
  })
  storage_roots!: string[];
  @ApiProperty({ description: 'Epoch milliseconds.' }) created_at!: number;
  @ApiProperty({ description: 'Epoch milliseconds.' }) updated_at!: number;
}

export class UserEnvelope {
  @ApiProperty({ type: UserDto }) user!: UserDto;
}

export class UserListEnvelope extends ListMetaDto {
  @ApiProperty({ type: [UserDto] }) users!: UserDto[];
}

export class UserListQuery extends ListQuery([...COMMON_SORT_KEYS, 'email']) {}
