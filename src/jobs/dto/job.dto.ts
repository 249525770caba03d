import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  Max,
  Min,
} from 'class-validator';
import { IdRef, InputName } from '../../common/dto/input.dto.js';
import { COMMON_SORT_KEYS, ListQuery } from '../../common/dto/query.dto.js';
import { NestedObject, NestedObjects } from '../../common/dto/nested-object.decorator.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Ref } from '../../common/refs.js';
import { WorkStateDto } from '../../common/work-state.js';

export class AutographOptions {
  @ApiPropertyOptional({ enum: [1, 2], default: 2, description: 'Seconds per A/B segment.' })
  @IsOptional()
  @IsIn([1, 2], { message: '$property must be 1 or 2 (seconds)' })
  segment_duration?: 1 | 2;
}

export class OutputRequest {
  @ApiProperty({ example: 720, minimum: 144, maximum: 4320 })
  @IsInt()
  @Min(144)
  @Max(4320)
  height!: number;
}

export class NewJob {
  @ApiProperty({ type: IdRef })
  @IsDefined({ message: 'job.pipeline is required: {"pipeline": {"id": ...}}' })
  @NestedObject(() => IdRef)
  pipeline!: IdRef;

  @ApiProperty({ type: InputName })
  @IsDefined({ message: 'job.input is required: {"input": {"input_name": ...}}' })
  @NestedObject(() => InputName)
  input!: InputName;

  @ApiPropertyOptional({ type: AutographOptions })
  @IsOptional()
  @NestedObject(() => AutographOptions)
  autograph?: AutographOptions;

  @ApiPropertyOptional({
    type: [OutputRequest],
    description: 'Renditions to produce (default: one at the source height; never upscaled).',
  })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(6)
  @NestedObjects(() => OutputRequest)
  outputs?: OutputRequest[];
}

export class CreateJobBody {
  @ApiProperty({ type: NewJob })
  @IsDefined({
    message:
      'job is required: send {"job": {"pipeline": {"id": ...}, "input": {"input_name": ...}}}',
  })
  @NestedObject(() => NewJob)
  job!: NewJob;
}

export class RenditionDto {
  @ApiProperty({ example: 720 }) height!: number;
  @ApiPropertyOptional({ example: 1280, description: 'Known once the job has run.' })
  width?: number;
}

export class AudioTrackDto {
  @ApiProperty({ example: 'fra', description: 'ISO 639 code; `und` when the source has none.' })
  language!: string;
  @ApiProperty({ example: 'Français', description: "The source's title, else the language." })
  name!: string;
}

export class JobDto extends WorkStateDto {
  @ApiProperty() id!: string;
  @ApiProperty({ type: InputName }) input!: { input_name: string };
  @ApiProperty({ type: AutographOptions }) autograph!: { segment_duration: number };
  @ApiProperty({ type: [RenditionDto] }) outputs!: RenditionDto[];
  @ApiPropertyOptional({ description: 'A/B segments per rendition, once the job has run.' })
  segment_count?: number;
  @ApiPropertyOptional({ description: 'Seconds, once the job has run.' }) duration?: number;
  @ApiPropertyOptional({
    type: [AudioTrackDto],
    description:
      'The languages every copy carries, once the job has run: the first in the video segments, the others as alternate HLS audio and extra MP4 tracks.',
  })
  audio_tracks?: AudioTrackDto[];
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
