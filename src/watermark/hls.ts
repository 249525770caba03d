/** One media segment of an HLS media playlist. */
export interface PlaylistSegment {
  /** Position in the playlist, 0-based: the segment index of the A/B timeline. */
  index: number;
  duration_s: number;
  /** URI as written in the playlist (relative to it for the playlists the encoder writes). */
  uri: string;
}

/** Reads the segments of an HLS media playlist (#EXTINF duration, then the URI line). */
export function parseMediaPlaylist(text: string): PlaylistSegment[] {
  const segments: PlaylistSegment[] = [];
  let pendingDuration: number | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line.startsWith('#EXTINF:')) {
      pendingDuration = Number.parseFloat(line.slice('#EXTINF:'.length));
      if (!Number.isFinite(pendingDuration)) throw new Error(`bad playlist line: ${line}`);
    } else if (line !== '' && !line.startsWith('#')) {
      if (pendingDuration === null) throw new Error(`segment without #EXTINF: ${line}`);
      segments.push({ index: segments.length, duration_s: pendingDuration, uri: line });
      pendingDuration = null;
    }
  }
  return segments;
}
