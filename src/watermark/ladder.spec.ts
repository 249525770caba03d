import {
  DEFAULT_LADDER,
  defaultEncoderSettings,
  encoderSettingsFor,
  rateControlArgs,
} from './ladder.js';

describe('the default ladder', () => {
  it("takes Apple's HLS bitrates at its rungs, with peaks at 1.5 times the average", () => {
    expect(DEFAULT_LADDER.map((rung) => defaultEncoderSettings(rung.height))).toEqual([
      { videoBitrate: 145, maxBitrate: 218, crf: null },
      { videoBitrate: 730, maxBitrate: 1095, crf: null },
      { videoBitrate: 1100, maxBitrate: 1650, crf: null },
      { videoBitrate: 2000, maxBitrate: 3000, crf: null },
      { videoBitrate: 4500, maxBitrate: 6750, crf: null },
      { videoBitrate: 7800, maxBitrate: 11700, crf: null },
    ]);
  });

  it('interpolates between rungs and scales with the pixel count beyond its ends', () => {
    const average = (height: number) => defaultEncoderSettings(height).videoBitrate;
    // 480p sits between 432p (1100) and 540p (2000), log-linearly in the height.
    expect(average(480)).toBe(
      Math.round(1100 * (2000 / 1100) ** (Math.log(480 / 432) / Math.log(540 / 432))),
    );
    expect(average(2160)).toBe(31200);
    expect(average(117)).toBe(36);
    for (let height = 144; height < 2160; height += 2) {
      expect(average(height + 2)).toBeGreaterThanOrEqual(average(height) ?? 0);
    }
  });
});

describe('encoderSettingsFor', () => {
  it('completes what was asked with the ladder: a CRF keeps the cap, a bitrate sets its own', () => {
    expect(encoderSettingsFor(720)).toEqual(defaultEncoderSettings(720));
    expect(encoderSettingsFor(720, { crf: 21 })).toEqual({
      videoBitrate: null,
      maxBitrate: 6750,
      crf: 21,
    });
    expect(encoderSettingsFor(720, { videoBitrate: 3000 })).toEqual({
      videoBitrate: 3000,
      maxBitrate: 4500,
      crf: null,
    });
    expect(encoderSettingsFor(720, { videoBitrate: 3000, maxBitrate: 3300 })).toEqual({
      videoBitrate: 3000,
      maxBitrate: 3300,
      crf: null,
    });
  });

  it('turns into x264 capped VBR or capped CRF with a 2 s VBV buffer', () => {
    expect(rateControlArgs({ videoBitrate: 2000, maxBitrate: 3000, crf: null })).toEqual([
      ...['-b:v', '2000k', '-maxrate', '3000k', '-bufsize', '6000k'],
    ]);
    expect(rateControlArgs({ videoBitrate: null, maxBitrate: 3000, crf: 22 })).toEqual([
      ...['-crf', '22', '-maxrate', '3000k', '-bufsize', '6000k'],
    ]);
  });
});
