import { parseMediaPlaylist } from '../watermark/hls.js';
import { masterPlaylist, vodPlaylist } from './hls-playlists.js';

const rendition = (height: number, width: number) => ({
  height,
  width,
  bandwidth: 1000 * height,
  average_bandwidth: 700 * height,
  segments: [],
});

describe('masterPlaylist', () => {
  it('lists one variant stream per rendition, without an audio group for one language', () => {
    const text = masterPlaylist({
      renditions: [rendition(720, 1280), rendition(360, 640)],
      audio_tracks: [{ language: 'eng', name: 'English', alternate: null }],
    });
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=720000,AVERAGE-BANDWIDTH=504000,RESOLUTION=1280x720',
        '720p/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=360000,AVERAGE-BANDWIDTH=252000,RESOLUTION=640x360',
        '360p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('keeps audio NAMEs unique and quotable, and omits an undetermined LANGUAGE', () => {
    const alternate = { file: 'audio/n/track.m4a', segments: [] };
    const text = masterPlaylist({
      renditions: [rendition(360, 640)],
      audio_tracks: [
        { language: 'eng', name: 'English', alternate: null },
        { language: 'eng', name: 'English', alternate },
        { language: 'und', name: 'Director "cut"\ncommentary', alternate },
      ],
    });
    expect(text.split('\n').filter((line) => line.startsWith('#EXT-X-'))).toEqual([
      '#EXT-X-VERSION:3',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English (2)",LANGUAGE="eng",DEFAULT=NO,AUTOSELECT=YES,URI="audio/1/index.m3u8"',
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Director 'cut''commentary",DEFAULT=NO,AUTOSELECT=YES,URI="audio/2/index.m3u8"`,
      '#EXT-X-STREAM-INF:BANDWIDTH=360000,AVERAGE-BANDWIDTH=252000,RESOLUTION=640x360,AUDIO="audio"',
    ]);
  });
});

describe('vodPlaylist', () => {
  it('writes a VOD playlist whose target duration covers the longest segment', () => {
    const text = vodPlaylist([2, 2.002, 0.5]);
    expect(text).toContain('#EXT-X-TARGETDURATION:3\n');
    expect(text.endsWith('#EXT-X-ENDLIST\n')).toBe(true);
    expect(parseMediaPlaylist(text)).toEqual([
      { index: 0, duration_s: 2, uri: 'segment_00000.ts' },
      { index: 1, duration_s: 2.002, uri: 'segment_00001.ts' },
      { index: 2, duration_s: 0.5, uri: 'segment_00002.ts' },
    ]);
  });
});
