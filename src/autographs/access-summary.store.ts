import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type AnyBulkWriteOperation, type Model, mongo, type Types } from 'mongoose';
import { duplicatePositions } from '../common/duplicate-keys.js';
import { lookUpEach } from '../common/id-lookups.js';
import { Tickets } from '../common/tickets.js';
import type { StoredSummary } from './access-stats.js';
import { AccessSummary } from './schemas/access-summary.schema.js';

/**
 * Updates per bulk write command. FerretDB v1 keeps one open cursor per statement of an update
 * command until the command ends, from a pool of 100 SQLite connections: a command of 100
 * updates of existing documents never ends.
 */
const WRITE_BATCH = 50;
/** The ticket that says summaries written by version 0.1 have been moved to slots. */
export const LEGACY_SUMMARIES_MIGRATION = 'migration:access-summary-slots';

/** A summary as the recorder keeps it: `_id` is null until its first write gives it a slot. */
export type SummaryDraft = Omit<AccessSummary, '_id'> & { _id: string | null };

/**
 * Where access summaries live. The `_id` of an autograph's summaries is `<autograph id>.<slot>`
 * with slots 0, 1, 2 … taken without gaps: reading them is a run of `_id` lookups, the one query
 * every MongoDB-compatible server answers from an index (FerretDB v1 on SQLite scans the whole
 * collection for any other filter, an index on `autograph` included). A slot is taken by
 * inserting its `_id`, which succeeds for exactly one writer, so two servers never share one.
 */
@Injectable()
export class AccessSummaryStore implements OnModuleInit {
  constructor(@InjectModel(AccessSummary.name) private readonly summaries: Model<AccessSummary>) {}

  async onModuleInit(): Promise<void> {
    await new Tickets(this.summaries.db).runOnce(LEGACY_SUMMARIES_MIGRATION, () =>
      this.adoptLegacySummaries(),
    );
  }

  /** Moves summaries stored by version 0.1 (ObjectId `_id`s) to slots, so their stats stay. */
  private async adoptLegacySummaries(): Promise<void> {
    for (;;) {
      const legacy = await this.summaries.collection
        .find({ _id: { $type: 'objectId' } } as object)
        .limit(WRITE_BATCH)
        .toArray();
      if (legacy.length === 0) return;
      await this.place(
        legacy.map((summary) => ({
          ...(summary as unknown as SummaryDraft),
          _id: null,
          segments: Buffer.from((summary.segments as mongo.Binary).buffer),
        })),
      );
      await this.summaries.collection.deleteMany({
        _id: { $in: legacy.map((summary) => summary._id) },
      });
    }
  }

  /**
   * Stores the drafts: updates those that have a slot, and gives the others the first free slot
   * of their autograph (their `_id` is set on return).
   */
  async write(drafts: SummaryDraft[]): Promise<void> {
    const placed = drafts.filter((draft) => draft._id !== null);
    for (let start = 0; start < placed.length; start += WRITE_BATCH) {
      const operations = placed
        .slice(start, start + WRITE_BATCH)
        .map(({ _id, ...fields }): AnyBulkWriteOperation<AccessSummary> => ({
          updateOne: {
            filter: { _id: _id! },
            update: { $set: { ...fields, segments: Buffer.from(fields.segments) } },
          },
        }));
      await this.summaries.bulkWrite(operations, { ordered: false });
    }
    await this.place(drafts.filter((draft) => draft._id === null));
  }

  /** Each autograph's stored summaries, read slot by slot. */
  async read(autographs: Types.ObjectId[]): Promise<Map<string, StoredSummary[]>> {
    const ids = autographs.map(String);
    const lists = await lookUpEach(ids, (autograph) => this.readSlots(autograph));
    return new Map(ids.map((autograph, index) => [autograph, lists[index]]));
  }

  private async readSlots(autograph: string): Promise<StoredSummary[]> {
    const list: StoredSummary[] = [];
    for (;;) {
      const summary = await this.summaries
        .findById(slotId(autograph, list.length))
        .lean<Omit<StoredSummary, 'segments'> & { segments: mongo.Binary }>()
        .exec();
      if (!summary) return list;
      list.push({ ...summary, segments: summary.segments.buffer });
    }
  }

  /** Inserts new summaries at the lowest slots nobody holds; one insert command per round. */
  private async place(drafts: SummaryDraft[]): Promise<void> {
    // Drafts of one autograph try consecutive slots, so they need not collide with each other.
    const perAutograph = new Map<string, number>();
    const slots = new Map<SummaryDraft, number>();
    for (const draft of drafts) {
      const autograph = draft.autograph.toString();
      const slot = perAutograph.get(autograph) ?? 0;
      slots.set(draft, slot);
      perAutograph.set(autograph, slot + 1);
    }
    let waiting = drafts;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, WRITE_BATCH);
      const documents = batch.map((draft) => ({
        ...draft,
        _id: slotId(draft.autograph.toString(), slots.get(draft)!),
        segments: Buffer.from(draft.segments),
      }));
      const taken = await this.insertTakenSlots(documents);
      batch.forEach((draft, index) => {
        if (taken.has(index)) slots.set(draft, slots.get(draft)! + 1);
        else draft._id = documents[index]._id;
      });
      waiting = [...batch.filter((_, index) => taken.has(index)), ...waiting.slice(batch.length)];
    }
  }

  /** Inserts the documents; returns the positions of those whose `_id` was already taken. */
  private async insertTakenSlots(documents: object[]): Promise<Set<number>> {
    try {
      await this.summaries.collection.insertMany(documents, { ordered: false });
      return new Set();
    } catch (error) {
      return duplicatePositions(error);
    }
  }
}

function slotId(autograph: string, slot: number): string {
  return `${autograph}.${slot}`;
}
