import { AccessStatDto } from '../../autographs/dto/autograph.dto.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsMongoId } from 'class-validator';
import { IdRef, InputName } from '../../common/dto/input.dto.js';
import { COMMON_SORT_KEYS, ListQuery, OutputQuery } from '../../common/dto/query.dto.js';
import { NestedObject } from '../../common/dto/nested-object.decorator.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Ref } from '../../common/refs.js';
import { WorkStateDto } from '../../common/work-state.js';

export class NewBacktrace {
  @ApiProperty({ type: IdRef, description: 'The pipeline whose input directory holds the copy.' })
  @IsDefined({ message: 'backtrace.pipeline is required: {"pipeline": {"id": ...}}' })
  @NestedObject(() => IdRef)
  pipeline!: IdRef;

  @ApiProperty({ type: InputName })
  @IsDefined({ message: 'backtrace.input is required: {"input": {"input_name": ...}}' })
  @NestedObject(() => InputName)
  input!: InputName;
}

export class CreateBacktraceBody {
  @ApiProperty({ type: NewBacktrace })
  @IsDefined({
    message:
      'backtrace is required: send {"backtrace": {"pipeline": {"id": ...}, "input": {"input_name": ...}}}',
  })
  @NestedObject(() => NewBacktrace)
  backtrace!: NewBacktrace;
}

export class CreateBacktraceQuery extends OutputQuery {
  @ApiProperty({ description: 'The job id of the original video the copy to trace belongs to.' })
  @IsDefined({ message: 'job_id is required: the id of the job of the original video' })
  @IsMongoId({ message: 'job_id must be a 24-character hexadecimal id' })
  job_id!: string;
}

export class ExtractedDataDto {
  @ApiProperty({ example: 'test_tag' }) autograph_tag!: string;
  @ApiProperty({ type: [AccessStatDto] }) access_stats!: AccessStatDto[];
  @ApiProperty({ description: 'Normalised collusion-resistant (Tardos) score of the autograph.' })
  score!: number;
  @ApiProperty({ description: 'Score above which an innocent is accused with probability < 1e-6.' })
  threshold!: number;
  @ApiProperty({ description: 'Segments of the original timeline found in the copy.' })
  segments_observed!: number;
}

/** Field order follows the example of test/fixtures/backtraces-api.txt. */
export class BacktraceDto extends WorkStateDto {
  @ApiProperty({ type: InputName }) input!: { input_name: string };
  @ApiProperty({ type: RefDto }) pipeline!: Ref | RefDto;
  @ApiPropertyOptional({
    type: RefDto,
    nullable: true,
    description: 'The suspect copy, once read.',
  })
  file!: Ref | RefDto | null;
  @ApiProperty({ type: [ExtractedDataDto] }) extracted_data!: ExtractedDataDto[];
  @ApiPropertyOptional({ type: RefDto, nullable: true }) application!: Ref | RefDto | null;
  @ApiProperty({ type: RefDto }) job!: Ref | RefDto;
  @ApiProperty({ type: RefDto }) user!: Ref | RefDto;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
  @ApiProperty() id!: string;
}

export class BacktraceEnvelope {
  @ApiProperty({ type: BacktraceDto }) backtrace!: BacktraceDto;
}

export class BacktraceListEnvelope extends ListMetaDto {
  @ApiProperty({ type: [BacktraceDto] }) backtraces!: BacktraceDto[];
}

export const BACKTRACE_SORT_KEYS = [
  ...COMMON_SORT_KEYS,
  'status',
  'finished_at',
  'percentage_completed',
] as const;
export class BacktraceListQuery extends ListQuery(BACKTRACE_SORT_KEYS) {}
