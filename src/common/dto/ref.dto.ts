import { ApiProperty } from '@nestjs/swagger';

/** How a reference appears unless expanded. */
export class RefDto {
  @ApiProperty({ example: '552b87a814eab3a29d1b3d90' })
  id!: string;

  @ApiProperty({ example: 'https://api.example.com/v1/pipelines/552b87a814eab3a29d1b3d90' })
  href!: string;
}

export class ListMetaDto {
  @ApiProperty({ description: 'Number of matching items in all pages.' })
  total!: number;

  @ApiProperty({ description: 'Offset of the first item of this page.' })
  start!: number;

  @ApiProperty({ description: 'Page size.' })
  limit!: number;
}

export class ErrorBodyDto {
  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({ example: 'INVALID_PARAMETER' })
  error_code!: string;

  @ApiProperty({ example: "query parameter 'limit' must be an integer from 1 to 1000" })
  error_msg!: string;
}

export class ErrorDto {
  @ApiProperty({ type: ErrorBodyDto })
  error!: ErrorBodyDto;
}
