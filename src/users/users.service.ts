import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomBytes } from 'node:crypto';
import { Model, Types } from 'mongoose';
import { Environment } from '../config/environment.js';
import { ApiError } from '../common/api-error.js';
import type { Paging } from '../common/dto/query.dto.js';
import { type Page, type Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { OwnedRepository } from '../common/owned-repository.js';
import { RefExpander } from '../common/ref-expander.service.js';
import type { NewUser, UserDto } from './dto/user.dto.js';
import { hashPassword, verifyPassword } from './password.js';
import { User } from './schemas/user.schema.js';

export function toUserDto(user: Stored<User>): UserDto {
  return {
    id: user._id.toString(),
    email: user.email,
    name: user.name,
    role: user.role,
    created_at: user.created_at.getTime(),
    updated_at: user.updated_at.getTime(),
  };
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly owned: OwnedRepository<User, UserDto>;
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly environment: Environment,
    expander: RefExpander,
  ) {
    this.owned = new OwnedRepository(users, 'user', expander, toUserDto, (principal) =>
      principal.role === 'admin' ? {} : { _id: principal.userId },
    );
  }

  /** First start on an empty database: create the admin, and say how to log in. */
  async onApplicationBootstrap(): Promise<void> {
    await this.users.init();
    if ((await this.users.estimatedDocumentCount().exec()) > 0) return;
    const email = this.environment.ADMIN_EMAIL ?? 'admin@autograph.local';
    const generated = this.environment.ADMIN_PASSWORD === undefined;
    const password = this.environment.ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
    try {
      await this.users.create({
        email,
        password_hash: await hashPassword(password),
        name: 'Administrator',
        role: 'admin',
      });
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return; // another instance won the race
      throw error;
    }
    const base = this.environment.PUBLIC_URL ?? `http://localhost:${this.environment.PORT}`;
    this.logger.warn(
      `Created the admin user ${email}${generated ? ` with the generated password ${password} (shown once)` : ''}. Get a token with:\n` +
        `  curl -X POST ${base}/v1/oauth/token -d grant_type=password -d username=${email} --data-urlencode 'password=${generated ? password : '<ADMIN_PASSWORD>'}'`,
    );
  }

  async create(principal: Principal, input: NewUser): Promise<UserDto> {
    if (principal.role !== 'admin') throw ApiError.forbidden('Only an admin can create users.');
    try {
      const user = await this.users.create({
        email: input.email,
        password_hash: await hashPassword(input.password),
        name: input.name ?? null,
        role: 'user',
      });
      return toUserDto(user.toObject<Stored<User>>());
    } catch (error) {
      if ((error as { code?: number }).code === 11000) {
        throw ApiError.conflict(
          'EMAIL_TAKEN',
          `A user with the email ${input.email} already exists.`,
        );
      }
      throw error;
    }
  }

  async get(principal: Principal, id: string): Promise<UserDto> {
    return this.owned.get(principal, id);
  }

  async list(principal: Principal, paging: Paging): Promise<Page<UserDto>> {
    return this.owned.list(principal, paging);
  }

  /** The user whose credentials these are, or null (same answer for unknown email and bad password). */
  async verifyCredentials(email: string, password: string): Promise<Stored<User> | null> {
    const user = await this.users
      .findOne({ email: email.trim().toLowerCase() })
      .lean<Stored<User>>()
      .exec();
    if (!user) {
      await hashPassword(password); // equalise timing with the wrong-password path
      return null;
    }
    return (await verifyPassword(password, user.password_hash)) ? user : null;
  }

  async findById(id: Types.ObjectId): Promise<Stored<User> | null> {
    return this.users.findById(id).lean<Stored<User>>().exec();
  }
}
