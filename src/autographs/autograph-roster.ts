import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { LRUCache } from 'lru-cache';
import { type Connection, mongo, Types } from 'mongoose';
import { duplicatePositions } from '../common/duplicate-keys.js';
import { lookUpEach } from '../common/id-lookups.js';
import { Tickets } from '../common/tickets.js';

interface RosterEntry {
  /** `<job id>.<position>`: positions 0, 1, 2 … in the order the autographs were made. */
  _id: string;
  autograph: Types.ObjectId;
}

/** The ticket that says autographs made before the roster existed have been entered in it. */
export const ROSTER_MIGRATION = 'migration:autograph-roster';
/** Entries per insert command (FerretDB v1 keeps a cursor per statement of a command). */
const WRITE_BATCH = 500;

/**
 * Each job's autographs in the order they were made, at `_id`s `<job id>.<position>` with
 * positions taken without gaps: a page of a job's autographs is then a run of `_id` look-ups and
 * its length a short search, where a query on `job` would scan the whole collection on FerretDB
 * v1 (SQLite), sorting and counting every autograph of every job in Go. A position is taken by
 * inserting its `_id`, which succeeds for exactly one writer, so servers never share one (the
 * loser's autographs go further on: batches racing on two servers may interleave; FerretDB v1
 * does not stop an ordered insert at its first duplicate). Entries are never removed (autographs are never deleted once made).
 */
@Injectable()
export class AutographRoster implements OnModuleInit {
  private readonly logger = new Logger(AutographRoster.name);
  private readonly entries: mongo.Collection<RosterEntry>;
  /** A length each job's roster had reached (a lower bound: others may have added since). */
  private readonly knownLengths = new LRUCache<string, number>({ max: 10_000 });

  constructor(@InjectConnection() private readonly connection: Connection) {
    this.entries = connection.collection<RosterEntry>('autograph_roster');
  }

  async onModuleInit(): Promise<void> {
    await new Tickets(this.connection).runOnce(ROSTER_MIGRATION, () => this.enterEarlierOnes());
  }

  /** Adds the autographs (just made, in this order) at the end of the job's roster. */
  async enter(job: Types.ObjectId, autographs: Types.ObjectId[]): Promise<void> {
    let waiting = autographs;
    while (waiting.length > 0) {
      let position = await this.length(job);
      const batch = waiting.slice(0, WRITE_BATCH);
      const documents = batch.map((autograph) => ({
        _id: entryId(job, position++),
        autograph,
      }));
      const taken = await this.insertUntaken(documents);
      // Another writer took some of these positions: those autographs try again further on.
      waiting = [...batch.filter((_, index) => taken.has(index)), ...waiting.slice(batch.length)];
      this.knownLengths.set(job.toString(), position);
    }
  }

  /** How many autographs the job's roster holds. */
  async length(job: Types.ObjectId): Promise<number> {
    const key = job.toString();
    let known = this.knownLengths.get(key) ?? 0;
    if (await this.has(job, known)) {
      // Gallop past the known length, then halve the gap between held and free positions.
      let step = 1;
      while (await this.has(job, known + step)) {
        known += step;
        step *= 2;
      }
      let free = known + step;
      while (free - known > 1) {
        const middle = Math.floor((known + free) / 2);
        if (await this.has(job, middle)) known = middle;
        else free = middle;
      }
      known = free;
    }
    this.knownLengths.set(key, known);
    return known;
  }

  /**
   * The ids at positions start … start + limit − 1, counted from the first autograph made
   * (`direction` 1) or from the last (−1); and the roster's length.
   */
  async page(
    job: Types.ObjectId,
    start: number,
    limit: number,
    direction: 1 | -1,
  ): Promise<{ ids: Types.ObjectId[]; total: number }> {
    const total = await this.length(job);
    const count = Math.max(0, Math.min(limit, total - start));
    const positions = Array.from({ length: count }, (_, index) =>
      direction === 1 ? start + index : total - 1 - start - index,
    );
    const found = await lookUpEach(positions, (position) =>
      this.entries.findOne({ _id: entryId(job, position) }),
    );
    return { ids: found.flatMap((entry) => (entry ? [entry.autograph] : [])), total };
  }

  private async has(job: Types.ObjectId, position: number): Promise<boolean> {
    return (
      (await this.entries.findOne({ _id: entryId(job, position) }, { projection: { _id: 1 } })) !==
      null
    );
  }

  /** Inserts the entries; returns the positions in `documents` whose `_id` was already taken. */
  private async insertUntaken(documents: RosterEntry[]): Promise<Set<number>> {
    try {
      await this.entries.insertMany(documents, { ordered: false });
      return new Set();
    } catch (error) {
      return duplicatePositions(error);
    }
  }

  /**
   * Enters the autographs made by versions without a roster, job by job in the order they were
   * made, skipping those a cut-short earlier run already entered. One scan, once per database.
   */
  private async enterEarlierOnes(): Promise<void> {
    const autographs = this.connection.collection<{ job: Types.ObjectId }>('autographs');
    const byJob = new Map<string, Types.ObjectId[]>();
    const cursor = autographs.find({}, { projection: { job: 1 } }).sort({ created_at: 1, _id: 1 });
    for await (const { _id, job } of cursor) {
      const list = byJob.get(job.toString()) ?? [];
      list.push(_id);
      byJob.set(job.toString(), list);
    }
    for (const [job, ids] of byJob) {
      const jobId = new Types.ObjectId(job);
      const { ids: entered } = await this.page(jobId, 0, Number.MAX_SAFE_INTEGER, 1);
      const already = new Set(entered.map(String));
      await this.enter(
        jobId,
        ids.filter((id) => !already.has(id.toString())),
      );
    }
    if (byJob.size > 0) this.logger.log(`entered the autographs of ${byJob.size} jobs in rosters`);
  }
}

function entryId(job: Types.ObjectId, position: number): string {
  return `${job.toString()}.${position}`;
}
