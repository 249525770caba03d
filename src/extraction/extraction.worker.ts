import { Injectable } from '@nestjs/common';
import type { Backtrace } from '../backtraces/schemas/backtrace.schema.js';
import { TracingService } from '../backtraces/tracing.service.js';
import { PollingWorker, ScheduledWorker } from '../common/polling-worker.js';
import { Environment } from '../config/environment.js';

/**
 * The scheduled, in-process extraction worker: claims QUEUED backtraces (see LeasedQueue),
 * has TracingService trace each one and records SUCCESS or FAILED.
 */
@Injectable()
export class ExtractionWorker extends ScheduledWorker<Backtrace> {
  constructor(environment: Environment, tracing: TracingService) {
    super(
      new PollingWorker({
        name: 'ExtractionWorker',
        concurrency: environment.EXTRACTION_CONCURRENCY,
        intervalMs: environment.WORKER_POLL_INTERVAL_MS,
        queue: tracing.queue,
        work: (backtrace, signal) => tracing.trace(backtrace, signal),
      }),
      environment.WORKERS_ENABLED,
    );
  }
}
