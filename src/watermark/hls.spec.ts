import { parseMediaPlaylist } from './hls.js';

describe('parseMediaPlaylist', () => {
  it('reads durations and URIs in order', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXTINF:2.000000,',
      'segment_00000.ts',
      '#EXTINF:1.520000,',
      'segment_00001.ts',
      '#EXT-X-ENDLIST',
      '',
    ].join('\n');
    expect(parseMediaPlaylist(playlist)).toEqual([
      { index: 0, duration_s: 2, uri: 'segment_00000.ts' },
      { index: 1, duration_s: 1.52, uri: 'segment_00001.ts' },
    ]);
  });

  it('rejects a segment without duration', () => {
    expect(() => parseMediaPlaylist('#EXTM3U\nsegment.ts\n')).toThrow(/EXTINF/);
  });
});
