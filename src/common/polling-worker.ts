import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { LeasedQueue } from './leased-queue.js';
import type { Stored } from './paging.js';
import type { WorkState } from './work-state.js';
import { describeFailure } from './work-failure.js';

export interface PollingWorkerOptions<T extends WorkState> {
  name: string;
  queue: LeasedQueue<T>;
  concurrency: number;
  intervalMs: number;
  /**
   * Does the work and resolves with the fields its SUCCESS sets; `signal` aborts on shutdown.
   * A failure is recorded as `describeFailure` says (throw a WorkFailure to choose the code).
   */
  work: (item: Stored<T>, signal: AbortSignal) => Promise<Partial<T>>;
  /**
   * Undoes a run that will not succeed: failed, interrupted, or taken over by another run. It
   * may run after the lease was lost, so it removes only what this run wrote (its own folder,
   * its own records) and touches shared outputs only after checking the lease is still its own.
   */
  undo?: (item: Stored<T>) => Promise<void>;
}

/**
 * Polls a LeasedQueue on an interval and runs up to `concurrency` items at once, each ending
 * SUCCESS or FAILED (after `undo`). A run whose lease was taken over meanwhile records nothing.
 * `stop()` aborts running items and hands them back to the queue, for a graceful shutdown.
 */
export class PollingWorker<T extends WorkState> {
  private readonly logger: Logger;
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(private readonly options: PollingWorkerOptions<T>) {
    this.logger = new Logger(options.name);
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs);
    void this.poll();
  }

  /** Claims as many items as there are free slots. */
  async poll(): Promise<void> {
    if (this.polling || this.abort.signal.aborted) return;
    this.polling = true;
    try {
      while (this.running.size < this.options.concurrency && !this.abort.signal.aborted) {
        const item = await this.options.queue.claim();
        if (!item) break;
        const task = this.run(item).finally(() => this.running.delete(task));
        this.running.add(task);
      }
    } catch (error) {
      this.logger.error(`claiming failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  /**
   * Claims and processes one item now, whether or not polling was started (benches and
   * tests drive a queue step by step). False when there was nothing to claim.
   */
  async processOne(): Promise<boolean> {
    const item = await this.options.queue.claim();
    if (item) await this.run(item);
    return item !== null;
  }

  /** Resolves when every running item has finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.idle();
  }

  private async run(item: Stored<T>): Promise<void> {
    const { queue, undo } = this.options;
    const signal = this.abort.signal;
    try {
      await this.settle(item, signal);
    } catch (error) {
      this.logger.error(`recording the outcome failed: ${(error as Error).message}`);
    }
    if (signal.aborted) {
      await undo?.(item).catch(() => undefined);
      await queue.release(item).catch(() => undefined);
    }
  }

  private async settle(item: Stored<T>, signal: AbortSignal): Promise<void> {
    const { queue, work, undo } = this.options;
    let update: Partial<T>;
    try {
      update = await work(item, signal);
    } catch (error) {
      if (signal.aborted) return;
      await undo?.(item);
      const [code, message] = describeFailure(error, this.logger);
      if (!(await queue.fail(item, code, message))) this.warnTakenOver(item);
      return;
    }
    if (signal.aborted) return;
    if (!(await queue.succeed(item, update))) {
      this.warnTakenOver(item);
      await undo?.(item);
    }
  }

  private warnTakenOver(item: Stored<T>): void {
    this.logger.warn(`${item._id.toString()} was taken over by another run; this run discarded`);
  }
}

/**
 * A Nest provider around one PollingWorker: polling starts with the application (when
 * `enabled`, i.e. WORKERS_ENABLED) and running items are handed back on shutdown.
 */
export abstract class ScheduledWorker<T extends WorkState>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  protected constructor(
    private readonly worker: PollingWorker<T>,
    private readonly enabled: boolean,
  ) {}

  onApplicationBootstrap(): void {
    if (this.enabled) this.worker.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }

  /** Claims and processes one item now (tests and benches); false when none was queued. */
  async processNext(): Promise<boolean> {
    return this.worker.processOne();
  }
}
