import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { Environment } from '../config/environment.js';
import { LeasedQueue, leaseOptions } from '../common/leased-queue.js';
import type { Stored } from '../common/paging.js';
import { ownerOf, type Principal } from '../common/principal.js';
import { FilesService } from '../files/files.service.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { type PipelineStorage, StorageService } from '../pipelines/storage.service.js';
import { type EmbedResult, WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { deliveredBitrates } from './job-outputs.js';
import { JobSignaturesService } from './job-signatures.service.js';
import { Job, type JobResult } from './schemas/job.schema.js';

/**
 * The embedding use case: produces the A/B variant segments of every rendition and the
 * detection reference into the pipeline's output directory, registers them as files and
 * summarises the run for playback and extraction. A run writes into a folder of its own and
 * publishes it only while it holds the job's lease; a failed or superseded run leaves nothing
 * registered and nothing half-written behind (`cleanUp`), and never touches another run's.
 */
@Injectable()
export class EmbeddingService {
  /** Queued jobs, claimed with a lease by the jobs worker. */
  readonly queue: LeasedQueue<Job>;

  constructor(
    @InjectModel(Job.name) jobs: Model<Job>,
    environment: Environment,
    private readonly pipelines: PipelinesService,
    private readonly storage: StorageService,
    private readonly files: FilesService,
    private readonly engine: WatermarkEngine,
    private readonly signatures: JobSignaturesService,
  ) {
    this.queue = new LeasedQueue(jobs, leaseOptions(environment));
  }

  /**
   * Embeds the job's variants into a folder of this run's own, then, if the run still holds
   * the lease, publishes it as the job's folder in one rename and registers its files.
   */
  async embed(job: Stored<Job>, signal: AbortSignal): Promise<JobResult> {
    const owner = ownerOf(job);
    const pipeline = await this.pipelines.findOwned(owner, job.pipeline.toString());
    const input = await this.storage.resolveInput(pipeline, job.input.input_name);
    const { runDir, outputDir } = await this.foldersOf(pipeline, job);
    await mkdir(runDir, { recursive: true });
    // The last percent is the registration of the outputs.
    const progress = this.queue.progress(job, 0, 99);
    const [embedded] = await Promise.all([
      this.engine.embed(job._id.toString(), {
        input,
        outputDir: runDir,
        segmentDuration: job.segment_duration,
        renditions: job.outputs.map((output) => ({
          height: output.height,
          encoding: {
            videoBitrate: output.video_bitrate,
            maxBitrate: output.max_bitrate,
            crf: output.crf,
          },
        })),
        signal,
        onProgress: ({ fraction }) => progress(fraction),
      }),
      // The original's checksum, computed while it is decoded: the request did not wait for it.
      job.file && this.files.recordSha256(job.file, input, signal),
    ]);
    signal.throwIfAborted();
    if (!(await this.queue.heartbeat(job))) throw new Error('lease lost: not publishing');
    // Holding the lease: what an earlier, interrupted run left is stale.
    await this.files.removeOutputsOf(job._id, { keep: job.lease_id });
    await rm(outputDir, { recursive: true, force: true });
    await this.removeOtherRuns(job, runDir);
    await rename(runDir, outputDir);
    const result = await this.register(job, owner, { runDir, outputDir }, embedded);
    // Now rather than at the first backtrace without job_id, which would pay for every job.
    await this.signatures.save(job._id, embedded.jobSignature);
    return result;
  }

  /**
   * Registers every output file (published from runDir to outputDir) and summarises the run
   * for playback and extraction.
   */
  private async register(
    job: Stored<Job>,
    owner: Principal,
    { runDir, outputDir }: { runDir: string; outputDir: string },
    embedded: EmbedResult,
  ): Promise<JobResult> {
    const relativePath = (written: string) => relative(runDir, written);
    const published = (written: string) => join(outputDir, relativePath(written));
    const written = embedded.renditions.flatMap((rendition) => [
      rendition.playlistA,
      rendition.playlistB,
      rendition.download.a,
      rendition.download.b,
      ...rendition.segments.flatMap((segment) => [segment.a, segment.b]),
    ]);
    for (const { alternate } of embedded.audioTracks) {
      if (alternate) {
        written.push(alternate.trackPath, alternate.playlist);
        written.push(...alternate.segments.map((segment) => segment.path));
      }
    }
    written.push(embedded.referencePath);
    const paths = written.map(published);
    const sizes = new Map<string, number>();
    const run = { job: job._id, id: job.lease_id };
    (await this.files.registerOutputs(owner, run, paths)).forEach((size, index) =>
      sizes.set(paths[index], size),
    );
    const renditions = [...embedded.renditions]
      .sort((a, b) => b.height - a.height)
      .map((rendition) => ({
        height: rendition.height,
        width: rendition.width,
        ...deliveredBitrates(rendition.segments, (path) => sizes.get(published(path)) ?? 0),
        mark: { strength: rendition.mark.strength, encoder_psnr_y: rendition.mark.pilotPsnrY },
        segments: rendition.segments.map((segment) => ({
          duration: segment.duration_s,
          a: relativePath(segment.a),
          b: relativePath(segment.b),
        })),
        download: {
          a: relativePath(rendition.download.a),
          b: relativePath(rendition.download.b),
          init_size: rendition.download.initSize,
          fragments_a: rendition.download.fragmentsA,
          fragments_b: rendition.download.fragmentsB,
        },
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
          file: relativePath(alternate.trackPath),
          segments: alternate.segments.map((segment) => ({
            duration: segment.duration_s,
            path: relativePath(segment.path),
          })),
        },
      })),
      reference: relativePath(embedded.referencePath),
    };
  }

  /**
   * The job's folder in the pipeline's output directory (as it really is now, checked) and,
   * beside it, the private folder this run writes into until it publishes.
   */
  private async foldersOf(
    pipeline: PipelineStorage,
    job: Stored<Job>,
  ): Promise<{ runDir: string; outputDir: string }> {
    const jobs = join(await this.storage.outputDirectory(pipeline), 'jobs');
    const id = job._id.toString();
    return { runDir: join(jobs, `.${id}.run-${job.lease_id}`), outputDir: join(jobs, id) };
  }

  /**
   * Removes the private folders of the job's earlier runs (a worker killed with kill -9 never
   * cleans up after itself); a superseded run still writing into its folder then fails.
   */
  private async removeOtherRuns(job: Stored<Job>, runDir: string): Promise<void> {
    const prefix = `.${job._id.toString()}.run-`;
    const siblings = await readdir(dirname(runDir));
    const others = siblings.filter((name) => name.startsWith(prefix) && name !== basename(runDir));
    for (const name of others) {
      await rm(join(dirname(runDir), name), { recursive: true, force: true });
    }
  }

  /**
   * Undoes this run: its private folder and its own records always; the published folder only
   * while the run still holds the lease (after that it may be another run's).
   */
  async cleanUp(job: Stored<Job>): Promise<void> {
    await this.files.removeOutputsOf(job._id, { only: job.lease_id });
    const owner = ownerOf(job);
    const pipeline = await this.pipelines
      .findOwned(owner, job.pipeline.toString())
      .catch(() => null);
    // Only where the output directory really is inside the owner's roots now.
    const folders = pipeline && (await this.foldersOf(pipeline, job).catch(() => null));
    if (!folders) return;
    await rm(folders.runDir, { recursive: true, force: true });
    if (await this.queue.heartbeat(job))
      await rm(folders.outputDir, { recursive: true, force: true });
  }
}
