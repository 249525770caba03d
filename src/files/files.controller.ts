import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../common/auth.decorators.js';
import { SharedQuery } from '../common/render.interceptor.js';
import { GetQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { ParseObjectIdPipe } from '../common/validation.pipe.js';
import { FileEnvelope, FileListEnvelope, FileListQuery } from './dto/file.dto.js';
import { FilesService } from './files.service.js';

@ApiTags('files')
@Authenticated()
@Controller('v1/files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Get()
  @ApiOperation({ summary: 'List the media files the system read or wrote for you' })
  @ApiOkResponse({ type: FileListEnvelope })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: FileListQuery,
  ): Promise<FileListEnvelope> {
    const { items, ...meta } = await this.files.list(principal, query);
    return { files: items, ...meta };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a file record' })
  @ApiOkResponse({ type: FileEnvelope })
  @SharedQuery(GetQuery)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<FileEnvelope> {
    return { file: await this.files.get(principal, id) };
  }
}
