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
import type { NewUser, UserChanges, UserDto } from './dto/user.dto.js';
import { hashPassword, verifyPassword } from './password.js';
import { User } from './schemas/user.schema.js';
import { StorageRoots } from './storage-roots.js';

export function toUserDto(user: Stored<User>, storageRoots: string[]): UserDto {
  return {
    id: user._id.toString(),
    email: user.email,
    name: user.name,
    role: user.role,
    active: !user.disabled_at,
    storage_roots: storageRoots,
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
    private readonly storageRoots: StorageRoots,
  ) {
    this.owned = new OwnedRepository(
      users,
      'user',
      expander,
      (user) => this.toDto(user),
      (principal) => (principal.role === 'admin' ? {} : { _id: principal.userId }),
    );
  }

  private toDto(user: Stored<User>): UserDto {
    return toUserDto(user, this.storageRoots.urisOf(user));
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
      return this.toDto(user.toObject<Stored<User>>());
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

  /** The caller, with their own storage root created if it is not there yet. */
  async me(principal: Principal): Promise<UserDto> {
    const user = await this.findById(principal.userId);
    if (!user) throw ApiError.notFound('user', principal.userId.toString());
    await this.storageRoots.realOf(user);
    return this.toDto(user);
  }

  /**
   * A user changes their own password (giving the present one); an admin changes anyone's,
   * and their storage roots and whether they are active. A new password or a deactivation
   * revokes every token issued before.
   */
  async update(principal: Principal, id: string, changes: UserChanges): Promise<UserDto> {
    const isAdmin = principal.role === 'admin';
    const isSelf = principal.userId.equals(id);
    if (!isAdmin && !isSelf) throw ApiError.notFound('user', id);
    if (!isAdmin && (changes.storage_roots !== undefined || changes.active !== undefined)) {
      throw ApiError.forbidden('Only an admin can change storage_roots or active.');
    }
    if (isSelf && changes.active === false) {
      throw ApiError.badRequest('CANNOT_DEACTIVATE_SELF', 'You cannot deactivate yourself.');
    }
    const set: Partial<User> = {};
    if (changes.storage_roots) {
      set.storage_roots = await this.storageRoots.assignable(changes.storage_roots);
    }
    if (changes.password !== undefined) {
      if (isSelf) await this.checkPresentPassword(principal.userId, changes.current_password);
      set.password_hash = await hashPassword(changes.password);
      set.tokens_valid_after = new Date();
    }
    if (changes.active !== undefined) {
      set.disabled_at = changes.active ? null : new Date();
      if (!changes.active) set.tokens_valid_after = new Date();
    }
    const user = await this.users
      .findByIdAndUpdate(id, { $set: set }, { returnDocument: 'after' })
      .lean<Stored<User>>()
      .exec();
    if (!user) throw ApiError.notFound('user', id);
    return this.toDto(user);
  }

  private async checkPresentPassword(userId: Types.ObjectId, given?: string): Promise<void> {
    const user = await this.findById(userId);
    if (!user || given === undefined || !(await verifyPassword(given, user.password_hash))) {
      throw ApiError.badRequest(
        'WRONG_PASSWORD',
        'user.current_password must be your present password to change it.',
      );
    }
  }

  /** Whether a token issued at `issuedAt` still speaks for the user (active, not superseded). */
  acceptsTokensIssuedAt(user: Stored<User>, issuedAt: Date): boolean {
    return !user.disabled_at && (!user.tokens_valid_after || issuedAt >= user.tokens_valid_after);
  }

  /** Real paths of the directories the user may name in pipelines (none for an unknown user). */
  async storageRootsOf(userId: Types.ObjectId): Promise<string[]> {
    const user = await this.findById(userId);
    return user ? this.storageRoots.realOf(user) : [];
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
    const matches = await verifyPassword(password, user.password_hash);
    return matches && !user.disabled_at ? user : null;
  }

  async isActive(id: Types.ObjectId): Promise<boolean> {
    const user = await this.findById(id);
    return user !== null && !user.disabled_at;
  }

  async findById(id: Types.ObjectId): Promise<Stored<User> | null> {
    return this.users.findById(id).lean<Stored<User>>().exec();
  }
}
