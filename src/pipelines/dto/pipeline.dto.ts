import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsDefined, IsString, Length, MaxLength } from 'class-validator';
import { COMMON_SORT_KEYS, ListQuery } from '../../common/dto/query.dto.js';
import { NestedObject } from '../../common/dto/nested-object.decorator.js';
import { ListMetaDto, RefDto } from '../../common/dto/ref.dto.js';
import type { Ref } from '../../common/refs.js';

export class StorageLocation {
  @ApiProperty({ example: 'file:///srv/autograph/storage/input/' })
  @IsString()
  @MaxLength(2048)
  uri!: string;
}

export class NewPipeline {
  @ApiProperty({ example: 'Studio uploads' })
  @IsString()
  @Length(1, 256)
  name!: string;

  @ApiProperty({ type: StorageLocation })
  @IsDefined()
  @NestedObject(() => StorageLocation)
  input!: StorageLocation;

  @ApiProperty({ type: StorageLocation })
  @IsDefined()
  @NestedObject(() => StorageLocation)
  output!: StorageLocation;
}

export class PipelineChanges extends PartialType(NewPipeline) {}

export class CreatePipelineBody {
  @ApiProperty({ type: NewPipeline })
  @IsDefined({
    message:
      'pipeline is required: send {"pipeline": {"name": ..., "input": {"uri": ...}, "output": {"uri": ...}}}',
  })
  @NestedObject(() => NewPipeline)
  pipeline!: NewPipeline;
}

export class UpdatePipelineBody {
  @ApiProperty({ type: PipelineChanges })
  @IsDefined({ message: 'pipeline is required: send {"pipeline": {...fields to change}}' })
  @NestedObject(() => PipelineChanges)
  pipeline!: PipelineChanges;
}

export class PipelineDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: StorageLocation }) input!: StorageLocation;
  @ApiProperty({ type: StorageLocation }) output!: StorageLocation;
  @ApiProperty({ type: RefDto }) user!: Ref | RefDto;
  @ApiPropertyOptional({ type: RefDto, nullable: true }) application!: Ref | RefDto | null;
  @ApiProperty() created_at!: number;
  @ApiProperty() updated_at!: number;
}

export class PipelineEnvelope {
  @ApiProperty({ type: PipelineDto }) pipeline!: PipelineDto;
}

export class PipelineListEnvelope extends ListMetaDto {
  @ApiProperty({ type: [PipelineDto] }) pipelines!: PipelineDto[];
}

export class PipelineListQuery extends ListQuery([...COMMON_SORT_KEYS, 'name']) {}
