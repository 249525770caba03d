import type { Model, QueryFilter, Types, UpdateQuery } from 'mongoose';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Environment } from '../config/environment.js';
import type { Stored } from './paging.js';
import { Tickets } from './tickets.js';
import type { WorkState } from './work-state.js';

export interface LeaseOptions {
  /** Identifies this worker process (host, pid, random). */
  owner: string;
  /** How long a claim lasts without a heartbeat. */
  leaseMs: number;
  /** Claims after which work is failed instead of retried (a poison input). */
  maxAttempts: number;
}

/** One claim of one item: every write of the run that made it is conditional on it. */
export interface Lease {
  _id: Types.ObjectId;
  lease_id: string | null;
}

/** This process, as the owner of the work it claims. */
export const WORKER_ID = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/** Lease settings of this process's workers. */
export function leaseOptions(environment: Environment): LeaseOptions {
  return { owner: WORKER_ID, leaseMs: environment.WORKER_LEASE_SECONDS * 1000, maxAttempts: 3 };
}

const PROGRESS_INTERVAL_MS = 1000;

/** Oldest items tried per claim: enough to get past the ones other workers are winning. */
const CLAIM_CANDIDATES = 8;

/**
 * A revision ticket older than this whose revision never got written belongs to a writer that
 * died between taking it and writing: later writers skip that revision number.
 */
const ABANDONED_TICKET_MS = 10_000;

/**
 * Queued work in a MongoDB collection, claimed by many workers safely: a claim is a
 * compare-and-set that sets an owner and a lease; heartbeats extend the lease; a worker that dies lets
 * its lease expire and the work is claimed again. Every write after the claim is conditional
 * on its lease (owner and lease_id), so a run whose work was claimed again, by another worker
 * or by this one, is never finished twice and writes nothing more.
 *
 * Every write moves the item from revision `version` to the next, and only the writer holding
 * that revision's ticket (see Tickets) may write it: a compare-and-set that stays atomic on
 * servers where a conditional update is not (FerretDB). The ticket makes one claimant win; the
 * lease_id fences every later write of an earlier run.
 */
export class LeasedQueue<T extends WorkState> {
  private readonly tickets: Tickets;
  /** The last write of this process to each item it is writing (see updateOwned). */
  private readonly ownWrites = new Map<string, Promise<boolean>>();

  constructor(
    private readonly model: Model<T>,
    private readonly options: LeaseOptions,
  ) {
    this.tickets = new Tickets(model.db);
  }

  /** The oldest claimable item, now PROCESSING and owned by us; or null. */
  async claim(): Promise<Stored<T> | null> {
    const claimable = (now: Date): QueryFilter<WorkState> => ({
      $or: [{ status: 'QUEUED' }, { status: 'PROCESSING', lease_until: { $lt: now } }],
    });
    const candidates = await this.model
      .find(claimable(new Date()) as QueryFilter<T>, { _id: 1, version: 1 })
      .sort({ created_at: 1, _id: 1 })
      .limit(CLAIM_CANDIDATES)
      .lean<Pick<Stored<T>, '_id' | 'version'>[]>()
      .exec();
    for (const candidate of candidates) {
      // Compare-and-set on the revision: of racing workers exactly one wins.
      const now = new Date();
      const won = await this.advance(candidate, claimable(now), {
        $set: {
          status: 'PROCESSING',
          lease_owner: this.options.owner,
          lease_id: randomBytes(8).toString('hex'),
          lease_until: new Date(now.getTime() + this.options.leaseMs),
        },
        $inc: { attempts: 1 },
      });
      if (won) return this.admit(candidate._id);
    }
    return null;
  }

  /** Reads the claimed item back; work interrupted too often is failed instead (a poison input). */
  private async admit(id: Types.ObjectId): Promise<Stored<T> | null> {
    const claimed = await this.model.findById(id).lean<Stored<T>>().exec();
    if (claimed && claimed.attempts > this.options.maxAttempts) {
      await this.fail(
        claimed,
        'TOO_MANY_ATTEMPTS',
        `Processing was interrupted ${claimed.attempts - 1} times (worker crash or restart); giving up.`,
      );
      return null;
    }
    return claimed;
  }

  /** Extends the lease (and records progress); false when the work is no longer this run's. */
  async heartbeat(lease: Lease, set: Partial<T> = {}): Promise<boolean> {
    return this.updateOwned(lease, {
      $set: { ...set, lease_until: new Date(Date.now() + this.options.leaseMs) },
    });
  }

