import { AccessStatDto } from '../../autographs/dto/autograph.dto.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsMongoId,
  IsOptional,
  ValidateIf,
} from 'class-validator';
import { IdRef, InputName } from '../../common/dto/input.dto.js';
import { COMMON_SORT_KEYS, ListQuery, OutputQuery } from '../../common/dto/query.dto.js';
import { NestedObject, NestedObjects } from '../../common/dto/nested-object.decorator.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Ref } from '../../common/refs.js';
import { WorkStateDto } from '../../common/work-state.js';

/** Copies of one leak a backtrace takes at most. */
export const MAX_COPIES = 10;

export class NewBacktrace {
  @ApiProperty({ type: IdRef, description: 'The pipeline whose input directory holds the copy.' })
  @IsDefined({ message: 'backtrace.pipeline is required: {"pipeline": {"id": ...}}' })
  @NestedObject(() => IdRef)
  pipeline!: IdRef;

  @ApiPropertyOptional({ type: InputName, description: 'The copy to trace (or give `inputs`).' })
  @ValidateIf((backtrace: NewBacktrace) => backtrace.inputs === undefined)
  @IsDefined({
    message:
      'backtrace.input is required: {"input": {"input_name": ...}}, or {"inputs": [{"input_name": ...}, ...]} for several copies of one leak',
  })
  @NestedObject(() => InputName)
  input?: InputName;

  @ApiPropertyOptional({
    type: [InputName],
    description: `Several copies of one leak (up to ${MAX_COPIES}), each aligned on its own and their evidence combined per segment; instead of \`input\`.`,
  })
  @IsOptional()
  @IsArray({ message: '$property must be a list of {"input_name": ...}' })
  @ArrayMinSize(1, { message: '$property must name at least one copy' })
  @ArrayMaxSize(MAX_COPIES, { message: `$property may name at most ${MAX_COPIES} copies` })
  @NestedObjects(() => InputName)
  inputs?: InputName[];
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
  @ApiPropertyOptional({
    description:
      "The job id of the original video the copy to trace belongs to. Without it the worker finds it among the caller's succeeded jobs (ORIGINAL_NOT_FOUND if none matches).",
  })
  @IsOptional()
  @IsMongoId({ message: 'job_id must be a 24-character hexadecimal id' })
  job_id?: string;
}

export class ExtractedDataDto {
  @ApiProperty({ example: 'test_tag' }) autograph_tag!: string;
  @ApiProperty({ type: [AccessStatDto] }) access_stats!: AccessStatDto[];
  @ApiProperty({ description: 'Normalised collusion-resistant (Tardos) score of the autograph.' })
  score!: number;
  @ApiProperty({
    description:
      'Score an innocent autograph reaches with probability at most verdict.per_autograph_probability.',
  })
  threshold!: number;
  @ApiProperty({ description: 'Segments of the original timeline found in the copy.' })
  segments_observed!: number;
  @ApiProperty({
    description: 'Bound on the probability that one innocent autograph scores this much.',
  })
  innocent_probability!: number;
  @ApiProperty({
    description:
      'Bound on the probability that any innocent autograph of the job scores this much (union bound).',
  })
  any_innocent_probability!: number;
}

/** What a finished backtrace's verdict rests on (see the evidence document for the rest). */
export class VerdictDto {
  @ApiProperty({ description: 'Autographs of the job scored against the copy.' })
  autographs_scored!: number;
  @ApiProperty({
    description:
      'Jobs the copy was traced against: 1, or without job_id every job of its original that matched equally well (jobs of one movie); the bound is shared out over them and `job` is the one whose autographs the copy accuses.',
  })
  jobs_traced!: number;
  @ApiProperty({
    description:
      'Bound on the probability that this backtrace accuses any innocent autograph (FALSE_ACCUSATION_PROBABILITY).',
  })
  false_accusation_probability!: number;
  @ApiProperty({
    description:
      'What the bound leaves each innocent: false_accusation_probability / (jobs_traced x autographs_scored).',
  })
  per_autograph_probability!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Accusation threshold; null when the copy holds too little evidence for any.',
  })
  threshold!: number | null;
  @ApiProperty() segments_observed!: number;
  @ApiProperty({ description: "Segments of the original's timeline." }) segment_count!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Best score below the threshold.' })
  max_innocent_score!: number | null;
}

/** Field order follows the example of test/fixtures/backtraces-api.txt. */
export class BacktraceDto extends WorkStateDto {
  @ApiProperty({ type: InputName }) input!: { input_name: string };
  @ApiPropertyOptional({
    type: [InputName],
    nullable: true,
    description: 'Every copy of the leak when several were given (`input` is the first).',
  })
  inputs!: { input_name: string }[] | null;
  @ApiProperty({ type: RefDto }) pipeline!: Ref | RefDto;
  @ApiPropertyOptional({
    type: RefDto,
    nullable: true,
    description: 'The suspect copy, once read.',
  })
  file!: Ref | RefDto | null;
  @ApiProperty({ type: [ExtractedDataDto] }) extracted_data!: ExtractedDataDto[];
  @ApiPropertyOptional({ type: RefDto, nullable: true }) application!: Ref | RefDto | null;
  @ApiPropertyOptional({
    type: RefDto,
    nullable: true,
    description: 'The job of the original: as given, or as found by the worker.',
  })
  job!: Ref | RefDto | null;
  @ApiPropertyOptional({
    type: VerdictDto,
    nullable: true,
    description: 'What the verdict rests on, once the backtrace succeeded.',
  })
  verdict!: VerdictDto | null;
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
