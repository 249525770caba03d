import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExcludeController,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated } from '../common/auth.decorators.js';
import { SharedQuery } from '../common/render.interceptor.js';
import { GetQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { ParseObjectIdPipe } from '../common/validation.pipe.js';
import { BacktracesService } from './backtraces.service.js';
import {
  BacktraceEnvelope,
  BacktraceListEnvelope,
  BacktraceListQuery,
  CreateBacktraceBody,
  CreateBacktraceQuery,
} from './dto/backtrace.dto.js';

/** The Backtrace API (test/fixtures/backtraces-api.txt), at the path its examples use. */
@ApiTags('backtraces')
@Authenticated()
@Controller('v1/titles/backtraces')
export class BacktracesController {
  constructor(private readonly backtraces: BacktracesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a new Backtrace (also at /v1/backtraces)' })
  @ApiCreatedResponse({ type: BacktraceEnvelope })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: CreateBacktraceQuery,
    @Body() body: CreateBacktraceBody,
  ): Promise<BacktraceEnvelope> {
    return { backtrace: await this.backtraces.create(principal, query.job_id, body.backtrace) };
  }

  @Get()
  @ApiOperation({ summary: 'List all Backtraces (also at /v1/backtraces)' })
  @ApiOkResponse({ type: BacktraceListEnvelope })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: BacktraceListQuery,
  ): Promise<BacktraceListEnvelope> {
    const { items, ...meta } = await this.backtraces.list(principal, query);
    return { backtraces: items, ...meta };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get info on a specific Backtrace (also at /v1/backtraces/ID)' })
  @ApiOkResponse({ type: BacktraceEnvelope })
  @SharedQuery(GetQuery)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<BacktraceEnvelope> {
    return { backtrace: await this.backtraces.get(principal, id) };
  }
}

/** The same API at `/v1/backtraces` (documented once, above). */
@ApiExcludeController()
@Controller('v1/backtraces')
export class BacktracesAliasController extends BacktracesController {}
