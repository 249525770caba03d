import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { mongo, Model, Types } from 'mongoose';
import type { Stored } from '../common/paging.js';
import { WorkFailure } from '../common/work-failure.js';
import { JobsService } from '../jobs/jobs.service.js';
import type { Job, JobResult } from '../jobs/schemas/job.schema.js';
import { StorageService } from '../pipelines/storage.service.js';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { JobSignatureRecord } from './schemas/job-signature.schema.js';
import { join } from 'node:path';

export type SucceededJob = Stored<Job> & { result: JobResult };

/**
 * Finds which of the owner's jobs a copy comes from when the backtrace does not say: every
 * succeeded job with a readable reference is ranked by its job signature (cached by job id),
 * the best few are confirmed by the alignment's lock search (see the engine's findOriginals).
 * Listing the owner's succeeded jobs is a collection scan on FerretDB (only `_id` is indexed
 * there): once per backtrace, small beside decoding the copy.
 */
@Injectable()
export class JobFinderService {
  constructor(
    @InjectModel(JobSignatureRecord.name) private readonly signatures: Model<JobSignatureRecord>,
    private readonly jobs: JobsService,
    private readonly storage: StorageService,
    private readonly engine: WatermarkEngine,
  ) {}

  /**
   * Every job of `owner` the copy matches as well as the best one (one original can have
   * several jobs), best first; ORIGINAL_NOT_FOUND when none matches.
   */
  async jobsOf(owner: Types.ObjectId, path: string, signal: AbortSignal): Promise<SucceededJob[]> {
    const readable: SucceededJob[] = [];
    for (const job of await this.jobs.succeededOf(owner)) {
      if (job.result && (await this.storage.isReadable(job.user, referencePathOf(job.result)))) {
        readable.push(job as SucceededJob);
      }
    }
    const found = await this.engine.findOriginals(
      path,
      readable.map((job) => ({
        jobId: job._id.toString(),
        referencePath: referencePathOf(job.result),
        signature: () => this.signatureOf(job),
      })),
      signal,
    );
    const byId = new Map(readable.map((job) => [job._id.toString(), job]));
    const matching = found.flatMap(({ id }) => byId.get(id) ?? []);
    if (matching.length === 0) {
      throw new WorkFailure(
        'ORIGINAL_NOT_FOUND',
        `The copy matches none of the ${readable.length} succeeded jobs of its owner: give job_id if its original is known.`,
      );
    }
    return matching;
  }

  /** The cached signature, or computed from the reference and cached. */
  private async signatureOf(job: SucceededJob): Promise<Uint8Array> {
    const cached = await this.signatures
      .findById(job._id)
      .lean<{ signature: mongo.Binary }>()
      .exec();
    if (cached) return cached.signature.buffer;
    const signature = await this.engine.jobSignature(referencePathOf(job.result));
    try {
      await this.signatures.create({ _id: job._id, signature });
    } catch (error) {
      // Another backtrace cached it first: the same bytes.
      if ((error as { code?: number }).code !== 11000) throw error;
    }
    return signature;
  }
}

export function referencePathOf(result: JobResult): string {
  return join(result.output_dir, result.reference);
}
