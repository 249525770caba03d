import { Injectable } from '@nestjs/common';
import { PollingWorker, ScheduledWorker } from '../common/polling-worker.js';
import { Environment } from '../config/environment.js';
import { EmbeddingService } from './embedding.service.js';
import type { Job } from './schemas/job.schema.js';

/**
 * The scheduled, in-process embedding worker: claims QUEUED jobs (see LeasedQueue), has
 * EmbeddingService embed each one and records SUCCESS or FAILED (after its clean-up).
 */
@Injectable()
export class JobsWorker extends ScheduledWorker<Job> {
  constructor(environment: Environment, embedding: EmbeddingService) {
    super(
      new PollingWorker({
        name: 'JobsWorker',
        concurrency: environment.JOB_CONCURRENCY,
        intervalMs: environment.WORKER_POLL_INTERVAL_MS,
        queue: embedding.queue,
        work: async (job, signal) => ({ result: await embedding.embed(job, signal) }),
        undo: (job) => embedding.cleanUp(job),
      }),
      environment.WORKERS_ENABLED,
    );
  }
}
