import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Environment } from '../config/environment.js';
import { LeasedQueue, leaseOptions } from '../common/leased-queue.js';
import type { Stored } from '../common/paging.js';
import { ownerOf, type Principal } from '../common/principal.js';
import { FilesService } from '../files/files.service.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import { directoryOfUri } from '../pipelines/storage-paths.js';
import { type EmbedResult, WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { Job, type JobResult } from './schemas/job.schema.js';

/**
 * The embedding use case: produces the A/B variant segments of every rendition and the
 * detection reference into the pipeline's output directory, registers them as files and
 * summarises the run for playback and extraction. A failed run leaves nothing registered and
 * nothing half-written behind (`cleanUp`).
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
  ) {
    this.queue = new LeasedQueue(jobs, leaseOptions(environment));
  }

  /** Embeds the job's variants into the pipeline's output directory and registers them. */
  async embed(job: Stored<Job>, signal: AbortSignal): Promise<JobResult> {
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
      this.engine.embed(job._id.toString(), {
        input,
        outputDir,
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
  async cleanUp(job: Stored<Job>): Promise<void> {
    await this.files.removeOutputsOf(job._id);
    const owner = ownerOf(job);
    const pipeline = await this.pipelines
      .findOwned(owner, job.pipeline.toString())
      .catch(() => null);
    if (pipeline)
      await rm(this.outputDirOf(pipeline.output.uri, job), { recursive: true, force: true });
  }
}
