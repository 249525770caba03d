import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TracingService } from '../backtraces/tracing.service.js';
import { PollingWorker } from '../common/polling-worker.js';
import { Environment } from '../config/environment.js';
import type { Backtrace } from '../backtraces/schemas/backtrace.schema.js';

/**
 * The scheduled, in-process extraction worker: claims QUEUED backtraces (see LeasedQueue),
 * has TracingService trace each one and records SUCCESS or FAILED.
 */
@Injectable()
export class ExtractionWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: PollingWorker<Backtrace>;

  constructor(
    private readonly environment: Environment,
    tracing: TracingService,
  ) {
    this.worker = new PollingWorker({
      name: 'ExtractionWorker',
      concurrency: environment.EXTRACTION_CONCURRENCY,
      intervalMs: environment.WORKER_POLL_INTERVAL_MS,
      queue: tracing.queue,
      work: async (backtrace, signal) => ({
        extracted_data: await tracing.trace(backtrace, signal),
      }),
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
}
