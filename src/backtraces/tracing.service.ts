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
import { type Job, type JobResult, segmentCountOf } from '../jobs/schemas/job.schema.js';
import type { File } from '../files/schemas/file.schema.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { join } from 'node:path';
import { buildInfo } from '../common/build-info.js';
import { Backtrace } from './schemas/backtrace.schema.js';

/**
 * The backtrace use case: registers the suspect copy, has the engine decode and align it
 * with the job's original, read one soft bit per segment and score every autograph of the
 * job, and names those above the threshold that keeps the probability of accusing any
 * innocent autograph of the job below FALSE_ACCUSATION_PROBABILITY, with their access stats
 * and what the verdict rests on. Nothing above it → `extracted_data: []`.
 */
@Injectable()
export class TracingService {
  /** Queued backtraces, claimed with a lease by the extraction worker. */
  readonly queue: LeasedQueue<Backtrace>;
  private readonly falseAccusationProbability: number;

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
    this.falseAccusationProbability = environment.FALSE_ACCUSATION_PROBABILITY;
  }

  async trace(backtrace: Stored<Backtrace>, signal: AbortSignal): Promise<Partial<Backtrace>> {
    const owner = ownerOf(backtrace);
    const pipeline = await this.pipelines.findOwned(owner, backtrace.pipeline.toString());
    const names = inputNamesOf(backtrace);
    const paths: string[] = [];
    const files: Stored<File>[] = [];
    for (const name of names) {
      const path = await this.storage.resolveInput(pipeline, name);
      paths.push(path);
      files.push(await this.files.registerVideo(owner, path, name));
    }
    const fileIds = files.map(({ _id }) => _id);
    await this.queue.heartbeat(backtrace, { file: fileIds[0], files: fileIds });
    const job = backtrace.job
      ? await this.jobs.findOwned(owner, backtrace.job.toString())
      : await this.findOriginal(backtrace, paths[0], signal);
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
    const segmentCount = segmentCountOf(job);
    const referencePath = referencePathOf(job.result);
    if (!(await this.storage.isReadable(job.user, referencePath))) {
      throw new WorkFailure(
        'REFERENCE_UNAVAILABLE',
        `The detection reference of job ${job._id.toString()} is no longer inside its owner's storage roots.`,
      );
    }
    const [verdict, referenceSha256] = await Promise.all([
      this.engine.trace({
        jobId: job._id.toString(),
        referencePath,
        suspects: paths,
        identities,
        segmentCount,
        falseAccusationProbability: this.falseAccusationProbability,
        signal,
        // Decoding is the work; scoring and writing the result are the last percent.
        onProgress: this.queue.progress(backtrace, 1, 99),
      }),
      this.files.sha256Of(referencePath, signal),
      ...files.map((file, i) => this.files.recordSha256(file._id, paths[i], signal)),
    ]);
    const stats = await this.autographs.statsOf(
      verdict.accused.map(({ id }) => id),
      segmentCount,
    );
    return {
      job: job._id,
      extracted_data: verdict.accused.map(({ id, tag, score, ...bound }) => ({
        autograph: id,
        autograph_tag: tag,
        access_stats: stats.get(id.toString()) ?? [],
        score: round(score, 3),
        threshold: round(verdict.threshold, 3),
        segments_observed: verdict.segmentsObserved,
        innocent_probability: significant(bound.innocentProbability),
        any_innocent_probability: significant(bound.anyInnocentProbability),
      })),
      verdict: {
        autographs_scored: verdict.autographsScored,
        false_accusation_probability: verdict.falseAccusationProbability,
        per_autograph_probability: significant(verdict.perInnocentProbability),
        threshold: Number.isFinite(verdict.threshold) ? round(verdict.threshold, 3) : null,
        segments_observed: verdict.segmentsObserved,
        segment_count: segmentCount,
        max_innocent_score: Number.isFinite(verdict.maxInnocentScore)
          ? round(verdict.maxInnocentScore, 3)
          : null,
      },
      evidence: {
        soft_bits: Array.from(verdict.softBits, (bit) => round(bit, 4)),
        copies: verdict.copies.map(({ alignment, segmentsObserved }) => ({
          segments_observed: segmentsObserved,
          matched: alignment.matched,
          offset_seconds: round(alignment.offsetFrames / verdict.frameRate, 3),
          rate: round(alignment.rate, 5),
          crop: mapValues(cropOf(alignment.geometry), (share) => round(share, 4)),
          confidence: round(alignment.confidence, 4),
          locks: alignment.locks,
          frames_aligned: alignment.framesAligned,
        })),
        histogram: { ...verdict.histogram, start: round(verdict.histogram.start, 3) },
        reference_sha256: referenceSha256,
        software: buildInfo(),
      },
    };
  }

  /**
   * The owner's job whose original the copy comes from (the job was not given), found by the
   * alignment's signatures among every succeeded job of the owner; ORIGINAL_NOT_FOUND if none.
   */
  private async findOriginal(
    backtrace: Stored<Backtrace>,
    path: string,
    signal: AbortSignal,
  ): Promise<Stored<Job>> {
    const jobs = (await this.jobs.succeededOf(backtrace.user)).filter(
      (job): job is Stored<Job> & { result: JobResult } => job.result !== null,
    );
    const readable = [];
    for (const job of jobs) {
      if (await this.storage.isReadable(job.user, referencePathOf(job.result))) readable.push(job);
    }
    const found = await this.engine.findOriginal(
      path,
      readable.map((job) => ({
        jobId: job._id.toString(),
        referencePath: referencePathOf(job.result),
      })),
      signal,
    );
    const job = found && readable.find(({ _id }) => _id.toString() === found.id);
    if (!job) {
      throw new WorkFailure(
        'ORIGINAL_NOT_FOUND',
        `The copy matches none of the ${readable.length} succeeded jobs of its owner: give job_id if its original is known.`,
      );
    }
    await this.queue.heartbeat(backtrace, { job: job._id });
    return job;
  }
}

/** The names of the backtrace's copies: `inputs`, or the seed's single `input`. */
export function inputNamesOf(backtrace: Pick<Backtrace, 'input' | 'inputs'>): string[] {
  return backtrace.inputs.length > 0
    ? backtrace.inputs.map(({ input_name }) => input_name)
    : [backtrace.input.input_name];
}

function referencePathOf(result: JobResult): string {
  return join(result.output_dir, result.reference);
}

function round(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}

/** Probabilities span hundreds of orders of magnitude: 4 significant digits. */
function significant(value: number): number {
  return Number(value.toPrecision(4));
}

/** The four shares of the copy's crop (without the engine's mirror flag). */
function cropOf({ left, right, top, bottom }: Record<'left' | 'right' | 'top' | 'bottom', number>) {
  return { left, right, top, bottom };
}

function mapValues<K extends string>(
  record: Record<K, number>,
  map: (value: number) => number,
): Record<K, number> {
  return Object.fromEntries(
    Object.entries<number>(record).map(([key, value]) => [key, map(value)]),
  ) as Record<K, number>;
}
