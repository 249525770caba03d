import type { AccessEvent } from './schemas/access-event.schema.js';

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
 * The Backtrace API's `access_stats` of one autograph: one entry per (ip_address, user_agent), oldest
 * first. `percentage_obtained` counts distinct segments of any rendition.
 */
export function accessStats(
  events: readonly Omit<AccessEvent, 'autograph'>[],
  segmentCount: number,
): AccessStat[] {
  const groups = new Map<
    string,
    {
      first: AccessEvent['at'];
      event: Omit<AccessEvent, 'autograph'>;
      segments: Set<number>;
      height: number;
      download: boolean;
    }
  >();
  for (const event of events) {
    const key = `${event.ip_address}\n${event.user_agent}`;
    let group = groups.get(key);
    if (!group) {
      group = { first: event.at, event, segments: new Set(), height: 0, download: false };
      groups.set(key, group);
    }
    if (event.at < group.first) {
      group.first = event.at;
      group.event = event;
    }
    for (const segment of event.segments) group.segments.add(segment);
    group.height = Math.max(group.height, event.height);
    group.download ||= event.download;
  }
  return [...groups.values()]
    .sort((a, b) => a.first.getTime() - b.first.getTime())
    .map(({ first, event, segments, height, download }) => ({
      ip_address: event.ip_address,
      ip_country: event.ip_country,
      ip_type: event.ip_type,
      user_agent: event.user_agent,
      accept_language: event.accept_language,
      first_accessed_at: first.getTime(),
      percentage_obtained: `${segmentCount > 0 ? Math.min(100, Math.floor((100 * segments.size) / segmentCount)) : 0}%`,
      highest_resolution: `${height}p`,
      streaming_only: download ? 'no' : 'yes',
    }));
}
