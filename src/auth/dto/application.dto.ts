import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsString, Length } from 'class-validator';
import { COMMON_SORT_KEYS, ListQuery } from '../../common/dto/query.dto.js';
import { NestedObject } from '../../common/dto/nested-object.decorator.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Ref } from '../../common/refs.js';

export class NewApplication {
  @ApiProperty({ example: 'Leak monitoring' })
  @IsString()
  @Length(1, 256)
  name!: string;
}

export class CreateApplicationBody {
  @ApiProperty({ type: NewApplication })
  @IsDefined({ message: 'application is required: send {"application": {"name": ...}}' })
  @NestedObject(() => NewApplication)
  application!: NewApplication;
}

export class ApplicationDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'OAuth 2.0 client_id.' }) client_id!: string;
  @ApiPropertyOptional({ description: 'OAuth 2.0 client_secret: in the creation response only.' })
  client_secret?: string;
  @ApiProperty({ description: 'Attributed to password-grant tokens that name no client.' })
  is_default!: boolean;
  @ApiProperty({ type: RefDto }) user!: Ref | RefDto;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
}

export class ApplicationEnvelope {
  @ApiProperty({ type: ApplicationDto }) application!: ApplicationDto;
}

export class ApplicationListEnvelope extends ListMetaDto {
  @ApiProperty({ type: [ApplicationDto] }) applications!: ApplicationDto[];
}

export class ApplicationListQuery extends ListQuery([...COMMON_SORT_KEYS, 'name']) {}
