import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PollingWorker } from '../common/polling-worker.js';
import { Environment } from '../config/environment.js';
import { EmbeddingService } from './embedding.service.js';
import type { Job } from './schemas/job.schema.js';

/**
 * The scheduled, in-process embedding worker: claims QUEUED jobs (see LeasedQueue), has
 * EmbeddingService embed each one and records SUCCESS or FAILED (after its clean-up).
 */
@Injectable()
export class JobsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: PollingWorker<Job>;

  constructor(
    private readonly environment: Environment,
    embedding: EmbeddingService,
  ) {
    this.worker = new PollingWorker({
      name: 'JobsWorker',
      concurrency: environment.JOB_CONCURRENCY,
      intervalMs: environment.WORKER_POLL_INTERVAL_MS,
      queue: embedding.queue,
      work: async (job, signal) => ({ result: await embedding.embed(job, signal) }),
      undo: (job) => embedding.cleanUp(job),
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
}
