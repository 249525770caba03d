import { Types } from 'mongoose';
import { accessStats, type StoredSummary } from './access-stats.js';

const autograph = new Types.ObjectId();
const summary = (overrides: Partial<StoredSummary>): StoredSummary => ({
  autograph,
  ip_address: '5.9.119.0',
  ip_country: 'DE',
  ip_type: 'DCH',
  user_agent: 'player',
  accept_language: 'de',
  first_accessed_at: new Date(1000),
  last_accessed_at: new Date(2000),
  segments: Uint8Array.of(0b0000_0011),
  highest_height: 360,
  downloaded: false,
  requests: 2,
  ...overrides,
});

describe('accessStats', () => {
  it('merges the summaries of one viewer (e.g. written by two servers): bits, height, download, first access', () => {
    const stats = accessStats(
      [
        summary({}),
        summary({
          first_accessed_at: new Date(500),
          accept_language: 'fr',
          segments: Uint8Array.of(0b0000_0110, 0b0000_0001),
          highest_height: 720,
          downloaded: true,
        }),
      ],
      10,
    );
    expect(stats).toEqual([
      {
        ip_address: '5.9.119.0',
        ip_country: 'DE',
        ip_type: 'DCH',
        user_agent: 'player',
        accept_language: 'fr', // the earliest summary's
        first_accessed_at: 500,
        percentage_obtained: '40%', // segments 0, 1, 2 and 8 of 10
        highest_resolution: '720p',
        streaming_only: 'no',
      },
    ]);
  });

  it('keeps viewers (ip, user agent) apart, oldest first', () => {
    const stats = accessStats(
      [
        summary({ user_agent: 'late', first_accessed_at: new Date(3000) }),
        summary({
          ip_address: '192.0.2.1',
          first_accessed_at: new Date(100),
          segments: Uint8Array.of(0xff, 0xff),
        }),
      ],
      16,
    );
    expect(stats.map((s) => [s.ip_address, s.user_agent, s.percentage_obtained])).toEqual([
      ['192.0.2.1', 'player', '100%'],
      ['5.9.119.0', 'late', '12%'],
    ]);
  });

  it('answers no stats for no summaries', () => {
    expect(accessStats([], 10)).toEqual([]);
  });
});
