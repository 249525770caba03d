import type { AccessSummary } from './schemas/access-summary.schema.js';

/** A stored summary; its segment bitmap as read back from the database. */
export type StoredSummary = Omit<AccessSummary, '_id' | 'segments'> & { segments: Uint8Array };

/** How one viewer obtained an autograph's copy (`access_stats` of the Backtrace API). */
export interface AccessStat {
  ip_address: string;
  ip_country: string;
  ip_type: string;
  user_agent: string;
  accept_language: string;
  first_accessed_at: number;
  percentage_obtained: string;
  highest_resolution: string;
  streaming_only: 'yes' | 'no';
}

/**
 * The Backtrace API's `access_stats` of one autograph: one entry per (ip_address, user_agent),
 * merged from that viewer's summaries, oldest first. `percentage_obtained` counts distinct
 * segments of any rendition.
 */
export function accessStats(
  summaries: readonly StoredSummary[],
  segmentCount: number,
): AccessStat[] {
  const viewers = new Map<
    string,
    { first: StoredSummary; segments: Uint8Array; height: number; downloaded: boolean }
  >();
  for (const summary of summaries) {
    const key = `${summary.ip_address}\n${summary.user_agent}`;
    const viewer = viewers.get(key);
    if (!viewer) {
      viewers.set(key, {
        first: summary,
        segments: Uint8Array.from(summary.segments),
        height: summary.highest_height,
        downloaded: summary.downloaded,
      });
      continue;
    }
    if (summary.first_accessed_at < viewer.first.first_accessed_at) viewer.first = summary;
    if (summary.segments.length > viewer.segments.length) {
      const wider = new Uint8Array(summary.segments.length);
      wider.set(viewer.segments);
      viewer.segments = wider;
    }
    summary.segments.forEach((byte, i) => (viewer.segments[i] |= byte));
    viewer.height = Math.max(viewer.height, summary.highest_height);
    viewer.downloaded ||= summary.downloaded;
  }
  return [...viewers.values()]
    .sort((a, b) => a.first.first_accessed_at.getTime() - b.first.first_accessed_at.getTime())
    .map(({ first, segments, height, downloaded }) => ({
      ip_address: first.ip_address,
      ip_country: first.ip_country,
      ip_type: first.ip_type,
      user_agent: first.user_agent,
      accept_language: first.accept_language,
      first_accessed_at: first.first_accessed_at.getTime(),
      percentage_obtained: `${segmentCount > 0 ? Math.min(100, Math.floor((100 * bitCount(segments)) / segmentCount)) : 0}%`,
      highest_resolution: `${height}p`,
      streaming_only: downloaded ? 'no' : 'yes',
    }));
}

function bitCount(bytes: Uint8Array): number {
  let count = 0;
  for (let byte of bytes) {
    for (; byte; byte &= byte - 1) count += 1;
  }
  return count;
}
