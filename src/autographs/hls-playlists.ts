import type { JobResult } from '../jobs/schemas/job.schema.js';

const AUDIO_GROUP = 'audio';

/**
 * RFC 8216 master playlist: one variant stream per rendition. A source with several audio
 * tracks gets an audio group: the first track is the one inside the video segments (no URI),
 * the others are alternate audio-only renditions players can switch to.
 */
export function masterPlaylist(result: Pick<JobResult, 'renditions' | 'audio_tracks'>): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const tracks = result.audio_tracks ?? [];
  const audioGroup = tracks.length > 1 ? `,AUDIO="${AUDIO_GROUP}"` : '';
  if (audioGroup) {
    const names = new Set<string>();
    tracks.forEach((track, position) => {
      // NAME must be unique in the group and a quoted-string (no quotes, no line breaks).
      let name = track.name.replace(/["\p{Cc}]/gu, "'");
      if (names.has(name)) name = `${name} (${position + 1})`;
      names.add(name);
      const language = track.language === 'und' ? '' : `,LANGUAGE="${track.language}"`;
      const where = track.alternate ? `,URI="audio/${position}/index.m3u8"` : '';
      const isDefault = position === 0 ? 'YES' : 'NO';
      lines.push(
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="${name}"${language},DEFAULT=${isDefault},AUTOSELECT=YES${where}`,
      );
    });
  }
  for (const rendition of result.renditions) {
    // AVERAGE-BANDWIDTH (HLS authoring spec) lets players pick by the sustained rate.
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${rendition.bandwidth},AVERAGE-BANDWIDTH=${rendition.average_bandwidth},RESOLUTION=${rendition.width}x${rendition.height}${audioGroup}`,
      `${rendition.height}p/index.m3u8`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * RFC 8216 VOD media playlist from the segments' durations and URIs (by default
 * segment_NNNNN.ts, the names the API's playback answers to).
 */
export function vodPlaylist(
  durations: number[],
  uris = durations.map((_, index) => `segment_${String(index).padStart(5, '0')}.ts`),
): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(Math.max(...durations))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  durations.forEach((duration, index) => {
    lines.push(`#EXTINF:${duration.toFixed(3)},`, uris[index]);
  });
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
