import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Paging } from '../common/dto/query.dto.js';
import { type Page, type Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { OwnedRepository } from '../common/owned-repository.js';
import { ApiError } from '../common/api-error.js';
import { RefExpander } from '../common/ref-expander.service.js';
import { Ref } from '../common/refs.js';
import { toWorkStateDto } from '../common/work-state.js';
import { JobsService } from '../jobs/jobs.service.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import type { BacktraceDto, NewBacktrace } from './dto/backtrace.dto.js';
import { Backtrace } from './schemas/backtrace.schema.js';

export function toBacktraceDto(backtrace: Stored<Backtrace>): BacktraceDto {
  const { status, percentage_completed, error_msg, error_code, finished_at, version } =
    toWorkStateDto(backtrace);
  return {
    input: { input_name: backtrace.input.input_name },
    inputs:
      backtrace.inputs.length > 1
        ? backtrace.inputs.map(({ input_name }) => ({ input_name }))
        : null,
    pipeline: new Ref('pipeline', backtrace.pipeline.toString()),
    file: Ref.of('file', backtrace.file),
    extracted_data: backtrace.extracted_data.map((entry) => ({
      autograph_tag: entry.autograph_tag,
      access_stats: entry.access_stats.map((stat) => ({ ...stat })),
      score: entry.score,
      threshold: entry.threshold,
      segments_observed: entry.segments_observed,
      innocent_probability: entry.innocent_probability,
      any_innocent_probability: entry.any_innocent_probability,
    })),
    application: Ref.of('application', backtrace.application),
    job: Ref.of('job', backtrace.job),
    verdict: backtrace.verdict
      ? { ...backtrace.verdict, jobs_traced: backtrace.verdict.jobs_traced ?? 1 }
      : null,
    status,
    percentage_completed,
    error_msg,
    error_code,
    finished_at,
    version,
    user: new Ref('user', backtrace.user.toString()),
    created_at: backtrace.created_at.getTime(),
    updated_at: backtrace.updated_at.getTime(),
    id: backtrace._id.toString(),
  };
}

@Injectable()
export class BacktracesService {
  private readonly owned: OwnedRepository<Backtrace, BacktraceDto>;
  constructor(
    @InjectModel(Backtrace.name) private readonly backtraces: Model<Backtrace>,
    private readonly jobs: JobsService,
    private readonly pipelines: PipelinesService,
    private readonly storage: StorageService,
    expander: RefExpander,
  ) {
    this.owned = new OwnedRepository(backtraces, 'backtrace', expander, toBacktraceDto);
  }

  /**
   * Queues a backtrace of one or several copies of a leak, read from the caller's pipeline, of
   * the caller's job (found by the worker when `jobId` is not given).
   */
  async create(
    principal: Principal,
    jobId: string | undefined,
    input: NewBacktrace,
  ): Promise<BacktraceDto> {
    if (input.input && input.inputs) {
      throw ApiError.badRequest(
        'INPUT_AMBIGUOUS',
        'Give backtrace.input (one copy) or backtrace.inputs (several copies of one leak), not both.',
      );
    }
    const names = (input.inputs ?? (input.input ? [input.input] : [])).map(
      ({ input_name }) => input_name,
    );
    const job = jobId ? await this.jobs.findOwned(principal, jobId) : null;
    const pipeline = await this.pipelines.findOwned(principal, input.pipeline.id);
    for (const name of names) await this.storage.resolveInput(pipeline, name);
    const backtrace = await this.backtraces.create({
      user: principal.userId,
      application: principal.applicationId,
      job: job?._id ?? null,
      pipeline: pipeline._id,
      input: { input_name: names[0] },
      inputs: names.map((input_name) => ({ input_name })),
    });
    return toBacktraceDto(backtrace.toObject<Stored<Backtrace>>());
  }

  /** The backtrace if the caller may see it (its owner or an admin), or 404. */
  async findOwned(principal: Principal, id: string): Promise<Stored<Backtrace>> {
    return this.owned.findOwned(principal, id);
  }

  async get(principal: Principal, id: string): Promise<BacktraceDto> {
    return this.owned.get(principal, id);
  }

  async list(principal: Principal, paging: Paging): Promise<Page<BacktraceDto>> {
    return this.owned.list(principal, paging);
  }
}
