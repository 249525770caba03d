import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, Types } from 'mongoose';
import { AutographsService } from '../autographs/autographs.service.js';
import { LeasedQueue, leaseOptions } from '../common/leased-queue.js';
import type { Stored } from '../common/paging.js';
import { ownerOf } from '../common/principal.js';
import { WorkFailure } from '../common/work-failure.js';
import { Environment } from '../config/environment.js';
import { FilesService } from '../files/files.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { type Job, segmentCountOf } from '../jobs/schemas/job.schema.js';
import type { File } from '../files/schemas/file.schema.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import {
  type DecodedStart,
  type TraceResult,
  WatermarkEngine,
} from '../watermarking/watermark-engine.service.js';
import { buildInfo } from '../common/build-info.js';
import { JobFinderService, referencePathOf, type SucceededJob } from './job-finder.service.js';
import { Backtrace } from './schemas/backtrace.schema.js';

/**
 * The backtrace use case: registers the suspect copy, has the engine decode and align it
 * with the job's original, read one soft bit per segment and score every autograph of the
 * job, and names those above the threshold that keeps the probability of accusing any
 * innocent autograph of the job below FALSE_ACCUSATION_PROBABILITY, with their access stats
 * and what the verdict rests on. Nothing above it → `extracted_data: []`. Without job_id, the
 * copy is traced against every job JobFinderService finds equally matching (jobs of one
 * original) with the bound shared out, and the job whose autographs it accuses is reported.
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
    private readonly finder: JobFinderService,
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
    const [traced] = await Promise.all([
      this.traceJobs(backtrace, paths, signal),
      ...files.map((file, i) => this.files.recordSha256(file._id, paths[i], signal)),
    ]);
    const { job, segmentCount, verdict } = mostSignificant(traced);
    const referenceSha256 = await this.files.sha256Of(referencePathOf(job.result), signal);
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
        jobs_traced: traced.length,
        false_accusation_probability: this.falseAccusationProbability,
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
          mirrored: alignment.geometry.mirrored === true,
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
   * Traces the copies against the backtrace's job, or else against every job of its owner that
   * finding the job says matches equally.
   */
  private async traceJobs(
    backtrace: Stored<Backtrace>,
    paths: string[],
    signal: AbortSignal,
  ): Promise<TracedJob[]> {
    // What finding the job decoded of the first copy, for its trace against the first job.
    let start: DecodedStart | null = null;
    try {
      let jobs: Stored<Job>[];
      if (backtrace.job) {
        jobs = [await this.jobs.findOwned(ownerOf(backtrace), backtrace.job.toString())];
      } else {
        ({ jobs, start } = await this.finder.jobsOf(backtrace.user, paths[0], signal));
        await this.queue.heartbeat(backtrace, { job: jobs[0]._id });
      }
      const traceable = await this.traceableOf(jobs);
      const startsFirst = traceable[0]?.job._id.equals(jobs[0]._id) ?? false;
      // Several jobs of one original: each is held to an equal share of the bound, so the
      // probability that the backtrace accuses any innocent of any of them stays within it.
      const share = this.falseAccusationProbability / traceable.length;
      return await this.traceEach(
        backtrace,
        traceable,
        paths,
        share,
        signal,
        startsFirst ? start : null,
      );
    } finally {
      // Stops the decoder finding the job left paused, if no trace went on with it.
      await start?.rest.return(undefined);
    }
  }

  /**
   * The jobs a copy can be traced against, with their autographs: succeeded, with autographs
   * and a readable reference. None → the first job's reason.
   */
  private async traceableOf(jobs: Stored<Job>[]): Promise<TraceableJob[]> {
    const traceable: TraceableJob[] = [];
    let firstFailure: WorkFailure | null = null;
    for (const job of jobs) {
      const checked = await this.traceable(job);
      if (checked instanceof WorkFailure) firstFailure ??= checked;
      else traceable.push(checked);
    }
    if (traceable.length === 0 && firstFailure) throw firstFailure;
    return traceable;
  }

  private async traceable(job: Stored<Job>): Promise<TraceableJob | WorkFailure> {
    const id = job._id.toString();
    if (job.status !== 'SUCCESS' || !job.result) {
      return new WorkFailure(
        'JOB_NOT_READY',
        `Job ${id} is ${job.status}: a copy can be traced once its job has succeeded.`,
      );
    }
    const identities = await this.autographs.identitiesOf(job._id);
    if (identities.length === 0) {
      return new WorkFailure(
        'NO_AUTOGRAPHS',
        `Job ${id} has no autographs: no copy of it can carry one.`,
      );
    }
    if (!(await this.storage.isReadable(job.user, referencePathOf(job.result)))) {
      return new WorkFailure(
        'REFERENCE_UNAVAILABLE',
        `The detection reference of job ${id} is no longer inside its owner's storage roots.`,
      );
    }
    return { job: { ...job, result: job.result }, identities, segmentCount: segmentCountOf(job) };
  }

  /** Traces the copies against each job in turn (decoding is the work: 1-99 % shared out). */
  private async traceEach(
    backtrace: Stored<Backtrace>,
    jobs: TraceableJob[],
    suspects: string[],
    falseAccusationProbability: number,
    signal: AbortSignal,
    start: DecodedStart | null,
  ): Promise<TracedJob[]> {
    const traced: TracedJob[] = [];
    for (const [i, traceable] of jobs.entries()) {
      const { job, identities, segmentCount } = traceable;
      const from = 1 + Math.round((98 * i) / jobs.length);
      const to = 1 + Math.round((98 * (i + 1)) / jobs.length);
      const verdict = await this.engine.trace({
        jobId: job._id.toString(),
        referencePath: referencePathOf(job.result),
        suspects,
        identities,
        segmentCount,
        falseAccusationProbability,
        signal,
        onProgress: this.queue.progress(backtrace, from, to),
        // Decoded once: only the first trace goes on from it.
        start: i === 0 ? (start ?? undefined) : undefined,
      });
      traced.push({ ...traceable, verdict });
    }
    return traced;
  }
}

interface TraceableJob {
  job: SucceededJob;
  identities: { _id: Types.ObjectId; tag: string }[];
  segmentCount: number;
}

interface TracedJob extends TraceableJob {
  verdict: TraceResult;
}

/**
 * Of the jobs traced, the one whose autographs the copy accuses most significantly (lowest
 * bound on an innocent reaching the top score); if none accuses, the first (best locked).
 */
function mostSignificant(traced: TracedJob[]): TracedJob {
  const strongest = (entry: TracedJob) =>
    Math.min(...entry.verdict.accused.map(({ innocentProbability }) => innocentProbability));
  return traced.reduce((best, entry) => (strongest(entry) < strongest(best) ? entry : best));
}

/** The names of the backtrace's copies: `inputs`, or the seed's single `input`. */
export function inputNamesOf(backtrace: Pick<Backtrace, 'input' | 'inputs'>): string[] {
  return backtrace.inputs.length > 0
    ? backtrace.inputs.map(({ input_name }) => input_name)
    : [backtrace.input.input_name];
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
