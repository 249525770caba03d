import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated } from '../common/auth.decorators.js';
import { SharedQuery } from '../common/render.interceptor.js';
import { GetQuery, OutputQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { ParseObjectIdPipe } from '../common/validation.pipe.js';
import {
  CreatePipelineBody,
  PipelineEnvelope,
  PipelineListEnvelope,
  PipelineListQuery,
  UpdatePipelineBody,
} from './dto/pipeline.dto.js';
import { PipelinesService } from './pipelines.service.js';

@ApiTags('pipelines')
@Authenticated()
@Controller('v1/pipelines')
export class PipelinesController {
  constructor(private readonly pipelines: PipelinesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a pipeline (input and output file:// directories)' })
  @ApiCreatedResponse({ type: PipelineEnvelope })
  @SharedQuery(OutputQuery)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreatePipelineBody,
  ): Promise<PipelineEnvelope> {
    return { pipeline: await this.pipelines.create(principal, body.pipeline) };
  }

  @Get()
  @ApiOperation({ summary: 'List pipelines' })
  @ApiOkResponse({ type: PipelineListEnvelope })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PipelineListQuery,
  ): Promise<PipelineListEnvelope> {
    const { items, ...meta } = await this.pipelines.list(principal, query);
    return { pipelines: items, ...meta };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a pipeline' })
  @ApiOkResponse({ type: PipelineEnvelope })
  @SharedQuery(GetQuery)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<PipelineEnvelope> {
    return { pipeline: await this.pipelines.get(principal, id) };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a pipeline' })
  @ApiOkResponse({ type: PipelineEnvelope })
  @SharedQuery(OutputQuery)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdatePipelineBody,
  ): Promise<PipelineEnvelope> {
    return { pipeline: await this.pipelines.update(principal, id, body.pipeline) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a pipeline that no job or backtrace uses' })
  @ApiNoContentResponse()
  @SharedQuery(OutputQuery)
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<void> {
    await this.pipelines.delete(principal, id);
  }
}
