import type { Model, Types, UpdateQuery } from 'mongoose';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Environment } from '../config/environment.js';
import type { Stored } from './paging.js';
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
 * Queued work in a MongoDB collection, claimed by many workers safely: a claim is one conditional
 * update that sets an owner and a lease; heartbeats extend the lease; a worker that dies lets
 * its lease expire and the work is claimed again. Every write after the claim is conditional
 * on its lease (owner and lease_id), so a run whose work was claimed again, by another worker
 * or by this one, is never finished twice and writes nothing more.
 */
export class LeasedQueue<T extends WorkState> {
  constructor(
    private readonly model: Model<T>,
    private readonly options: LeaseOptions,
  ) {}

  /** The oldest claimable item, now PROCESSING and owned by us; or null. */
  async claim(): Promise<Stored<T> | null> {
    const claimable = (now: Date) => ({
      $or: [{ status: 'QUEUED' }, { status: 'PROCESSING', lease_until: { $lt: now } }],
    });
    const candidates = await this.model
      .find(claimable(new Date()), { _id: 1, version: 1 })
      .sort({ created_at: 1, _id: 1 })
      .limit(CLAIM_CANDIDATES)
      .lean<Pick<Stored<T>, '_id' | 'version'>[]>()
      .exec();
    for (const candidate of candidates) {
      // Compare-and-set on the revision: of racing workers exactly one wins. (A single
      // findOneAndUpdate would do on MongoDB, but not every compatible server makes it atomic.)
      const now = new Date();
      const won = await this.model
        .updateOne(
          { _id: candidate._id, version: candidate.version, ...claimable(now) },
          {
            $set: {
              status: 'PROCESSING',
              lease_owner: this.options.owner,
              lease_id: randomBytes(8).toString('hex'),
              lease_until: new Date(now.getTime() + this.options.leaseMs),
            },
            $inc: { attempts: 1, version: 1 },
          },
        )
        .exec();
      if (won.modifiedCount === 1) return this.admit(candidate._id);
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
      void this.heartbeat(lease, { percentage_completed: percentage } as Partial<T>);
    };
  }

  async succeed(lease: Lease, set: Partial<T> = {}): Promise<boolean> {
    return this.updateOwned(lease, {
      $set: { ...set, ...this.finished('SUCCESS'), percentage_completed: 100 },
    });
  }

  async fail(lease: Lease, code: string, message: string): Promise<boolean> {
    return this.updateOwned(lease, {
      $set: { ...this.finished('FAILED'), error_code: code, error_msg: message },
    });
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

  private async updateOwned(lease: Lease, update: UpdateQuery<WorkState>): Promise<boolean> {
    const result = await this.model
      .updateOne(
        {
          _id: lease._id,
          status: 'PROCESSING',
          lease_owner: this.options.owner,
          lease_id: lease.lease_id,
        },
        {
          ...update,
          $inc: { ...(update.$inc ?? {}), version: 1 },
        },
      )
      .exec();
    return result.modifiedCount === 1;
  }
}
