import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { join } from 'node:path';
import { AutographsService } from '../autographs/autographs.service.js';
import { Backtrace, type ExtractedData } from '../backtraces/schemas/backtrace.schema.js';
import { ApiError } from '../common/api-error.js';
import { LeasedQueue, leaseOptions } from '../common/leased-queue.js';
import type { Stored } from '../common/paging.js';
import { PollingWorker } from '../common/polling-worker.js';
import { ownerOf, type Principal } from '../common/principal.js';
import { Environment } from '../config/environment.js';
import { FilesService } from '../files/files.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { segmentCountOf } from '../jobs/schemas/job.schema.js';
import { WatermarkKeysService } from '../jobs/watermark-keys.service.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import { accuse, ExtractionError, extractSoftBits } from '../watermark/extract.js';
import { MediaError } from '../watermark/media.js';
import { readReference } from '../watermark/reference.js';
import { CodebookCache } from './codebooks.js';

/** A failure the backtrace reports as its error_code / error_msg. */
class BacktraceFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The scheduled, in-process extraction worker: claims QUEUED backtraces (see LeasedQueue),
 * registers the suspect copy, decodes and aligns it with the job's original, reads one soft
 * bit per segment, scores every autograph of the job and accuses those above the threshold
 * that keeps an innocent's false-accusation probability below 1e-6. Nothing above it →
 * `extracted_data: []`.
 */
@Injectable()
export class ExtractionWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExtractionWorker.name);
  private readonly queue: LeasedQueue<Backtrace>;
  private readonly codebooks = new CodebookCache();
  private readonly worker: PollingWorker<Backtrace>;

  constructor(
    @InjectModel(Backtrace.name) backtraces: Model<Backtrace>,
    private readonly environment: Environment,
    private readonly jobs: JobsService,
    private readonly autographs: AutographsService,
    private readonly pipelines: PipelinesService,
    private readonly storage: StorageService,
    private readonly files: FilesService,
    private readonly keys: WatermarkKeysService,
  ) {
    this.queue = new LeasedQueue(backtraces, leaseOptions(environment));
    this.worker = new PollingWorker({
      name: 'ExtractionWorker',
      concurrency: environment.EXTRACTION_CONCURRENCY,
      intervalMs: environment.WORKER_POLL_INTERVAL_MS,
      queue: this.queue,
      work: async (backtrace, signal) => ({
        extracted_data: await this.trace(backtrace, ownerOf(backtrace), signal),
      }),
      describeFailure: (error) => this.describe(error),
    });
  }

  onApplicationBootstrap(): void {
    if (this.environment.WORKERS_ENABLED) this.worker.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }

  /** Claims and processes one backtrace now (tests and benches); false when none was queued. */
  async processNext(): Promise<boolean> {
    return this.worker.processOne();
  }

  private async trace(
    backtrace: Stored<Backtrace>,
    owner: Principal,
    signal: AbortSignal,
  ): Promise<ExtractedData[]> {
    const job = await this.jobs.findOwned(owner, backtrace.job.toString());
    if (job.status !== 'SUCCESS' || !job.result) {
      throw new BacktraceFailure(
        'JOB_NOT_READY',
        `Job ${job._id.toString()} is ${job.status}: a copy can be traced once its job has succeeded.`,
      );
    }
    const identities = await this.autographs.identitiesOf(job._id);
    if (identities.length === 0) {
      throw new BacktraceFailure(
        'NO_AUTOGRAPHS',
        `Job ${job._id.toString()} has no autographs: no copy of it can carry one.`,
      );
    }
    const pipeline = await this.pipelines.findOwned(owner, backtrace.pipeline.toString());
    const path = await this.storage.resolveInput(pipeline, backtrace.input.input_name);
    const file = await this.files.registerVideo(owner, path, backtrace.input.input_name);
    await this.queue.heartbeat(backtrace, { file: file._id, percentage_completed: 1 });

    const jobId = job._id.toString();
    const segmentCount = segmentCountOf(job);
    const referencePath = join(job.result.output_dir, job.result.reference);
    if (!(await this.storage.isReadable(job.user, referencePath))) {
      throw new BacktraceFailure(
        'REFERENCE_UNAVAILABLE',
        `The detection reference of job ${jobId} is no longer inside its owner's storage roots.`,
      );
    }
    const reference = await readReference(referencePath);
    const [extraction] = await Promise.all([
      extractSoftBits({
        suspect: path,
        reference,
        key: this.keys.jobKey(jobId),
        signal,
        // Decoding is the work; scoring and writing the result are the last percent.
        onProgress: this.queue.progress(backtrace, 1, 99),
      }),
      this.files.recordSha256(file._id, path, signal),
    ]);

    const { ids, tags, codebook } = this.codebooks.get(jobId, identities, segmentCount, (id) =>
      this.keys.codeword(jobId, id, segmentCount),
    );
    const verdict = accuse({
      softBits: extraction.softBits,
      codebook,
      biases: this.keys.biases(jobId, segmentCount),
    });
    const accusedIds = verdict.accused.map(({ index }) => ids[index]);
    const stats = await this.autographs.statsOf(accusedIds, segmentCount);
    return verdict.accused.map(({ index, score }) => ({
      autograph_tag: tags[index],
      access_stats: stats.get(ids[index].toString()) ?? [],
      score: Number(score.toFixed(3)),
      threshold: Number(verdict.threshold.toFixed(3)),
      segments_observed: extraction.segmentsObserved,
    }));
  }

  private describe(error: unknown): [code: string, message: string] {
    if (error instanceof BacktraceFailure || error instanceof ApiError) {
      return [error.code, error.message];
    }
    if (error instanceof ExtractionError) {
      return error.code === 'too_short'
        ? ['COPY_TOO_SHORT', `The copy is too short to decide: ${error.message}.`]
        : ['REFERENCE_CORRUPT', `The job's detection reference is unreadable: ${error.message}.`];
    }
    if (error instanceof MediaError) {
      // ffmpeg's words name server paths and internals: logged, not shown.
      this.logger.warn(`backtrace failed: ${error.message}`);
      return error.code === 'not_found'
        ? ['INPUT_NOT_FOUND', 'The suspect copy disappeared from the pipeline input directory.']
        : ['INPUT_CORRUPT', 'The suspect copy could not be decoded (corrupt or truncated file).'];
    }
    this.logger.error(`backtrace failed: ${(error as Error).stack ?? String(error)}`);
    return ['INTERNAL_ERROR', 'Extraction failed on an internal error; it has been logged.'];
  }
}
