import { Injectable } from '@nestjs/common';
import type { Types } from 'mongoose';
import type { Stored } from '../common/paging.js';
import { WorkFailure } from '../common/work-failure.js';
import { JobSignaturesService } from '../jobs/job-signatures.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import type { Job, JobResult } from '../jobs/schemas/job.schema.js';
import { StorageService } from '../pipelines/storage.service.js';
import { type DecodedStart, WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { join } from 'node:path';

export type SucceededJob = Stored<Job> & { result: JobResult };

/**
 * Finds which of the owner's jobs a copy comes from when the backtrace does not say: every
 * succeeded job with a readable reference is ranked by its job signature (JobSignaturesService),
 * the best few are confirmed by the alignment's lock search (see the engine's findOriginals).
 * Listing the owner's succeeded jobs is a collection scan on FerretDB (only `_id` is indexed
 * there): once per backtrace, small beside decoding the copy.
 */
@Injectable()
export class JobFinderService {
  constructor(
    private readonly jobs: JobsService,
    private readonly signatures: JobSignaturesService,
    private readonly storage: StorageService,
    private readonly engine: WatermarkEngine,
  ) {}

  /**
   * Every job of `owner` the copy matches as well as the best one (one original can have
   * several jobs), best first, and what was decoded of the copy for tracing the first (its
   * decoder paused: the caller closes it); ORIGINAL_NOT_FOUND when none matches.
   */
  async jobsOf(
    owner: Types.ObjectId,
    path: string,
    signal: AbortSignal,
  ): Promise<{ jobs: SucceededJob[]; start: DecodedStart | null }> {
    const readable: SucceededJob[] = [];
    for (const job of await this.jobs.succeededOf(owner)) {
      if (job.result && (await this.storage.isReadable(job.user, referencePathOf(job.result)))) {
        readable.push(job as SucceededJob);
      }
    }
    const { found, start } = await this.engine.findOriginals(
      path,
      readable.map((job) => ({
        jobId: job._id.toString(),
        referencePath: referencePathOf(job.result),
        signature: () => this.signatures.signatureOf(job._id, referencePathOf(job.result)),
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
    // Found ids are among the readable jobs: `start` is for matching[0].
    return { jobs: matching, start };
  }
}

export function referencePathOf(result: JobResult): string {
  return join(result.output_dir, result.reference);
}
