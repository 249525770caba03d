import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  IsString,
  Matches,
} from 'class-validator';
import { COMMON_SORT_KEYS, ListQuery } from '../../common/dto/query.dto.js';
import { NestedObject, NestedObjects } from '../../common/dto/nested-object.decorator.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Link, Ref } from '../../common/refs.js';

export const MAX_BATCH = 10_000;

/** How one viewer obtained the copy (`access_stats` of the Backtrace API). */
export class AccessStatDto {
  @ApiProperty({ example: '5.9.119.0' }) ip_address!: string;
  @ApiProperty({ example: 'Germany' }) ip_country!: string;
  @ApiProperty({ example: 'DCH', description: 'IP2Location usage type, or N/A.' }) ip_type!: string;
  @ApiProperty() user_agent!: string;
  @ApiProperty({ example: 'N/A' }) accept_language!: string;
  @ApiProperty({ description: 'Epoch milliseconds.' }) first_accessed_at!: number;
  @ApiProperty({ example: '100%' }) percentage_obtained!: string;
  @ApiProperty({ example: '720p' }) highest_resolution!: string;
  @ApiProperty({ enum: ['yes', 'no'] }) streaming_only!: string;
}

export class NewAutograph {
  @ApiPropertyOptional({
    example: 'test_tag',
    description:
      'Your label for the viewer: unique per job, 1–256 printable characters. Generated when omitted.',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[^\p{C}]{1,256}$/u, { message: '$property must be 1 to 256 printable characters' })
  tag?: string;
}

/** Either one autograph or a batch of up to 10,000. */
export class CreateAutographsBody {
  @ApiPropertyOptional({ type: NewAutograph })
  @IsOptional()
  @NestedObject(() => NewAutograph)
  autograph?: NewAutograph;

  @ApiPropertyOptional({ type: [NewAutograph], maxItems: MAX_BATCH })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH)
  @NestedObjects(() => NewAutograph)
  autographs?: NewAutograph[];
}

/** `playback.edge`: streaming through a CDN edge (ETSI TS 104 002). */
export class EdgePlaybackDto {
  @ApiProperty({
    description:
      "The job's master playlist at the edge: the same URL and bytes for every viewer. Send the token with each request in the header or cookie named below.",
  })
  manifest_url!: string;
  @ApiProperty({
    description:
      'The master playlist with the token as a path segment (`/~TOKEN/`), for players that cannot add headers (AVPlayer, ffmpeg): relative URLs keep it.',
  })
  tokenized_url!: string;
  @ApiProperty({
    description:
      'CWT (RFC 8392, COSE_Mac0 HMAC 256/256, base64url) with the ETSI TS 104 002 claims in direct mode: wmver, wmvnd, wmpatlen, wmsegduration, wmpattern (this viewer’s A/B pattern); sub = autograph id, aud = job id, cti = token id, exp.',
  })
  token!: string;
  @ApiProperty({ description: 'The token id (cti, hex) the edge logs.' }) token_id!: string;
  @ApiProperty({ description: 'Epoch milliseconds; ask for a new token before.' })
  expires_at!: number;
  @ApiProperty({ example: 'CTA-Common-Access-Token' }) header!: string;
  @ApiProperty({ example: 'wmt' }) cookie!: string;
}

export class PlaybackDto {
  @ApiProperty({ description: 'HLS master playlist of this viewer (no bearer token needed).' })
  hls_url!: string | Link;
  @ApiProperty({ description: 'The personal copy as one MP4; `?rendition=720p` picks one.' })
  download_url!: string | Link;
  @ApiPropertyOptional({
    type: EdgePlaybackDto,
    nullable: true,
    description:
      'Streaming through the CDN edge; given in answers about one live autograph of a finished job (a fresh token each time), null in lists and batches.',
  })
  edge!: EdgePlaybackDto | null;
}

export class AutographDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'test_tag' }) tag!: string;
  @ApiProperty({ type: RefDto }) job!: Ref | RefDto;
  @ApiProperty({ type: PlaybackDto }) playback!: PlaybackDto;
  @ApiProperty({ type: [AccessStatDto] }) access_stats!: AccessStatDto[];
  @ApiPropertyOptional({ type: Number, nullable: true }) revoked_at!: number | null;
  @ApiProperty({ type: RefDto }) user!: Ref | RefDto;
  @ApiPropertyOptional({ type: RefDto, nullable: true }) application!: Ref | RefDto | null;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
}

export class AutographEnvelope {
  @ApiProperty({ type: AutographDto }) autograph!: AutographDto;
}

export class AutographListEnvelope extends ListMetaDto {
  @ApiProperty({ type: [AutographDto] }) autographs!: AutographDto[];
}

export class AutographBatchEnvelope {
  @ApiProperty({ type: [AutographDto] }) autographs!: AutographDto[];
  @ApiProperty() total!: number;
}

export class AutographListQuery extends ListQuery([...COMMON_SORT_KEYS, 'tag']) {}
