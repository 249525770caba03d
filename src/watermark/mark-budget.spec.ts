import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { framesPerSegment } from './embed-variants.js';
import { defaultEncoderSettings } from './ladder.js';
import {
  budgetedStrength,
  MARK_COST_DB,
  pilotExcerpts,
  pilotPsnrY,
  STRENGTH_RANGE,
} from './mark-budget.js';
import { FFMPEG_ENV, FFMPEG_PATH, type MediaInfo, probeMedia } from './media.js';

const HEIGHT = 360;
let dir: string;

function clip(name: string, filters: string): string {
  const path = join(dir, `${name}.mp4`);
  execFileSync(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=640x360:rate=25:duration=4${filters}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', path],
    ],
    { env: FFMPEG_ENV },
  );
  return path;
}

async function pilotOf(input: string, source: MediaInfo): Promise<number> {
  return pilotPsnrY({
    input,
    source,
    width: 640,
    height: HEIGHT,
    frameRate: source.frame_rate,
    segmentDuration: 1,
    framesPerSegment: framesPerSegment(source.frame_rate, 1),
    encoding: defaultEncoderSettings(HEIGHT),
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mark-budget-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('budgetedStrength', () => {
  it('holds the mark to the share of the encoder error that costs MARK_COST_DB', () => {
    const encoderPsnr = 36;
    const strength = budgetedStrength(encoderPsnr);
    const encoderMse = 255 ** 2 / 10 ** (encoderPsnr / 10);
    const cost = 10 * Math.log10(1 + strength ** 2 / encoderMse);
    expect(cost).toBeCloseTo(MARK_COST_DB, 6);
    // A cleaner encode leaves less room: 6 dB better is half the strength.
    expect(budgetedStrength(encoderPsnr + 6) / strength).toBeCloseTo(0.5, 1);
  });

  it('stays within its bounds on near-lossless and on very coarse encodes', () => {
    expect(budgetedStrength(72)).toBe(STRENGTH_RANGE.min);
    expect(budgetedStrength(28)).toBe(STRENGTH_RANGE.max);
  });
});

describe('pilotExcerpts', () => {
  it('samples a short clip once, in its middle', () => {
    expect(pilotExcerpts(10, 2)).toEqual([{ start: 4, length: 2 }]);
    expect(pilotExcerpts(1.5, 2)).toEqual([{ start: 0, length: 1.5 }]);
  });

  it('spreads up to eight excerpts over a film', () => {
    const excerpts = pilotExcerpts(7200, 2);
    expect(excerpts).toHaveLength(8);
    expect(excerpts[0]).toEqual({ start: 449, length: 2 });
    expect(excerpts[7]).toEqual({ start: 6749, length: 2 });
    expect(pilotExcerpts(20, 1).map((excerpt) => excerpt.start)).toEqual([4, 14]);
    expect(pilotExcerpts(180, 1)).toHaveLength(8);
  });
});

describe('pilotPsnrY', () => {
  it('measures the rendition encoder: grain costs it quality, so a grainy film gets a stronger mark', async () => {
    const cleanPath = clip('clean', '');
    const grainyPath = clip('grainy', ',noise=alls=8:allf=t');
    const clean = await pilotOf(cleanPath, await probeMedia(cleanPath));
    const grainy = await pilotOf(grainyPath, await probeMedia(grainyPath));
    expect(clean).toBeGreaterThan(30);
    expect(clean).toBeLessThan(60);
    expect(grainy).toBeLessThan(clean - 3);
    expect(budgetedStrength(grainy)).toBeGreaterThan(budgetedStrength(clean));
    // The same source and settings give the same strength (A/B of every job are reproducible).
    expect(await pilotOf(cleanPath, await probeMedia(cleanPath))).toBe(clean);
  });
});
