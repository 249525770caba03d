import { Body, Controller, Get, Param, Post, Query, StreamableFile } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExcludeController,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
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
import { EvidenceEnvelope, EvidenceQuery } from './dto/evidence.dto.js';
import { renderEvidenceHtml } from './evidence/evidence-document.js';
import { EvidenceService } from './evidence/evidence.service.js';

/** The Backtrace API (test/fixtures/backtraces-api.txt), at the path its examples use. */
@ApiTags('backtraces')
@Authenticated()
@Controller('v1/titles/backtraces')
export class BacktracesController {
  constructor(
    private readonly backtraces: BacktracesService,
    private readonly evidence: EvidenceService,
  ) {}

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

  @Get(':id/evidence')
  @ApiOperation({
    summary: 'The evidence document of a finished Backtrace (also at /v1/backtraces/ID/evidence)',
    description:
      'A self-contained, printable HTML document stating what the verdict rests on; with format=json or format=xml the same facts as data. Owner or admin only.',
  })
  @ApiProduces('text/html', 'application/json', 'application/xml')
  @ApiOkResponse({ type: EvidenceEnvelope })
  async getEvidence(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
    @Query() query: EvidenceQuery,
  ): Promise<EvidenceEnvelope | StreamableFile> {
    const evidence = await this.evidence.evidenceOf(principal, id);
    if (query.format) return { evidence };
    return new StreamableFile(Buffer.from(renderEvidenceHtml(evidence)), {
      type: 'text/html; charset=utf-8',
      disposition: `inline; filename="evidence-${id}.html"`,
    });
  }
}

/** The same API at `/v1/backtraces` (documented once, above). */
@ApiExcludeController()
@Controller('v1/backtraces')
export class BacktracesAliasController extends BacktracesController {}
