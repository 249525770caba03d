import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AutographsService } from '../autographs/autographs.service.js';
import { LeasedQueue, leaseOptions } from '../common/leased-queue.js';
import type { Stored } from '../common/paging.js';
import { ownerOf } from '../common/principal.js';
import { WorkFailure } from '../common/work-failure.js';
import { Environment } from '../config/environment.js';
import { FilesService } from '../files/files.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { segmentCountOf } from '../jobs/schemas/job.schema.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { join } from 'node:path';
import { Backtrace, type ExtractedData } from './schemas/backtrace.schema.js';

/**
 * The backtrace use case: registers the suspect copy, has the engine decode and align it
 * with the job's original, read one soft bit per segment and score every autograph of the
 * job, and names those above the threshold that keeps an innocent's false-accusation
 * probability below 1e-6 with their access stats. Nothing above it → `extracted_data: []`.
 */
@Injectable()
export class TracingService {
  /** Queued backtraces, claimed with a lease by the extraction worker. */
  readonly queue: LeasedQueue<Backtrace>;

  constructor(
    @InjectModel(Backtrace.name) backtraces: Model<Backtrace>,
    environment: Environment,
    private readonly jobs: JobsService,
    private readonly autographs: AutographsService,
    private readonly pipelines: PipelinesService,
    private readonly storage: StorageService,
    private readonly files: FilesService,
    private readonly engine: WatermarkEngine,
  ) {
    this.queue = new LeasedQueue(backtraces, leaseOptions(environment));
  }

  async trace(backtrace: Stored<Backtrace>, signal: AbortSignal): Promise<ExtractedData[]> {
    const owner = ownerOf(backtrace);
    const job = await this.jobs.findOwned(owner, backtrace.job.toString());
    if (job.status !== 'SUCCESS' || !job.result) {
      throw new WorkFailure(
        'JOB_NOT_READY',
        `Job ${job._id.toString()} is ${job.status}: a copy can be traced once its job has succeeded.`,
      );
    }
    const identities = await this.autographs.identitiesOf(job._id);
    if (identities.length === 0) {
      throw new WorkFailure(
        'NO_AUTOGRAPHS',
        `Job ${job._id.toString()} has no autographs: no copy of it can carry one.`,
      );
    }
    const pipeline = await this.pipelines.findOwned(owner, backtrace.pipeline.toString());
    const path = await this.storage.resolveInput(pipeline, backtrace.input.input_name);
    const file = await this.files.registerVideo(owner, path, backtrace.input.input_name);
    await this.queue.heartbeat(backtrace, { file: file._id, percentage_completed: 1 });

    const segmentCount = segmentCountOf(job);
    const referencePath = join(job.result.output_dir, job.result.reference);
    if (!(await this.storage.isReadable(job.user, referencePath))) {
      throw new WorkFailure(
        'REFERENCE_UNAVAILABLE',
        `The detection reference of job ${job._id.toString()} is no longer inside its owner's storage roots.`,
      );
    }
    const [verdict] = await Promise.all([
      this.engine.trace({
        jobId: job._id.toString(),
        referencePath,
        suspect: path,
        identities,
        segmentCount,
        signal,
        // Decoding is the work; scoring and writing the result are the last percent.
        onProgress: this.queue.progress(backtrace, 1, 99),
      }),
      this.files.recordSha256(file._id, path, signal),
    ]);
    const stats = await this.autographs.statsOf(
      verdict.accused.map(({ id }) => id),
      segmentCount,
    );
    return verdict.accused.map(({ id, tag, score }) => ({
      autograph_tag: tag,
      access_stats: stats.get(id.toString()) ?? [],
      score: Number(score.toFixed(3)),
      threshold: Number(verdict.threshold.toFixed(3)),
      segments_observed: verdict.segmentsObserved,
    }));
  }
}
