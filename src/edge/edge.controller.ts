import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../common/auth.decorators.js';
import { OutputQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { SharedQuery } from '../common/render.interceptor.js';
import {
  EdgeConfigEnvelope,
  EdgeJobsQuery,
  EdgeLogBody,
  EdgeLogReceiptEnvelope,
  EdgeRevocationsEnvelope,
} from './dto/edge.dto.js';
import { EdgeService } from './edge.service.js';

/**
 * What a CDN edge (ETSI TS 104 002 A/B delivery) asks of the API, with the credentials of the
 * jobs' owner (an application's client credentials, say).
 */
@ApiTags('edge')
@Authenticated()
@Controller('v1/edge')
export class EdgeController {
  constructor(private readonly edge: EdgeService) {}

  @Get('config')
  @ApiOperation({
    summary:
      'What an edge needs to serve finished jobs: neutral playlists, variant files, WMPaceInfo sidecars, token keys (npm run edge:config writes it as nginx configuration)',
  })
  @ApiOkResponse({ type: EdgeConfigEnvelope })
  async config(
    @CurrentPrincipal() principal: Principal,
    @Query() query: EdgeJobsQuery,
  ): Promise<EdgeConfigEnvelope> {
    return { edge_config: await this.edge.config(principal, query.job_ids) };
  }

  @Get('revocations')
  @ApiOperation({ summary: 'The revoked autographs of the jobs, whose tokens an edge refuses' })
  @ApiOkResponse({ type: EdgeRevocationsEnvelope })
  async revocations(
    @CurrentPrincipal() principal: Principal,
    @Query() query: EdgeJobsQuery,
  ): Promise<EdgeRevocationsEnvelope> {
    return { revocations: await this.edge.revocations(principal, query.job_ids) };
  }

  @Post('access-logs')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "A batch of an edge's access log lines, counted in the autographs' access stats (a line sent twice counts once)",
  })
  @ApiOkResponse({ type: EdgeLogReceiptEnvelope })
  @SharedQuery(OutputQuery)
  async accessLogs(
    @CurrentPrincipal() principal: Principal,
    @Body() body: EdgeLogBody,
  ): Promise<EdgeLogReceiptEnvelope> {
    return { access_logs: await this.edge.ingest(principal, body.access_logs) };
  }
}
