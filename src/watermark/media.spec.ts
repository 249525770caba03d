import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  FFMPEG_PATH,
  FrameEncoder,
  MediaError,
  probeMedia,
  readFrames,
  remuxToMp4,
  scaledSize,
} from './media.js';

const WIDTH = 320;
const HEIGHT = 180;
let dir: string;
let clip: string;

function ffmpeg(...args: string[]): void {
  execFileSync(FFMPEG_PATH, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

async function collect(path: string, options: Parameters<typeof readFrames>[1]) {
  const frames: Uint8Array[] = [];
  for await (const frame of readFrames(path, options)) frames.push(frame.data);
  return frames;
}

/** ffmpeg processes whose command line mentions this test's temp dir. */
function ffmpegProcessesInDir(): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dir) && line.includes('ffmpeg'));
}

/** A yuv420p frame whose luma is `luma` everywhere (chroma neutral). */
function solidFrame(luma: number): Uint8Array {
  const frame = new Uint8Array((WIDTH * HEIGHT * 3) / 2).fill(128);
  frame.fill(luma, 0, WIDTH * HEIGHT);
  return frame;
}

async function encode(name: string, luma: number, frames: number) {
  const encoder = await FrameEncoder.start({
    outputDir: join(dir, name),
    width: WIDTH,
    height: HEIGHT,
    frameRate: 25,
    framesPerSegment: 25,
  });
  for (let i = 0; i < frames; i++) await encoder.write(solidFrame(luma));
  return encoder.finish();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'autograph-media-'));
  clip = join(dir, 'clip.mp4');
  ffmpeg(
    ...['-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=25:duration=4`],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip],
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('probeMedia', () => {
  it('reads size, codec, rate and duration of a video', async () => {
    const info = await probeMedia(clip);
    expect(info).toMatchObject({
      width: WIDTH,
      height: HEIGHT,
      codec: 'h264',
      frame_rate: 25,
      has_video: true,
    });
    expect(info.duration_s).toBeCloseTo(4, 1);
    expect(info.display_aspect_ratio).toBeCloseTo(16 / 9, 6);
  });

  it('rejects missing files, non-media, still images and audio-only files', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a video at all\n');
    const image = join(dir, 'still.png');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=64x36', '-frames:v', '1', image);
    const audio = join(dir, 'tone.m4a');
    ffmpeg('-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', audio);

    await expect(probeMedia(join(dir, 'missing.mp4'))).rejects.toMatchObject({
      code: 'not_found',
    });
    for (const path of [text, image, audio]) {
      const error: unknown = await probeMedia(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MediaError);
      expect((error as MediaError).code).toBe('not_a_video');
    }
  });

  it('derives even output sizes from the display aspect ratio', async () => {
    const info = await probeMedia(clip);
    expect(scaledSize(info, { height: 90 })).toEqual({ width: 160, height: 90 });
    expect(scaledSize(info, { height: 101 })).toEqual({ width: 180, height: 101 });
    expect(scaledSize(info, { width: 64 })).toEqual({ width: 64, height: 36 });
    expect(scaledSize(info, {})).toEqual({ width: WIDTH, height: HEIGHT });
  });
});

describe('readFrames', () => {
  it('streams every frame at the requested size and format', async () => {
    let count = 0;
    let lastTime = -1;
    for await (const frame of readFrames(clip, { width: 64, height: 36, grayOnly: true })) {
      expect(frame.data).toHaveLength(64 * 36);
      expect(frame.index).toBe(count);
      lastTime = frame.time_s;
      count++;
    }
    expect(count).toBe(100);
    expect(lastTime).toBeCloseTo(99 / 25, 9);

    const yuv = await collect(clip, { height: 90, fps: 10 });
    expect(yuv).toHaveLength(40);
    expect(yuv[0]).toHaveLength((160 * 90 * 3) / 2);
  });

  it('kills ffmpeg when the consumer stops early', async () => {
    let taken = 0;
    for await (const frame of readFrames(clip, { grayOnly: true })) {
      expect(frame.width).toBe(WIDTH);
      if (++taken === 3) break;
    }
    expect(taken).toBe(3);
    expect(ffmpegProcessesInDir()).toEqual([]);
  });

  it('rejects odd yuv420p sizes', async () => {
    await expect(collect(clip, { width: 63, height: 36 })).rejects.toThrow(RangeError);
  });

  it("surfaces ffmpeg's stderr when decoding fails", async () => {
    const error: unknown = await collect(clip, { fps: -5 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe('decode_failed');
    expect((error as MediaError).stderr).toMatch(/fps|frame rate|Invalid/i);
  });
});

describe('FrameEncoder and remuxToMp4', () => {
  it('cuts one closed GOP per segment, so segments of two encodes mix without re-encoding', async () => {
    const dark = await encode('dark', 40, 60);
    const bright = await encode('bright', 200, 60);
    expect(dark.map((segment) => segment.duration_s)).toEqual([1, 1, 0.4]);
    expect(bright).toHaveLength(3);

    const mixed = join(dir, 'mixed.mp4');
    const remux = remuxToMp4([dark[0].path, bright[1].path, dark[2].path]);
    writeFileSync(mixed, await buffer(remux.stream));
    const frames = await collect(mixed, { grayOnly: true });
    expect(frames).toHaveLength(60);
    const lumaAt = (index: number): number => frames[index][WIDTH * 90 + 160];
    expect(Math.abs(lumaAt(0) - 40)).toBeLessThanOrEqual(2);
    expect(Math.abs(lumaAt(24) - 40)).toBeLessThanOrEqual(2);
    expect(Math.abs(lumaAt(25) - 200)).toBeLessThanOrEqual(2);
    expect(Math.abs(lumaAt(49) - 200)).toBeLessThanOrEqual(2);
    expect(Math.abs(lumaAt(50) - 40)).toBeLessThanOrEqual(2);
  });

  it('rejects frames of the wrong size and reports failed encodes and remuxes', async () => {
    const encoder = await FrameEncoder.start({
      outputDir: join(dir, 'wrong'),
      width: WIDTH,
      height: HEIGHT,
      frameRate: 25,
      framesPerSegment: 25,
    });
    await expect(encoder.write(new Uint8Array(10))).rejects.toThrow(RangeError);
    await encoder.abort();

    const broken = await FrameEncoder.start({
      outputDir: join(dir, 'broken'),
      width: WIDTH,
      height: HEIGHT,
      frameRate: 25,
      framesPerSegment: 25,
      preset: 'no-such-preset',
    });
    const failure: unknown = await broken
      .write(solidFrame(1))
      .then(() => broken.finish())
      .catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(MediaError);
    expect((failure as MediaError).code).toBe('encode_failed');
    expect((failure as MediaError).stderr).toMatch(/preset/i);

    const garbage = join(dir, 'garbage.ts');
    writeFileSync(garbage, Buffer.alloc(4096, 7));
    await expect(buffer(remuxToMp4([garbage]).stream)).rejects.toMatchObject({
      code: 'remux_failed',
    });
  });
});
