import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { timingSafeEqual } from 'node:crypto';
import { Model, Types } from 'mongoose';
import { ApiError } from '../common/api-error.js';
import type { Paging } from '../common/dto/query.dto.js';
import { type Page, type Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { OwnedRepository } from '../common/owned-repository.js';
import { RefExpander } from '../common/ref-expander.service.js';
import { Ref } from '../common/refs.js';
import type { ApplicationDto, NewApplication } from './dto/application.dto.js';
import { Application } from './schemas/application.schema.js';
import { newSecret, sha256 } from '../common/secrets.js';
import { TokensService } from './tokens.service.js';

export function toApplicationDto(application: Stored<Application>): ApplicationDto {
  return {
    id: application._id.toString(),
    name: application.name,
    client_id: application.client_id,
    is_default: application.is_default,
    user: new Ref('user', application.user.toString()),
    created_at: application.created_at.getTime(),
    updated_at: application.updated_at.getTime(),
  };
}

@Injectable()
export class ApplicationsService {
  private readonly owned: OwnedRepository<Application, ApplicationDto>;
  constructor(
    @InjectModel(Application.name) private readonly applications: Model<Application>,
    expander: RefExpander,
    private readonly tokens: TokensService,
  ) {
    this.owned = new OwnedRepository(applications, 'application', expander, toApplicationDto);
  }

  /** Creates a client; the answer is the only place its secret ever appears. */
  async create(principal: Principal, input: NewApplication): Promise<ApplicationDto> {
    const secret = newSecret();
    const application = await this.applications.create({
      user: principal.userId,
      name: input.name,
      client_id: newSecret().slice(0, 32),
      client_secret_hash: sha256(secret),
    });
    return {
      ...toApplicationDto(application.toObject<Stored<Application>>()),
      client_secret: secret,
    };
  }

  async get(principal: Principal, id: string): Promise<ApplicationDto> {
    return this.owned.get(principal, id);
  }

  /** A new client secret (shown in this answer only); the old one and its tokens stop working. */
  async rotateSecret(principal: Principal, id: string): Promise<ApplicationDto> {
    const application = await this.owned.findOwned(principal, id);
    const secret = newSecret();
    const updated = await this.applications
      .findByIdAndUpdate(
        application._id,
        { $set: { client_secret_hash: sha256(secret) } },
        { returnDocument: 'after' },
      )
      .lean<Stored<Application>>()
      .exec();
    if (!updated) throw ApiError.notFound('application', id);
    await this.tokens.revokeAll({ application: application._id });
    return { ...toApplicationDto(updated), client_secret: secret };
  }

  /** Deletes a client and revokes every token issued to it. */
  async delete(principal: Principal, id: string): Promise<void> {
    const application = await this.owned.findOwned(principal, id);
    if (application.is_default) {
      throw ApiError.conflict(
        'DEFAULT_APPLICATION',
        'The default application of password logins cannot be deleted; rotate its secret instead.',
      );
    }
    await this.applications.deleteOne({ _id: application._id }).exec();
    await this.tokens.revokeAll({ application: application._id });
  }

  async list(principal: Principal, paging: Paging): Promise<Page<ApplicationDto>> {
    return this.owned.list(principal, paging);
  }

  /** The client with these credentials, or null. */
  async authenticateClient(clientId: string, secret: string): Promise<Stored<Application> | null> {
    const application = await this.applications
      .findOne({ client_id: clientId })
      .lean<Stored<Application>>()
      .exec();
    const given = Buffer.from(sha256(secret), 'hex');
    const expected = Buffer.from(application?.client_secret_hash ?? sha256(''), 'hex');
    return application && timingSafeEqual(given, expected) ? application : null;
  }

  /** The user's default client, created on first use. */
  async defaultFor(userId: Types.ObjectId): Promise<Stored<Application>> {
    const application = await this.applications
      .findOneAndUpdate(
        { user: userId, is_default: true },
        {
          $setOnInsert: {
            name: 'default',
            client_id: newSecret().slice(0, 32),
            client_secret_hash: sha256(newSecret()),
          },
        },
        { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true },
      )
      .lean<Stored<Application>>()
      .exec();
    return application;
  }
}
