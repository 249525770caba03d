import { Types } from 'mongoose';
import { AutographRoster, ROSTER_MIGRATION } from '../src/autographs/autograph-roster.js';
import { startApp, type TestApp } from './support/app.js';

const ids = (count: number): Types.ObjectId[] =>
  Array.from({ length: count }, () => new Types.ObjectId());
const strings = (list: Types.ObjectId[]): string[] => list.map(String);

/** A job's autographs at `<job>.<position>` ids, taken without gaps by racing servers. */
describe('autograph roster (embedded database)', () => {
  let t: TestApp;
  let roster: AutographRoster;
  beforeAll(async () => {
    t = await startApp();
    roster = t.app.get(AutographRoster);
  });
  afterAll(() => t.close());

  it('gives the autographs of two racing servers positions 0…n-1, each once', async () => {
    const job = new Types.ObjectId();
    // A second server: its own instance, so it knows nothing of the first one's writes.
    const other = new AutographRoster(t.connection);
    const first = ids(700);
    const second = ids(300);
    await Promise.all([roster.enter(job, first), other.enter(job, second)]);

    expect(await roster.length(job)).toBe(1000);
    expect(await new AutographRoster(t.connection).length(job)).toBe(1000);
    const all = strings((await roster.page(job, 0, 1000, 1)).ids);
    expect(all).toHaveLength(1000);
    expect(new Set(all)).toEqual(new Set(strings([...first, ...second])));
    expect(
      await t.connection
        .collection<{ _id: string }>('autograph_roster')
        .countDocuments({ _id: `${job.toString()}.1000` }),
    ).toBe(0);
  });

  it('pages from the first made or from the last, and answers the length past the end', async () => {
    const job = new Types.ObjectId();
    const made = ids(25);
    for (const autograph of made) await roster.enter(job, [autograph]);

    expect(await roster.page(job, 5, 3, 1)).toEqual({ ids: made.slice(5, 8), total: 25 });
    expect(await roster.page(job, 0, 2, -1)).toEqual({ ids: [made[24], made[23]], total: 25 });
    expect(await roster.page(job, 24, 10, -1)).toEqual({ ids: [made[0]], total: 25 });
    expect(await roster.page(job, 40, 10, 1)).toEqual({ ids: [], total: 25 });
    expect(await roster.length(new Types.ObjectId())).toBe(0);

    // One batch longer than a write keeps its order.
    const batchJob = new Types.ObjectId();
    const batch = ids(600);
    await roster.enter(batchJob, batch);
    expect(await roster.page(batchJob, 0, 600, 1)).toEqual({ ids: batch, total: 600 });
  });

  it('enters the autographs made before the roster at start-up, once, in the order they were made', async () => {
    const job = new Types.ObjectId();
    const made = ids(4);
    await t.connection.collection('autographs').insertMany(
      made.map((_id, index) => ({
        _id,
        job,
        tag: `earlier_${index}`,
        created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, 4 - index)),
      })),
    );
    // A run cut short had entered the oldest one already.
    await roster.enter(job, [made[3]]);

    // As at the first start of this version on older data (this test app started on none).
    const tickets = t.connection.collection<{ _id: string }>('tickets');
    await tickets.deleteOne({ _id: ROSTER_MIGRATION });
    await roster.onModuleInit();

    expect((await roster.page(job, 0, 10, 1)).ids).toEqual([made[3], made[2], made[1], made[0]]);
    expect(await tickets.countDocuments({ _id: ROSTER_MIGRATION })).toBe(1);
  });
});
