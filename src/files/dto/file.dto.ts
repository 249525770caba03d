import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { COMMON_SORT_KEYS, ListQuery } from '../../common/dto/query.dto.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Ref } from '../../common/refs.js';

export class MediaInfoDto {
  @ApiProperty({ description: 'Seconds.' }) duration!: number;
  @ApiProperty() width!: number;
  @ApiProperty() height!: number;
  @ApiProperty({ example: 'h264' }) codec!: string;
  @ApiProperty({ description: 'Frames per second.' }) frame_rate!: number;
}

export class FileDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'file:///srv/autograph/storage/input/uploads/movie.mp4' }) uri!: string;
  @ApiProperty({ description: 'Bytes.' }) size!: number;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Null until the job or backtrace reading this file has hashed it.',
  })
  sha256!: string | null;
  @ApiPropertyOptional({ type: MediaInfoDto, nullable: true }) media!: MediaInfoDto | null;
  @ApiProperty({ type: RefDto }) user!: Ref | RefDto;
  @ApiPropertyOptional({ type: RefDto, nullable: true }) application!: Ref | RefDto | null;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
}

export class FileEnvelope {
  @ApiProperty({ type: FileDto }) file!: FileDto;
}

export class FileListEnvelope extends ListMetaDto {
  @ApiProperty({ type: [FileDto] }) files!: FileDto[];
}

export class FileListQuery extends ListQuery([...COMMON_SORT_KEYS, 'size']) {}
