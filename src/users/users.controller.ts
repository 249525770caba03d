import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../common/auth.decorators.js';
import { SharedQuery } from '../common/render.interceptor.js';
import { GetQuery, OutputQuery } from '../common/dto/query.dto.js';
import { CurrentPrincipal, type Principal } from '../common/principal.js';
import { ParseObjectIdPipe } from '../common/validation.pipe.js';
import {
  CreateUserBody,
  UpdateUserBody,
  UserEnvelope,
  UserListEnvelope,
  UserListQuery,
} from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Authenticated()
@Controller('v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user (admin only)' })
  @ApiCreatedResponse({ type: UserEnvelope })
  @SharedQuery(OutputQuery)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateUserBody,
  ): Promise<UserEnvelope> {
    return { user: await this.users.create(principal, body.user) };
  }

  @Get()
  @ApiOperation({ summary: 'List users (an admin sees all, a user only themself)' })
  @ApiOkResponse({ type: UserListEnvelope })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: UserListQuery,
  ): Promise<UserListEnvelope> {
    const { items, ...meta } = await this.users.list(principal, query);
    return { users: items, ...meta };
  }

  @Get('me')
  @ApiOperation({ summary: 'The user the access token belongs to' })
  @ApiOkResponse({ type: UserEnvelope })
  @SharedQuery(GetQuery)
  async me(@CurrentPrincipal() principal: Principal): Promise<UserEnvelope> {
    return { user: await this.users.me(principal) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a user' })
  @ApiOkResponse({ type: UserEnvelope })
  @SharedQuery(GetQuery)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
  ): Promise<UserEnvelope> {
    return { user: await this.users.get(principal, id) };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a user (admin only): storage roots' })
  @ApiOkResponse({ type: UserEnvelope })
  @SharedQuery(OutputQuery)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateUserBody,
  ): Promise<UserEnvelope> {
    return { user: await this.users.update(principal, id, body.user) };
  }
}
