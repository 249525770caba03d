import type { Connection, mongo } from 'mongoose';

interface Ticket {
  _id: string;
  /** What the ticket is about (the queued item's id, say), so they can be forgotten together. */
  scope: string;
  at: Date;
}

/**
 * Single-winner decisions that hold on every MongoDB-compatible server. Inserting a document
 * with a given `_id` succeeds for exactly one caller (the `_id` index is unique everywhere),
 * whereas a conditional update is a read followed by a write on some servers (FerretDB v1 on
 * SQLite): two racing `updateOne({version: 7}, …)` can both report a modified document there.
 */
export class Tickets {
  private readonly collection: mongo.Collection<Ticket>;

  constructor(connection: Connection) {
    this.collection = connection.collection<Ticket>('tickets');
  }

  /** True for the one caller that takes `key` first; false for every later one. */
  async take(key: string, scope: string): Promise<boolean> {
    try {
      await this.collection.insertOne({ _id: key, scope, at: new Date() });
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return false;
      throw error;
    }
  }

  /** When `key` was taken, or null if it is free. */
  async takenAt(key: string): Promise<Date | null> {
    return (await this.collection.findOne({ _id: key }))?.at ?? null;
  }

  /** Drops the tickets of `scope` (once no caller can race for them any more). */
  async forget(scope: string): Promise<void> {
    await this.collection.deleteMany({ scope });
  }

  /**
   * Runs `work` unless an earlier run finished it (ticket `key` taken), then takes the ticket: a
   * run cut short runs again next time. For start-up migrations, which would otherwise scan
   * their collection at every start.
   */
  async runOnce(key: string, work: () => Promise<void>): Promise<void> {
    if (await this.takenAt(key)) return;
    await work();
    await this.take(key, 'run-once');
  }

  /** Drops the tickets of `scope` taken before `cutoff`. */
  async forgetTakenBefore(scope: string, cutoff: Date): Promise<void> {
    await this.collection.deleteMany({ scope, at: { $lt: cutoff } });
  }
}
