import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { toBoolean, toInteger } from '../../config/environment.js';
import { REF_KINDS, type RefKind } from '../refs.js';

export const MAX_PAGE_SIZE = 1000;
/** The database's limit for an offset (a 32-bit signed integer). */
export const MAX_START = 2_147_483_647;

const asBoolean = ({ value }: { value: unknown }): unknown => toBoolean(value);
const asInteger = ({ value }: { value: unknown }): unknown => toInteger(value);

const BOOLEAN_MESSAGE = { message: '$property must be true or false' };

/** `format`, `human`, `show_null`: accepted by every route, writes included. */
export class OutputQuery {
  @ApiPropertyOptional({
    enum: ['json', 'xml'],
    description: 'Response format; overrides the Accept header.',
  })
  @IsOptional()
  @IsIn(['json', 'xml'], { message: '$property must be json or xml' })
  format?: 'json' | 'xml';

  @ApiPropertyOptional({ type: Boolean, description: 'Pretty-print the response.' })
  @IsOptional()
  @Transform(asBoolean)
  @IsBoolean(BOOLEAN_MESSAGE)
  human?: boolean;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'Keep fields whose value is null (omitted otherwise).',
  })
  @IsOptional()
  @Transform(asBoolean)
  @IsBoolean(BOOLEAN_MESSAGE)
  show_null?: boolean;
}

/** Adds `expand` and `expand_all`: accepted by every GET. */
export class GetQuery extends OutputQuery {
  @ApiPropertyOptional({
    type: String,
    example: 'user,pipeline',
    description: `Comma-separated references to embed: ${REF_KINDS.join(', ')}.`,
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').map((name) => name.trim()) : value,
  )
  @IsIn(REF_KINDS, {
    each: true,
    message: `$property lists an unknown reference; known references: ${REF_KINDS.join(', ')}`,
  })
  expand?: RefKind[];

  @ApiPropertyOptional({ type: Boolean, description: 'Embed every reference, recursively.' })
  @IsOptional()
  @Transform(asBoolean)
  @IsBoolean(BOOLEAN_MESSAGE)
  expand_all?: boolean;
}

export interface Paging {
  start: number;
  limit: number;
  sort: string;
  direction: 1 | -1;
}

/**
 * The query of a list route: paging and a sort key drawn from `sortable` (a whitelist, so
 * nothing but a known field name ever reaches the database).
 */
export function ListQuery<Sort extends string>(sortable: readonly Sort[]) {
  class ListQueryClass extends GetQuery implements Paging {
    @ApiPropertyOptional({
      minimum: 0,
      maximum: MAX_START,
      default: 0,
      description: 'Offset of the first item.',
    })
    @Transform(asInteger)
    @IsInt({ message: '$property must be a non-negative integer' })
    @Min(0, { message: '$property must be a non-negative integer' })
    @Max(MAX_START, { message: `$property must be at most ${MAX_START}` })
    start = 0;

    @ApiPropertyOptional({
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      default: MAX_PAGE_SIZE,
      description: 'Page size.',
    })
    @Transform(asInteger)
    @IsInt({ message: `$property must be an integer from 1 to ${MAX_PAGE_SIZE}` })
    @Min(1, { message: `$property must be an integer from 1 to ${MAX_PAGE_SIZE}` })
    @Max(MAX_PAGE_SIZE, { message: `$property must be an integer from 1 to ${MAX_PAGE_SIZE}` })
    limit = MAX_PAGE_SIZE;

    @ApiPropertyOptional({ enum: sortable, default: 'created_at', description: 'Sort key.' })
    @IsIn(sortable, { message: `$property must be one of: ${sortable.join(', ')}` })
    sort: Sort = 'created_at' as Sort;

    @ApiPropertyOptional({
      enum: ['1', '-1'],
      default: '1',
      description: 'Ascending (1) or descending (-1).',
    })
    @Transform(({ value }: { value: unknown }) => (value === '1' ? 1 : value === '-1' ? -1 : value))
    @IsIn([1, -1], { message: '$property must be 1 or -1' })
    direction: 1 | -1 = 1;
  }
  return ListQueryClass;
}

/** The sort keys every resource offers. */
export const COMMON_SORT_KEYS = ['created_at', 'updated_at', 'id'] as const;
