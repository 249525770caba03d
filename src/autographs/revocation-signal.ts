import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection, mongo } from 'mongoose';

interface Signal {
  _id: string;
  at: Date;
}

const SIGNAL_ID = 'autographs-revoked';
/** How soon a revocation made on another server stops playback on this one. */
export const REVOCATION_POLL_MS = 1000;

/**
 * Tells every server that some autograph was revoked, at the cost of one `_id` read per server
 * and second: playback can then keep looked-up autographs for long instead of reading each
 * viewer's again every second. Any write changes `at`, so two racing revocations are both seen
 * (the value changes at least once) even where an update is a read then a write (FerretDB v1).
 */
@Injectable()
export class RevocationSignal implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RevocationSignal.name);
  private readonly signals: mongo.Collection<Signal>;
  private readonly listeners: (() => void)[] = [];
  private lastSeen?: number;
  private timer?: NodeJS.Timeout;

  constructor(@InjectConnection() connection: Connection) {
    this.signals = connection.collection<Signal>('signals');
  }

  /** Calls `listener` whenever a revocation is announced (by any server) after start-up. */
  onRevocation(listener: () => void): void {
    this.listeners.push(listener);
  }

  async announce(): Promise<void> {
    await this.signals.updateOne(
      { _id: SIGNAL_ID },
      { $set: { at: new Date() } },
      { upsert: true },
    );
  }

  async onModuleInit(): Promise<void> {
    this.lastSeen = await this.read();
    this.timer = setInterval(() => {
      this.poll().catch((error: unknown) =>
        this.logger.error(`reading the revocation signal failed: ${(error as Error).message}`),
      );
    }, REVOCATION_POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const at = await this.read();
    if (at === this.lastSeen) return;
    this.lastSeen = at;
    for (const listener of this.listeners) listener();
  }

  private async read(): Promise<number | undefined> {
    return (await this.signals.findOne({ _id: SIGNAL_ID }))?.at.getTime();
  }
}
