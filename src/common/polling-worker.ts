import { Logger } from '@nestjs/common';
import type { LeasedQueue } from './leased-queue.js';
import type { Stored } from './paging.js';
import type { WorkState } from './work-state.js';

export interface PollingWorkerOptions<T extends WorkState> {
  name: string;
  queue: LeasedQueue<T>;
  concurrency: number;
  intervalMs: number;
  /** Does the work; `signal` aborts on shutdown. */
  process: (item: Stored<T>, signal: AbortSignal) => Promise<void>;
  /** Undoes partial work of an item interrupted by shutdown, before it is handed back. */
  beforeRelease?: (item: Stored<T>) => Promise<void>;
}

/**
 * Polls a LeasedQueue on an interval and runs up to `concurrency` items at once. `stop()`
 * aborts running items and hands them back to the queue, for a graceful shutdown.
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
    try {
      await this.options.process(item, this.abort.signal);
    } catch (error) {
      this.logger.error(`processing failed: ${(error as Error).stack ?? String(error)}`);
    }
    if (this.abort.signal.aborted) {
      await this.options.beforeRelease?.(item).catch(() => undefined);
      await this.options.queue.release(item._id).catch(() => undefined);
    }
  }
}
