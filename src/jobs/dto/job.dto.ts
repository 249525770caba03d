import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
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
import { CRF_RANGE, VIDEO_BITRATE_RANGE } from '../../watermarking/watermark-engine.service.js';

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

  @ApiPropertyOptional({
    example: 4500,
    minimum: VIDEO_BITRATE_RANGE.min,
    maximum: VIDEO_BITRATE_RANGE.max,
    description:
      "Average video bitrate in kbit/s (capped VBR). Default: the ladder's for the height. Not with `crf`.",
  })
  @IsOptional()
  @IsInt()
  @Min(VIDEO_BITRATE_RANGE.min)
  @Max(VIDEO_BITRATE_RANGE.max)
  video_bitrate?: number;

  @ApiPropertyOptional({
    example: 6750,
    minimum: VIDEO_BITRATE_RANGE.min,
    maximum: VIDEO_BITRATE_RANGE.max,
    description:
      'Peak video bitrate in kbit/s, held by the VBV (2 s buffer); at least `video_bitrate`. Default: 1.5 × `video_bitrate`, or the ladder’s.',
  })
  @IsOptional()
  @IsInt()
  @Min(VIDEO_BITRATE_RANGE.min)
  @Max(VIDEO_BITRATE_RANGE.max)
  max_bitrate?: number;

  @ApiPropertyOptional({
    example: 21,
    minimum: CRF_RANGE.min,
    maximum: CRF_RANGE.max,
    description:
      'x264 CRF: capped CRF (constant quality under `max_bitrate`) instead of the average bitrate.',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(CRF_RANGE.min)
  @Max(CRF_RANGE.max)
  crf?: number;
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
    description:
      "Renditions to produce, each height once and none above the source's (default: one at the source height), with the default ladder's encoder settings unless given.",
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
  @ApiProperty({
    example: 4500,
    nullable: true,
    description: 'Average video bitrate asked of x264 (kbit/s); null with `crf`.',
  })
  video_bitrate!: number | null;
  @ApiProperty({ example: 6750, description: 'Peak video bitrate (kbit/s), held by the VBV.' })
  max_bitrate!: number;
  @ApiProperty({ example: null, nullable: true, description: 'x264 CRF, when capped CRF.' })
  crf!: number | null;
  @ApiPropertyOptional({
    example: 4610,
    description:
      'Once the job has run: kbit/s of the variant segments as delivered (video, audio and MPEG-TS overhead), averaged over the timeline and over A and B.',
  })
  average_bitrate?: number;
  @ApiPropertyOptional({
    example: 6120,
    description:
      'Once the job has run: kbit/s of the largest A or B segment over its duration (the HLS BANDWIDTH).',
  })
  peak_bitrate?: number;
  @ApiPropertyOptional({
    example: 0.47,
    description:
      "Once the job has run: the watermark's strength in this rendition, as its RMS in luma levels (the perceptual mask moves it around the picture without adding to it). Budgeted from `encoder_psnr_y` so the mark costs at most 0.5 dB PSNR-Y against the source at this rendition's settings; within 0.4-1.2 (near-lossless renditions, such as flat animation, stay at 0.4).",
  })
  mark_strength?: number;
  @ApiPropertyOptional({
    example: 45.1,
    nullable: true,
    description:
      "Once the job has run: PSNR-Y (dB) of an unmarked pilot encode of excerpts of the source at this rendition's settings, against the source: the encoder's own error, which the mark's strength follows.",
  })
  encoder_psnr_y?: number | null;
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
