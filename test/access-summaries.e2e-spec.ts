import { Types } from 'mongoose';
import {
  AccessSummaryStore,
  LEGACY_SUMMARIES_MIGRATION,
  type SummaryDraft,
} from '../src/autographs/access-summary.store.js';
import { startApp, type TestApp } from './support/app.js';

/** Access summaries live at `<autograph>.<slot>` ids, taken without gaps by racing writers. */
describe('access summary store (embedded database)', () => {
  let t: TestApp;
  let store: AccessSummaryStore;
  beforeAll(async () => {
    t = await startApp();
    store = t.app.get(AccessSummaryStore);
  });
  afterAll(() => t.close());

  const draft = (autograph: Types.ObjectId, ip: string): SummaryDraft => ({
    _id: null,
    autograph,
    ip_address: ip,
    ip_country: 'N/A',
    ip_type: 'N/A',
    user_agent: 'player',
    accept_language: 'en',
    first_accessed_at: new Date(1000),
    last_accessed_at: new Date(2000),
    segments: Buffer.from([0b101]),
    highest_height: 360,
    downloaded: false,
    requests: 2,
  });

  it('gives the viewers of two racing writers distinct slots 0…n-1 and reads them all back', async () => {
    const autograph = new Types.ObjectId();
    const other = new Types.ObjectId();
    const first = ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((ip) => draft(autograph, ip));
    const second = [draft(autograph, '192.0.2.4'), draft(other, '192.0.2.5')];
    // Two servers writing at once: both start from slot 0 of the same autograph.
    await Promise.all([store.write(first), store.write(second)]);

    const ids = [...first, ...second].map((summary) => summary._id);
    expect(new Set(ids).size).toBe(5);
    expect(ids.filter((id) => id?.startsWith(`${autograph.toString()}.`)).sort()).toEqual(
      [0, 1, 2, 3].map((slot) => `${autograph.toString()}.${slot}`),
    );
    expect(second[1]._id).toBe(`${other.toString()}.0`);
    const unseen = new Types.ObjectId();
    const read = await store.read([autograph, other, unseen]);
    expect(
      read
        .get(autograph.toString())
        ?.map((s) => s.ip_address)
        .sort(),
    ).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']);
    expect(read.get(other.toString())?.map((s) => [...s.segments])).toEqual([[0b101]]);
    expect(read.get(unseen.toString())).toEqual([]);
    // A page's worth of autographs is read slot after slot (not in rounds): the same answer.
    const page = await store.read([
      autograph,
      ...Array.from({ length: 20 }, () => new Types.ObjectId()),
    ]);
    expect(
      page
        .get(autograph.toString())
        ?.map((s) => s.ip_address)
        .sort(),
    ).toEqual(
      read
        .get(autograph.toString())
        ?.map((s) => s.ip_address)
        .sort(),
    );
    expect(page.size).toBe(21);
  });

  it('updates a placed summary in place', async () => {
    const autograph = new Types.ObjectId();
    const summary = draft(autograph, '192.0.2.9');
    await store.write([summary]);
    summary.segments = Buffer.from([0xff, 0x01]);
    summary.requests = 10;
    await store.write([summary]);
    const [stored] = (await store.read([autograph])).get(autograph.toString())!;
    expect(stored).toMatchObject({ requests: 10, segments: Uint8Array.from([0xff, 0x01]) });
    expect((await store.read([autograph])).get(autograph.toString())).toHaveLength(1);
  });

  it('moves the summaries of version 0.1 (ObjectId ids) to slots at start-up, keeping their stats', async () => {
    const autograph = new Types.ObjectId();
    const legacy = { ...draft(autograph, '192.0.2.7'), _id: undefined };
    const collection = t.connection.collection('access_summaries');
    await collection.insertMany([
      { ...legacy, _id: new Types.ObjectId() },
      { ...legacy, ip_address: '192.0.2.8', _id: new Types.ObjectId() },
    ]);
    expect((await store.read([autograph])).get(autograph.toString())).toEqual([]);

    // As at the first start of this version on 0.1's data (this test app started on none).
    await t.connection.collection<{ _id: string }>('tickets').deleteOne({
      _id: LEGACY_SUMMARIES_MIGRATION,
    });
    await store.onModuleInit();

    const read = (await store.read([autograph])).get(autograph.toString())!;
    expect(read.map((s) => [s.ip_address, [...s.segments]]).sort()).toEqual([
      ['192.0.2.7', [0b101]],
      ['192.0.2.8', [0b101]],
    ]);
    expect(await collection.countDocuments({ _id: { $type: 'objectId' } })).toBe(0);
    // Done once: later starts look for the ticket instead of scanning the summaries.
    expect(
      await t.connection
        .collection<{ _id: string }>('tickets')
        .countDocuments({ _id: LEGACY_SUMMARIES_MIGRATION }),
    ).toBe(1);
  });
});
