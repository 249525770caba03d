import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../common/auth.decorators.js';
import { SharedQuery } from '../common/render.interceptor.js';
import { GetQuery, OutputQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { ParseObjectIdPipe } from '../common/validation.pipe.js';
import { CreateJobBody, JobEnvelope, JobListEnvelope, JobListQuery } from './dto/job.dto.js';
import { JobsService } from './jobs.service.js';

@ApiTags('jobs')
@Authenticated()
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiOperation({ summary: 'Queue an embedding job for an original video' })
  @ApiCreatedResponse({ type: JobEnvelope })
  @SharedQuery(OutputQuery)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateJobBody,
  ): Promise<JobEnvelope> {
    return { job: await this.jobs.create(principal, body.job) };
  }

  @Get()
  @ApiOperation({ summary: 'List jobs' })
  @ApiOkResponse({ type: JobListEnvelope })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: JobListQuery,
  ): Promise<JobListEnvelope> {
    const { items, ...meta } = await this.jobs.list(principal, query);
    return { jobs: items, ...meta };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a job' })
  @ApiOkResponse({ type: JobEnvelope })
  @SharedQuery(GetQuery)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<JobEnvelope> {
    return { job: await this.jobs.get(principal, id) };
  }
}