  /**
   * A progress callback for work in [0, 1] mapped to percentages `from`…`to`, written at most
   * once a second (each write also renews the lease).
   */
  progress(lease: Lease, from: number, to: number): (fraction: number) => void {
    let lastWrite = 0;
    return (fraction) => {
      if (Date.now() - lastWrite < PROGRESS_INTERVAL_MS) return;
      lastWrite = Date.now();
      const percentage = from + Math.floor(fraction * (to - from));
      // A failed progress write is retried by the next one; it must not crash the process.
      this.heartbeat(lease, { percentage_completed: percentage } as Partial<T>).catch(() => false);
    };
  }

  async succeed(lease: Lease, set: Partial<T> = {}): Promise<boolean> {
    return this.finish(lease, { ...set, ...this.finished('SUCCESS'), percentage_completed: 100 });
  }

  async fail(lease: Lease, code: string, message: string): Promise<boolean> {
    return this.finish(lease, { ...this.finished('FAILED'), error_code: code, error_msg: message });
  }

  /** Hands unfinished work back (graceful shutdown): it is claimed again at once. */
  async release(lease: Lease): Promise<boolean> {
    return this.updateOwned(lease, {
      $set: { status: 'QUEUED', lease_owner: null, lease_id: null, lease_until: null },
      $inc: { attempts: -1 },
    });
  }

  private finished(status: 'SUCCESS' | 'FAILED'): Partial<WorkState> {
    return {
      status,
      finished_at: new Date(),
      lease_owner: null,
      lease_id: null,
      lease_until: null,
    };
  }

  /** Records the outcome; the item's tickets are dropped, as no one races for it any more. */
  private async finish(lease: Lease, set: Partial<WorkState>): Promise<boolean> {
    const done = await this.updateOwned(lease, { $set: set });
    if (done) await this.tickets.forget(lease._id.toString());
    return done;
  }

  /**
   * Writes `update` if the item is still held by this lease. This process's writes to one item
   * run one after the other (a progress heartbeat still in flight must not make the outcome lose
   * the race for the next revision), so only another claim can beat them.
   */
  private async updateOwned(lease: Lease, update: UpdateQuery<WorkState>): Promise<boolean> {
    const key = lease._id.toString();
    const write = (this.ownWrites.get(key) ?? Promise.resolve(false))
      .catch(() => false)
      .then(async () => {
        const held = {
          status: 'PROCESSING',
          lease_owner: this.options.owner,
          lease_id: lease.lease_id,
        } as const;
        const current = await this.model
          .findById(lease._id, { version: 1, status: 1, lease_owner: 1, lease_id: 1 })
          .lean<Pick<Stored<T>, '_id' | 'version' | 'status' | 'lease_owner' | 'lease_id'>>()
          .exec();
        const ours =
          current?.status === held.status &&
          current.lease_owner === held.lease_owner &&
          current.lease_id === held.lease_id;
        return ours && this.advance(current, held, update);
      });
    this.ownWrites.set(key, write);
    try {
      return await write;
    } finally {
      if (this.ownWrites.get(key) === write) this.ownWrites.delete(key);
    }
  }

  /**
   * Writes `update` as the item's next revision if it is still at `item.version` and matches
   * `filter`. The revision's ticket is taken first, so of racing writers only one writes; a
   * revision whose ticket holder died before writing is skipped after ABANDONED_TICKET_MS.
   */
  private async advance(
    item: Pick<Stored<T>, '_id' | 'version'>,
    filter: QueryFilter<WorkState>,
    update: UpdateQuery<WorkState>,
  ): Promise<boolean> {
    const scope = item._id.toString();
    let next = item.version + 1;
    while (!(await this.tickets.take(`${scope}:${next}`, scope))) {
      const takenAt = await this.tickets.takenAt(`${scope}:${next}`);
      if (takenAt && Date.now() - takenAt.getTime() < ABANDONED_TICKET_MS) return false;
      next += 1;
    }
    const result = await this.model
      .updateOne(
        { _id: item._id, version: item.version, ...filter },
        {
          ...update,
          $set: { ...(update.$set ?? {}), version: next },
        },
      )
      .exec();
    return result.modifiedCount === 1;
  }
}
