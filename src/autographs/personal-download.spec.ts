import { PersonalDownload } from './personal-download.js';

const stored = {
  a: '720p/a/download.mp4',
  b: '720p/b/download.mp4',
  init_size: 100,
  fragments_a: [10, 20, 30],
  fragments_b: [11, 21, 31],
};

describe('PersonalDownload', () => {
  const mixed = new PersonalDownload('/out', stored, ['a', 'b', 'a'], 'job/run/720');

  it('is the init, then the chosen fragment of each segment at its offset in its file', () => {
    expect(mixed.size).toBe(100 + 10 + 21 + 30);
    expect(mixed.parts).toEqual([
      { path: '/out/720p/a/download.mp4', fileOffset: 0, offset: 0, length: 100, segment: null },
      { path: '/out/720p/a/download.mp4', fileOffset: 100, offset: 100, length: 10, segment: 0 },
      { path: '/out/720p/b/download.mp4', fileOffset: 111, offset: 110, length: 21, segment: 1 },
      { path: '/out/720p/a/download.mp4', fileOffset: 130, offset: 131, length: 30, segment: 2 },
    ]);
  });

  it('maps a byte range to pieces of the stored files', () => {
    expect([...mixed.pieces(105, 135)]).toEqual([
      { path: '/out/720p/a/download.mp4', start: 105, end: 109 },
      { path: '/out/720p/b/download.mp4', start: 111, end: 131 },
      { path: '/out/720p/a/download.mp4', start: 130, end: 134 },
    ]);
  });

  it('counts only the segments wholly inside a span', () => {
    expect(mixed.segmentsWithin(0, mixed.size)).toEqual([0, 1, 2]);
    expect(mixed.segmentsWithin(0, 130)).toEqual([0]);
    expect(mixed.segmentsWithin(101, 131)).toEqual([1]);
    expect(mixed.segmentsWithin(0, 100)).toEqual([]);
  });

  it('has one ETag per content: the same for the same choice, another for another', () => {
    const again = new PersonalDownload('/out', stored, ['a', 'b', 'a'], 'job/run/720');
    const other = new PersonalDownload('/out', stored, ['a', 'a', 'a'], 'job/run/720');
    const rerun = new PersonalDownload('/out', stored, ['a', 'b', 'a'], 'job/run2/720');
    expect(again.etag).toBe(mixed.etag);
    expect(new Set([mixed.etag, other.etag, rerun.etag]).size).toBe(3);
    expect(mixed.etag).toMatch(/^"[\w-]{32}"$/);
  });
});
