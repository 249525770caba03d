import { deliveredBitrates, resolveOutputs } from './job-outputs.js';

describe('deliveredBitrates', () => {
  it('takes the peak from the largest segment and the average over A and B', () => {
    const sizes: Record<string, number> = { a0: 1000, b0: 1200, a1: 500, b1: 300 };
    const segments = [
      { a: 'a0', b: 'b0', duration_s: 2 },
      { a: 'a1', b: 'b1', duration_s: 1 },
    ];
    expect(deliveredBitrates(segments, (path) => sizes[path])).toEqual({
      bandwidth: 4800, // 1200 bytes over 2 s
      average_bandwidth: Math.ceil((8 * (1100 + 400)) / 3),
    });
  });
});

describe('resolveOutputs', () => {
  it('completes each output from the ladder, highest first, one at the source height by default', () => {
    expect(resolveOutputs(undefined, 1080)).toEqual([
      { height: 1080, video_bitrate: 7800, max_bitrate: 11700, crf: null },
    ]);
    expect(resolveOutputs([{ height: 360, crf: 24 }, { height: 720 }], 720)).toEqual([
      { height: 720, video_bitrate: 4500, max_bitrate: 6750, crf: null },
      { height: 360, video_bitrate: null, max_bitrate: 1095, crf: 24 },
    ]);
  });
});
