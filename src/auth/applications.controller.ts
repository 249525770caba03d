import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { GetQuery, OutputQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { ParseObjectIdPipe } from '../common/validation.pipe.js';
import { ApplicationsService } from './applications.service.js';
import { Authenticated } from '../common/auth.decorators.js';
import { SharedQuery } from '../common/render.interceptor.js';
import {
  ApplicationEnvelope,
  ApplicationListEnvelope,
  ApplicationListQuery,
  CreateApplicationBody,
} from './dto/application.dto.js';

@ApiTags('applications')
@Authenticated()
@Controller('v1/applications')
export class ApplicationsController {
  constructor(private readonly applications: ApplicationsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create an OAuth client; its client_secret is shown in this answer only',
  })
  @ApiCreatedResponse({ type: ApplicationEnvelope })
  @SharedQuery(OutputQuery)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateApplicationBody,
  ): Promise<ApplicationEnvelope> {
    return { application: await this.applications.create(principal, body.application) };
  }

  @Get()
  @ApiOperation({ summary: 'List your applications' })
  @ApiOkResponse({ type: ApplicationListEnvelope })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ApplicationListQuery,
  ): Promise<ApplicationListEnvelope> {
    const { items, ...meta } = await this.applications.list(principal, query);
    return { applications: items, ...meta };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an application' })
  @ApiOkResponse({ type: ApplicationEnvelope })
  @SharedQuery(GetQuery)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<ApplicationEnvelope> {
    return { application: await this.applications.get(principal, id) };
  }

  @Post(':id/secret')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Rotate the client_secret: the new one is shown in this answer only; tokens issued to the application are revoked',
  })
  @ApiOkResponse({ type: ApplicationEnvelope })
  @SharedQuery(OutputQuery)
  async rotateSecret(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<ApplicationEnvelope> {
    return { application: await this.applications.rotateSecret(principal, id) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an application and revoke every token issued to it' })
  @ApiNoContentResponse()
  @SharedQuery(OutputQuery)
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<void> {
    await this.applications.delete(principal, id);
  }
}
