import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Environment } from '../config/environment.js';
import { LeasedQueue, leaseOptions } from '../common/leased-queue.js';
import type { Stored } from '../common/paging.js';
import { PollingWorker } from '../common/polling-worker.js';
import { ownerOf, type Principal } from '../common/principal.js';
import { FilesService } from '../files/files.service.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import { directoryOfUri } from '../pipelines/storage-paths.js';
import { embedVariants, type EmbedResult } from '../watermark/embedder.js';
import { MediaError } from '../watermark/media.js';
import { Job, type JobResult } from './schemas/job.schema.js';
import { WatermarkKeysService } from './watermark-keys.service.js';

const MEDIA_ERRORS: Record<MediaError['code'], [code: string, message: string]> = {
  not_found: ['INPUT_NOT_FOUND', 'The input file is missing from the pipeline input directory.'],
  not_a_video: ['INPUT_NOT_VIDEO', 'The input is not a readable video.'],
  decode_failed: [
    'INPUT_CORRUPT',
    'The input could not be decoded to the end (corrupt or truncated file).',
  ],
  encode_failed: ['ENCODE_FAILED', 'Encoding the watermarked variants failed.'],
  remux_failed: ['ENCODE_FAILED', 'Packaging the watermarked variants failed.'],
};

/**
 * The scheduled, in-process embedding worker: claims QUEUED jobs (see LeasedQueue), produces
 * the A/B variant segments of every rendition and the detection reference into the pipeline's
 * output directory, registers them as files, and finishes the job SUCCESS or FAILED. A failed
 * run leaves nothing registered and nothing half-written behind.
 */
@Injectable()
export class JobsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobsWorker.name);
  private readonly queue: LeasedQueue<Job>;
  private readonly worker: PollingWorker<Job>;

  constructor(
    @InjectModel(Job.name) jobs: Model<Job>,
    private readonly environment: Environment,
    private readonly pipelines: PipelinesService,
    private readonly storage: StorageService,
    private readonly files: FilesService,
    private readonly keys: WatermarkKeysService,
  ) {
    this.queue = new LeasedQueue(jobs, leaseOptions(environment));
    this.worker = new PollingWorker({
      name: 'JobsWorker',
      concurrency: environment.JOB_CONCURRENCY,
      intervalMs: environment.WORKER_POLL_INTERVAL_MS,
      queue: this.queue,
      work: async (job, signal) => ({ result: await this.embed(job, signal) }),
      describeFailure: (error) => this.describe(error),
      undo: (job) => this.cleanUp(job),
    });
  }

  onApplicationBootstrap(): void {
    if (this.environment.WORKERS_ENABLED) this.worker.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }

  /** Claims and processes one job now (tests and benches); false when none was queued. */
  async processNext(): Promise<boolean> {
    return this.worker.processOne();
  }

  /** Embeds the job's variants into the pipeline's output directory and registers them. */
  private async embed(job: Stored<Job>, signal: AbortSignal): Promise<JobResult> {
    const owner = ownerOf(job);
    const pipeline = await this.pipelines.findOwned(owner, job.pipeline.toString());
    const input = await this.storage.resolveInput(pipeline.input.uri, job.input.input_name);
    const outputDir = this.outputDirOf(pipeline.output.uri, job);
    // A re-claimed job starts over: a worker killed mid-run may have left files and records.
    await rm(outputDir, { recursive: true, force: true });
    await this.files.removeOutputsOf(job._id);
    // The last percent is the registration of the outputs.
    const progress = this.queue.progress(job._id, 0, 99);
    const [embedded] = await Promise.all([
      embedVariants({
        input,
        outputDir,
        key: this.keys.jobKey(job._id.toString()),
        segmentDuration: job.segment_duration,
        renditions: job.output_heights.map((height) => ({ height })),
        signal,
        onProgress: ({ fraction }) => progress(fraction),
      }),
      // The original's checksum, computed while it is decoded: the request did not wait for it.
      job.file && this.files.recordSha256(job.file, input, signal),
    ]);
    signal.throwIfAborted();
    return this.register(job, owner, outputDir, embedded);
  }

  /** Registers every output file and summarises the run for playback and extraction. */
  private async register(
    job: Stored<Job>,
    owner: Principal,
    outputDir: string,
    embedded: EmbedResult,
  ): Promise<JobResult> {
    const paths = embedded.renditions.flatMap((rendition) => [
      rendition.playlistA,
      rendition.playlistB,
      ...rendition.segments.flatMap((segment) => [segment.a, segment.b]),
    ]);
    for (const { alternate } of embedded.audioTracks) {
      if (alternate) {
        paths.push(alternate.trackPath, alternate.playlist);
        paths.push(...alternate.segments.map((segment) => segment.path));
      }
    }
    paths.push(embedded.referencePath);
    const sizes = new Map<string, number>();
    (await this.files.registerOutputs(owner, job._id, paths)).forEach((size, index) =>
      sizes.set(paths[index], size),
    );
    const renditions = [...embedded.renditions]
      .sort((a, b) => b.height - a.height)
      .map((rendition) => ({
        height: rendition.height,
        width: rendition.width,
        bandwidth: Math.ceil(
          Math.max(
            ...rendition.segments.map(
              (s) => (8 * Math.max(sizes.get(s.a) ?? 0, sizes.get(s.b) ?? 0)) / s.duration_s,
            ),
          ),
        ),
        segments: rendition.segments.map((segment) => ({
          duration: segment.duration_s,
          a: relative(outputDir, segment.a),
          b: relative(outputDir, segment.b),
        })),
      }));
    return {
      output_dir: outputDir,
      frame_rate: embedded.frameRate,
      duration: embedded.source.duration_s,
      renditions,
      audio_tracks: embedded.audioTracks.map(({ language, title, alternate }) => ({
        language,
        name: title ?? language,
        alternate: alternate && {
          file: relative(outputDir, alternate.trackPath),
          segments: alternate.segments.map((segment) => ({
            duration: segment.duration_s,
            path: relative(outputDir, segment.path),
          })),
        },
      })),
      reference: relative(outputDir, embedded.referencePath),
    };
  }

  private outputDirOf(outputUri: string, job: Stored<Job>): string {
    return join(directoryOfUri(outputUri, 'pipeline output'), 'jobs', job._id.toString());
  }

  /** Removes what a failed or interrupted run wrote and registered. */
  private async cleanUp(job: Stored<Job>): Promise<void> {
    await this.files.removeOutputsOf(job._id);
    const owner = ownerOf(job);
    const pipeline = await this.pipelines
      .findOwned(owner, job.pipeline.toString())
      .catch(() => null);
    if (pipeline)
      await rm(this.outputDirOf(pipeline.output.uri, job), { recursive: true, force: true });
  }

  private describe(error: unknown): [code: string, message: string] {
    if (error instanceof MediaError) {
      const [code, message] = MEDIA_ERRORS[error.code];
      return [code, `${message} (${error.message.split('\n')[0].slice(0, 300)})`];
    }
    const api = error as { code?: unknown; message?: string };
    if (typeof api.code === 'string' && /^[A-Z_]+$/.test(api.code))
      return [api.code, api.message ?? api.code];
    this.logger.error(`job failed: ${(error as Error).stack ?? String(error)}`);
    return ['INTERNAL_ERROR', 'Embedding failed on an internal error; it has been logged.'];
  }
}
