import { Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import { ApiError } from '../common/api-error.js';
import type { Paging } from '../common/dto/query.dto.js';
import { type Page, type Stored } from '../common/paging.js';
import { ownedBy, type Principal } from '../common/principal.js';
import { OwnedRepository } from '../common/owned-repository.js';
import { RefExpander } from '../common/ref-expander.service.js';
import { Ref } from '../common/refs.js';
import type { NewPipeline, PipelineChanges, PipelineDto } from './dto/pipeline.dto.js';
import { Pipeline } from './schemas/pipeline.schema.js';
import { StorageService } from './storage.service.js';

export function toPipelineDto(pipeline: Stored<Pipeline>): PipelineDto {
  return {
    id: pipeline._id.toString(),
    name: pipeline.name,
    input: { uri: pipeline.input.uri },
    output: { uri: pipeline.output.uri },
    user: new Ref('user', pipeline.user.toString()),
    application: Ref.of('application', pipeline.application),
    created_at: pipeline.created_at.getTime(),
    updated_at: pipeline.updated_at.getTime(),
  };
}

/** Collections whose documents reference a pipeline (read by name: they belong to later modules). */
const REFERENCING_COLLECTIONS = ['jobs', 'backtraces'];

@Injectable()
export class PipelinesService {
  private readonly owned: OwnedRepository<Pipeline, PipelineDto>;
  constructor(
    @InjectModel(Pipeline.name) private readonly pipelines: Model<Pipeline>,
    @InjectConnection() private readonly connection: Connection,
    private readonly storage: StorageService,
    expander: RefExpander,
  ) {
    this.owned = new OwnedRepository(pipelines, 'pipeline', expander, toPipelineDto);
  }

  async create(principal: Principal, input: NewPipeline): Promise<PipelineDto> {
    const [inputUri, outputUri] = await Promise.all([
      this.storage.checkDirectory(principal.userId, input.input.uri, 'pipeline.input.uri'),
      this.storage.checkDirectory(principal.userId, input.output.uri, 'pipeline.output.uri'),
    ]);
    const pipeline = await this.pipelines.create({
      user: principal.userId,
      application: principal.applicationId,
      name: input.name,
      input: { uri: inputUri },
      output: { uri: outputUri },
    });
    return toPipelineDto(pipeline.toObject<Stored<Pipeline>>());
  }

  async get(principal: Principal, id: string): Promise<PipelineDto> {
    return toPipelineDto(await this.findOwned(principal, id));
  }

  /** The caller's pipeline (any pipeline for an admin), or 404. */
  async findOwned(principal: Principal, id: string): Promise<Stored<Pipeline>> {
    return this.owned.findOwned(principal, id);
  }

  async list(principal: Principal, paging: Paging): Promise<Page<PipelineDto>> {
    return this.owned.list(principal, paging);
  }

  async update(principal: Principal, id: string, changes: PipelineChanges): Promise<PipelineDto> {
    const { user: owner } = await this.findOwned(principal, id);
    const set: Partial<Pipeline> = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.input)
      set.input = {
        uri: await this.storage.checkDirectory(owner, changes.input.uri, 'pipeline.input.uri'),
      };
    if (changes.output) {
      set.output = {
        uri: await this.storage.checkDirectory(owner, changes.output.uri, 'pipeline.output.uri'),
      };
    }
    const updated = await this.pipelines
      .findOneAndUpdate(
        { _id: id, ...ownedBy(principal) },
        { $set: set },
        { returnDocument: 'after' },
      )
      .lean<Stored<Pipeline>>()
      .exec();
    if (!updated) throw ApiError.notFound('pipeline', id);
    return toPipelineDto(updated);
  }

  /** Deletes an unused pipeline; one that jobs or backtraces still name is kept (409). */
  async delete(principal: Principal, id: string): Promise<void> {
    const pipeline = await this.findOwned(principal, id);
    for (const name of REFERENCING_COLLECTIONS) {
      const uses = await this.connection
        .collection(name)
        .countDocuments({ pipeline: pipeline._id });
      if (uses > 0) {
        throw ApiError.conflict(
          'PIPELINE_IN_USE',
          `Pipeline ${id} is used by ${uses} ${name}; it can be deleted once nothing refers to it.`,
        );
      }
    }
    await this.pipelines.deleteOne({ _id: pipeline._id }).exec();
  }
}
