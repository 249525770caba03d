import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, Types } from 'mongoose';
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
import { checkOutputRequests, resolveOutputs } from './job-outputs.js';
import { Job, segmentCountOf, type StoredOutput } from './schemas/job.schema.js';

export function toJobDto(job: Stored<Job>): JobDto {
  return {
    id: job._id.toString(),
    input: { input_name: job.input.input_name },
    autograph: { segment_duration: job.segment_duration },
    outputs: job.outputs.map((output) => {
      const rendition = job.result?.renditions.find(({ height }) => height === output.height);
      return {
        ...output,
        width: rendition?.width,
        average_bitrate: rendition && Math.round(rendition.average_bandwidth / 1000),
        peak_bitrate: rendition && Math.round(rendition.bandwidth / 1000),
        mark_strength: rendition?.mark && Math.round(rendition.mark.strength * 1000) / 1000,
        encoder_psnr_y: rendition?.mark?.encoder_psnr_y,
      };
    }),
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
    if (input.outputs) checkOutputRequests(input.outputs);
    const pipeline = await this.pipelines.findOwned(principal, input.pipeline.id);
    const path = await this.storage.resolveInput(pipeline, input.input.input_name);
    const file = await this.files.registerVideo(principal, path, input.input.input_name);
    let outputs: StoredOutput[];
    try {
      outputs = resolveOutputs(input.outputs, file.media?.height ?? 0);
    } catch (error) {
      await this.files.remove(file._id);
      throw error;
    }
    const job = await this.jobs.create({
      user: principal.userId,
      application: principal.applicationId,
      pipeline: pipeline._id,
      input: { input_name: input.input.input_name },
      file: file._id,
      segment_duration: input.autograph?.segment_duration ?? 2,
      outputs,
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

  /** The user's jobs that have succeeded (the originals a copy may come from), oldest first. */
  async succeededOf(user: Types.ObjectId): Promise<Stored<Job>[]> {
    return this.jobs
      .find({ user, status: 'SUCCESS' })
      .sort({ _id: 1 })
      .lean<Stored<Job>[]>()
      .exec();
  }

  async list(principal: Principal, paging: Paging): Promise<Page<JobDto>> {
    return this.owned.list(principal, paging);
  }
}
