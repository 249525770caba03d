import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, ValidateNested } from 'class-validator';
import { IdRef, InputName } from '../../common/dto/input.dto.js';
import { COMMON_SORT_KEYS, ListQuery } from '../../common/dto/query.dto.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Ref } from '../../common/refs.js';
import { WorkStateDto } from '../../common/work-state.js';

export class NewJob {
  @ApiProperty({ type: IdRef })
  @IsDefined({ message: 'job.pipeline is required: {"pipeline": {"id": ...}}' })
  @ValidateNested()
  @Type(() => IdRef)
  pipeline!: IdRef;

  @ApiProperty({ type: InputName })
  @IsDefined({ message: 'job.input is required: {"input": {"input_name": ...}}' })
  @ValidateNested()
  @Type(() => InputName)
  input!: InputName;
}

export class CreateJobBody {
  @ApiProperty({ type: NewJob })
  @IsDefined({
    message:
      'job is required: send {"job": {"pipeline": {"id": ...}, "input": {"input_name": ...}}}',
  })
  @ValidateNested()
  @Type(() => NewJob)
  job!: NewJob;
}

export class JobDto extends WorkStateDto {
  @ApiProperty() id!: string;
  @ApiProperty({ type: InputName }) input!: { input_name: string };
  @ApiProperty({ type: RefDto }) pipeline!: Ref | RefDto;
  @ApiPropertyOptional({ type: RefDto, nullable: true, description: 'The registered original.' })
  file!: Ref | RefDto | null;
  @ApiProperty({ type: RefDto }) user!: Ref | RefDto;
  @ApiPropertyOptional({ type: RefDto, nullable: true }) application!: Ref | RefDto | null;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
}

export class JobEnvelope {
  @ApiProperty({ type: JobDto }) job!: JobDto;
}

export class JobListEnvelope extends ListMetaDto {
  @ApiProperty({ type: [JobDto] }) jobs!: JobDto[];
}

export const JOB_SORT_KEYS = [...COMMON_SORT_KEYS, 'status', 'finished_at'] as const;
export class JobListQuery extends ListQuery(JOB_SORT_KEYS) {}
