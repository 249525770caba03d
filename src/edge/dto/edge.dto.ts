import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsMongoId,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { NestedObjects } from '../../common/dto/nested-object.decorator.js';
import { OutputQuery } from '../../common/dto/query.dto.js';

export const MAX_EDGE_JOBS = 100;
export const MAX_LOG_BATCH = 5000;

export class EdgeJobsQuery extends OutputQuery {
  @ApiProperty({ description: 'Comma-separated ids of the jobs the edge serves (up to 100).' })
  @IsDefined({
    message: 'job_ids is required: the comma-separated ids of the jobs the edge serves',
  })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',') : value,
  )
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_EDGE_JOBS)
  @IsMongoId({ each: true, message: 'job_ids must be 24-character hexadecimal ids' })
  job_ids!: string[];
}

/** One segment the edge delivered, as its access log line says. */
export class EdgeLogLineDto {
  @ApiProperty({
    description:
      'The log the line comes from (an edge and its log file): lines are counted once per stream and offset.',
  })
  @IsString()
  @Matches(/^[\w.:/-]{1,200}$/, { message: '$property must be 1 to 200 of [A-Za-z0-9_.:/-]' })
  stream!: string;

  @ApiProperty({ description: "The line's byte offset in its stream (lines are sent in order)." })
  @IsInt()
  @Min(0)
  offset!: number;

  @ApiProperty({ description: 'Epoch milliseconds of the request.' })
  @IsInt()
  @Min(0)
  time!: number;

  @ApiProperty() @IsMongoId() autograph!: string;
  @ApiProperty({ description: 'The position in the WM pattern (segment index).' })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  position!: number;

  @ApiProperty({ example: 720 }) @IsInt() @Min(1) @Max(10_000) height!: number;
  @ApiProperty() @IsString() @MaxLength(100) ip!: string;
  @ApiProperty() @IsString() @MaxLength(1000) user_agent!: string;
  @ApiProperty() @IsString() @MaxLength(1000) accept_language!: string;
  @ApiProperty({ enum: ['GET', 'HEAD'] }) @IsIn(['GET', 'HEAD']) method!: string;
  @ApiProperty({ example: 200 }) @IsInt() status!: number;
  @ApiProperty({ description: 'Whether nginx sent the whole response ($request_completion).' })
  @IsIn([true, false])
  complete!: boolean;
}

export class EdgeLogBody {
  @ApiProperty({ type: [EdgeLogLineDto], maxItems: MAX_LOG_BATCH })
  @IsDefined({ message: 'access_logs is required' })
  @IsArray()
  @ArrayMaxSize(MAX_LOG_BATCH)
  @NestedObjects(() => EdgeLogLineDto)
  access_logs!: EdgeLogLineDto[];
}

export class EdgeLogReceiptDto {
  @ApiProperty({ description: 'Lines in the batch.' }) received!: number;
  @ApiProperty({ description: 'Whole segment deliveries counted in the access stats.' })
  counted!: number;
  @ApiProperty({ description: 'Lines already received before (not counted again).' })
  duplicates!: number;
  @ApiProperty({
    description:
      'Lines that deliver nothing countable (HEAD, errors, partial) or name an autograph that is not yours.',
  })
  ignored!: number;
}

export class EdgeLogReceiptEnvelope {
  @ApiProperty({ type: EdgeLogReceiptDto }) access_logs!: EdgeLogReceiptDto;
}

export class EdgeRevocationsDto {
  @ApiProperty({ type: [String], description: 'Revoked autographs: their tokens are refused.' })
  autographs!: string[];
  @ApiProperty({ description: 'Epoch milliseconds of this answer.' }) generated_at!: number;
}

export class EdgeRevocationsEnvelope {
  @ApiProperty({ type: EdgeRevocationsDto }) revocations!: EdgeRevocationsDto;
}

export class EdgeSegmentDto {
  @ApiProperty({ description: 'Neutral URI, relative to the master playlist.' }) uri!: string;
  @ApiProperty({ description: 'Variant A, relative to output_dir.' }) a!: string;
  @ApiProperty({ description: 'Variant B, relative to output_dir.' }) b!: string;
}

export class EdgeRenditionDto {
  @ApiProperty({ example: '720p' }) name!: string;
  @ApiProperty() height!: number;
  @ApiProperty({
    description:
      'WMPaceInfo as the ETSI TS 104 002 sidecar file (sidecar-discrete, deterministic CBOR, base64): the pattern position of each segment file.',
  })
  wm_pace_info!: string;
  @ApiProperty({ type: [EdgeSegmentDto] }) segments!: EdgeSegmentDto[];
}

export class EdgeFileDto {
  @ApiProperty({ description: 'Neutral URI, relative to the master playlist.' }) uri!: string;
  @ApiProperty({ description: 'Relative to output_dir.' }) path!: string;
}

export class EdgeJobDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: "The job's output folder, which the edge serves files from." })
  output_dir!: string;
  @ApiProperty({ description: 'The key id (kid) its tokens are MACed under.' }) kid!: string;
  @ApiProperty({
    description: 'Neutral playlists by URI (the same for every viewer).',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  playlists!: Record<string, string>;
  @ApiProperty({ type: [EdgeRenditionDto] }) renditions!: EdgeRenditionDto[];
  @ApiProperty({ type: [EdgeFileDto], description: 'Unmarked files (alternate audio).' })
  unmarked!: EdgeFileDto[];
}

export class EdgeConfigDto {
  @ApiProperty({
    description: 'Token keys by kid (base64): HMAC 256/256 keys, as secret as AUTOGRAPH_SECRET.',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  keys!: Record<string, string>;
  @ApiProperty({ type: [EdgeJobDto] }) jobs!: EdgeJobDto[];
}

export class EdgeConfigEnvelope {
  @ApiProperty({ type: EdgeConfigDto }) edge_config!: EdgeConfigDto;
}
