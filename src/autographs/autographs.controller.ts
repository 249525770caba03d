import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Authenticated } from '../common/auth.decorators.js';
import { SharedQuery } from '../common/render.interceptor.js';
import { ApiError } from '../common/api-error.js';
import { GetQuery, OutputQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { ParseObjectIdPipe } from '../common/validation.pipe.js';
import { AutographsService } from './autographs.service.js';
import {
  AutographBatchEnvelope,
  AutographEnvelope,
  AutographListEnvelope,
  AutographListQuery,
  CreateAutographsBody,
} from './dto/autograph.dto.js';

@ApiTags('autographs')
@Authenticated()
@Controller('v1')
export class AutographsController {
  constructor(private readonly autographs: AutographsService) {}

  @Post('jobs/:id/autographs')
  @ApiOperation({
    summary:
      'Create an autograph ({autograph: {tag}}) or a batch of up to 10,000 ({autographs: [...]})',
  })
  @ApiExtraModels(AutographEnvelope, AutographBatchEnvelope)
  @ApiCreatedResponse({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(AutographEnvelope) },
        { $ref: getSchemaPath(AutographBatchEnvelope) },
      ],
    },
  })
  @SharedQuery(OutputQuery)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) jobId: string,
    @Body() body: CreateAutographsBody,
  ): Promise<AutographEnvelope | AutographBatchEnvelope> {
    // Exactly one of the two, and null is neither (an empty request must not answer 201).
    if (!body.autograph === !body.autographs) {
      throw ApiError.badRequest(
        'INVALID_BODY',
        'Send either {"autograph": {"tag": ...}} or {"autographs": [{"tag": ...}, ...]}.',
      );
    }
    if (body.autograph) {
      const [autograph] = await this.autographs.create(principal, jobId, [body.autograph]);
      return { autograph };
    }
    const autographs = await this.autographs.create(principal, jobId, body.autographs ?? []);
    return { autographs, total: autographs.length };
  }

  @Get('jobs/:id/autographs')
  @ApiOperation({ summary: "List a job's autographs with their access stats" })
  @ApiOkResponse({ type: AutographListEnvelope })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) jobId: string,
    @Query() query: AutographListQuery,
  ): Promise<AutographListEnvelope> {
    const { items, ...meta } = await this.autographs.listForJob(principal, jobId, query);
    return { autographs: items, ...meta };
  }

  @Get('autographs/:id')
  @ApiOperation({ summary: 'Get an autograph with its playback URLs and access stats' })
  @ApiOkResponse({ type: AutographEnvelope })
  @SharedQuery(GetQuery)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<AutographEnvelope> {
    return { autograph: await this.autographs.get(principal, id) };
  }

  @Delete('autographs/:id')
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke an autograph's playback URLs (the autograph stays traceable)" })
  @ApiNoContentResponse()
  @SharedQuery(OutputQuery)
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<void> {
    await this.autographs.revoke(principal, id);
  }
}
