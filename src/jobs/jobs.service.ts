import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, Types } from 'mongoose';
import { ApiError } from '../common/api-error.js';
import type { Paging } from '../common/dto/query.dto.js';
import { type Page, type Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { OwnedRepository } from '../common/owned-repository.js';
import { RefExpander } from '../common/ref-expander.service.js';
import { Ref } from '../common/refs.js';
import { toWorkStateDto } from '../common/work-state.js';
import { FilesService } from '../files/files.service.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import type { JobDto, NewJob } from './dto/job.dto.js';
import { Job, segmentCountOf } from './schemas/job.schema.js';

export function toJobDto(job: Stored<Job>): JobDto {
  return {
    id: job._id.toString(),
    input: { input_name: job.input.input_name },
    autograph: { segment_duration: job.segment_duration },
    outputs: job.result
      ? job.result.renditions.map(({ height, width }) => ({ height, width }))
      : job.output_heights.map((height) => ({ height })),
    segment_count: job.result ? segmentCountOf(job) : undefined,
    duration: job.result?.duration,
    audio_tracks: job.result?.audio_tracks?.map(({ language, name }) => ({ language, name })),
    pipeline: new Ref('pipeline', job.pipeline.toString()),
    file: Ref.of('file', job.file),
    ...toWorkStateDto(job),
    user: new Ref('user', job.user.toString()),
    application: Ref.of('application', job.application),
    created_at: job.created_at.getTime(),
    updated_at: job.updated_at.getTime(),
  };
}

@Injectable()
export class JobsService {
  private readonly owned: OwnedRepository<Job, JobDto>;
  constructor(
    @InjectModel(Job.name) private readonly jobs: Model<Job>,
    private readonly pipelines: PipelinesService,
    private readonly storage: StorageService,
    private readonly files: FilesService,
    expander: RefExpander,
  ) {
    this.owned = new OwnedRepository(jobs, 'job', expander, toJobDto);
  }

  /**
   * Queues an embedding job. The original must exist in the pipeline's input directory and
   * be a video: it is registered as a file before anything else is written.
   */
  async create(principal: Principal, input: NewJob): Promise<JobDto> {
    const pipeline = await this.pipelines.findOwned(principal, input.pipeline.id);
    const path = await this.storage.resolveInput(pipeline, input.input.input_name);
    const file = await this.files.registerVideo(principal, path, input.input.input_name);
    const sourceHeight = file.media?.height ?? 0;
    const heights = [...new Set(input.outputs?.map((output) => output.height) ?? [sourceHeight])];
    const tooHigh = heights.filter((height) => height > sourceHeight);
    if (tooHigh.length > 0) {
      await this.files.remove(file._id);
      throw ApiError.badRequest(
        'OUTPUT_UPSCALE',
        `job.outputs asks for ${tooHigh.map((h) => `${h}p`).join(', ')} but the source is ${sourceHeight}p: renditions are never upscaled.`,
      );
    }
    const job = await this.jobs.create({
      user: principal.userId,
      application: principal.applicationId,
      pipeline: pipeline._id,
      input: { input_name: input.input.input_name },
      file: file._id,
      segment_duration: input.autograph?.segment_duration ?? 2,
      output_heights: heights.sort((a, b) => b - a),
    });
    return toJobDto(job.toObject<Stored<Job>>());
  }

  async get(principal: Principal, id: string): Promise<JobDto> {
    return toJobDto(await this.findOwned(principal, id));
  }

  /** The caller's job (any job for an admin), or 404. */
  async findOwned(principal: Principal, id: string): Promise<Stored<Job>> {
    return this.owned.findOwned(principal, id);
  }

  /** A job by id whoever owns it (playback links act for nobody), or null. */
  async findById(id: Types.ObjectId): Promise<Stored<Job> | null> {
    return this.jobs.findById(id).lean<Stored<Job>>().exec();
  }

  async list(principal: Principal, paging: Paging): Promise<Page<JobDto>> {
    return this.owned.list(principal, paging);
  }
}
