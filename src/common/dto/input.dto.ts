import { ApiProperty } from '@nestjs/swagger';
import { IsMongoId, IsString, MaxLength } from 'class-validator';

/** `{id}` of a referenced resource in a request body. */
export class IdRef {
  @ApiProperty({ example: '552b87a814eab3a29d1b3d90' })
  @IsMongoId({ message: '$property must be a 24-character hexadecimal id' })
  id!: string;
}

export class InputName {
  @ApiProperty({
    example: 'uploads/movie.mp4',
    description: "Path relative to the pipeline's input directory (or a file:// URI inside it).",
  })
  @IsString()
  @MaxLength(1024)
  input_name!: string;
}
