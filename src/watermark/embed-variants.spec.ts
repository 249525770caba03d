import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  AUDIO_FILE_NAME,
  type EmbedProgress,
  type EmbedResult,
  embedVariants,
  framesPerSegment,
  type VariantSegment,
} from './embed-variants.js';
import { FFMPEG_PATH } from './media.js';
import { readFrames } from './media-frames.js';
import { remuxToMp4 } from './media-remux.js';
import { defaultEncoderSettings } from './ladder.js';
import { budgetedStrength, STRENGTH_RANGE } from './mark-budget.js';
import {
  audioPackets,
  correlation,
  probeStreams,
  span,
  toneOnset,
  x264Options,
} from './media.testing.js';
import { watermarkPattern } from './pattern.js';
import { DETECTION_HEIGHT, DETECTION_WIDTH, detectionView, readReference } from './reference.js';

// 360p: the lowest rendition of a real ladder (730 kbit/s), where the mark must survive.
const WIDTH = 640;
const HEIGHT = 360;
const KEY = Buffer.from('embedder-test-job-key');
let dir: string;
let clip: string;
let marked: EmbedResult;
let unmarked: EmbedResult;
const progress: EmbedProgress[] = [];

async function mixToMp4(segments: VariantSegment[], path: string): Promise<string> {
  const paths = segments.map((segment) => (segment.index % 2 === 0 ? segment.a : segment.b));
  writeFileSync(path, await buffer(remuxToMp4(paths).stream));
  return path;
}

async function decodeLuma(path: string): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const frame of readFrames(path, { grayOnly: true })) frames.push(frame.data);
  return frames;
}

function psnr(a: Uint8Array[], b: Uint8Array[]): number {
  let squares = 0;
  let count = 0;
  a.forEach((frame, f) => {
    for (let i = 0; i < frame.length; i++) squares += (frame[i] - b[f][i]) ** 2;
    count += frame.length;
  });
  return 10 * Math.log10((255 * 255) / (squares / count));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autograph-embedder-'));
  clip = join(dir, 'clip.mp4');
  execFileSync(FFMPEG_PATH, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=25:duration=4`],
    ...['-c:v', 'libx264', '-crf', '10', '-pix_fmt', 'yuv420p', clip],
  ]);
  const common = { input: clip, key: KEY, segmentDuration: 2 };
  marked = await embedVariants({
    ...common,
    outputDir: join(dir, 'marked'),
    renditions: [{ height: HEIGHT }, { height: 90 }],
    onProgress: (update) => progress.push(update),
  });
  // An unmarked encode with identical settings: the quality reference of the design.
  unmarked = await embedVariants({
    ...common,
    outputDir: join(dir, 'unmarked'),
    renditions: [{ height: HEIGHT }],
    strength: 0,
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedVariants', () => {
  it('writes A and B segment sets of equal count and duration per rendition', () => {
    expect(marked.frameRate).toBe(25);
    expect(marked.framesPerSegment).toBe(50);
    expect(marked.renditions.map(({ width, height }) => [width, height])).toEqual([
      [160, 90],
      [WIDTH, HEIGHT],
    ]);
    for (const rendition of marked.renditions) {
      expect(rendition.segments.map((s) => [s.index, s.duration_s])).toEqual([
        [0, 2],
        [1, 2],
      ]);
      expect(rendition.playlistA).toBe(
        join(dir, 'marked', `${rendition.height}p`, 'a', 'playlist.m3u8'),
      );
      expect(readFileSync(rendition.playlistB, 'utf8')).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
      for (const segment of rendition.segments) {
        expect(readFileSync(segment.a).equals(readFileSync(segment.b))).toBe(false);
      }
    }
  });

  it('marks segment i with +pattern(i) in A and -pattern(i) in B, surviving the encode', async () => {
    const rendition = marked.renditions[1];
    for (const segment of rendition.segments) {
      const [a, b] = await Promise.all([decodeLuma(segment.a), decodeLuma(segment.b)]);
      expect(a).toHaveLength(50);
      expect(b).toHaveLength(50);
      const meanDifference = new Float32Array(WIDTH * HEIGHT);
      a.forEach((frame, f) => {
        for (let i = 0; i < frame.length; i++) meanDifference[i] += (frame[i] - b[f][i]) / a.length;
      });
      const own = watermarkPattern(KEY, segment.index, WIDTH, HEIGHT);
      const other = watermarkPattern(KEY, segment.index + 1, WIDTH, HEIGHT);
      expect(correlation(meanDifference, own)).toBeGreaterThan(0.7);
      expect(Math.abs(correlation(meanDifference, other))).toBeLessThan(0.4);
    }
  });

  it('budgets each rendition from its pilot encode: 90p at 90 kbit/s leaves room, 360p little', () => {
    const [small, large] = marked.renditions.map((rendition) => rendition.mark);
    expect(small.pilotPsnrY).toBeLessThan(32);
    expect(small.strength).toBe(STRENGTH_RANGE.max);
    expect(large.pilotPsnrY).toBeGreaterThan(40);
    expect(large.strength).toBe(budgetedStrength(large.pilotPsnrY as number));
    expect(large.strength).toBeLessThan(0.6);
    expect(unmarked.renditions[0].mark).toEqual({ strength: 0, pilotPsnrY: null });
  });

  // A guard that the budget holds on a real encode, not the quality target itself (≤ 0.5 dB,
  // measured over five contents by bench:embed): on this short test card A and B differ by
  // x264's chaos (0.39 and 0.63 dB when written).
  it('costs at most 1 dB of PSNR against the source, next to an unmarked encode alike', async () => {
    const source = await decodeLuma(clip);
    const rendition = marked.renditions[1];
    const decode = async (pick: (segment: VariantSegment) => string, segments: VariantSegment[]) =>
      (await Promise.all(segments.map((segment) => decodeLuma(pick(segment))))).flat();
    const plain = await decode((segment) => segment.a, unmarked.renditions[0].segments);
    const plainPsnr = psnr(plain, source);
    for (const pick of [(s: VariantSegment) => s.a, (s: VariantSegment) => s.b]) {
      const variantPsnr = psnr(await decode(pick, rendition.segments), source);
      expect(plainPsnr - variantPsnr).toBeLessThan(1);
    }
  });

  it('encodes both variants with the rendition’s settings: the default ladder unless given', () => {
    expect(marked.renditions.map((rendition) => rendition.encoding)).toEqual([
      defaultEncoderSettings(90),
      defaultEncoderSettings(HEIGHT),
    ]);
    const options = marked.renditions.map((rendition) => x264Options(rendition.segments[0].a));
    expect(options[1]).toContain(` bitrate=${defaultEncoderSettings(HEIGHT).videoBitrate} `);
    expect(x264Options(marked.renditions[1].segments[0].b)).toBe(options[1]);
  });

  it('never upscales, and makes each height once', async () => {
    const common = { input: clip, key: KEY, outputDir: join(dir, 'refused') };
    await expect(embedVariants({ ...common, renditions: [{ height: 720 }] })).rejects.toThrow(
      '720p would upscale the 360p source',
    );
    await expect(
      embedVariants({ ...common, renditions: [{ height: 90 }, { height: 90 }] }),
    ).rejects.toThrow('rendition heights repeat: 90, 90');
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });

  it('writes a detection reference of the original from the lowest rendition', async () => {
    const reference = await readReference(marked.referencePath);
    expect(reference).toMatchObject({
      frameRate: 25,
      segmentDuration: 2,
      framesPerSegment: 50,
      frameCount: 100,
      segmentCount: 2,
      sourceWidth: 160,
      sourceHeight: 90,
    });
    expect(reference.signatures).toHaveLength(100 * 16 * 9);
    // The stored segment mean matches the unmarked encode's mean detection view.
    const plain = await decodeLuma(unmarked.renditions[0].segments[1].a);
    const mean = new Float32Array(DETECTION_WIDTH * DETECTION_HEIGHT);
    for (const frame of plain) {
      const view = detectionView(frame, WIDTH, HEIGHT);
      for (let i = 0; i < mean.length; i++) mean[i] += view[i] / plain.length;
    }
    const stored = reference.segmentMeans.subarray(mean.length, 2 * mean.length);
    expect(correlation(stored, mean)).toBeGreaterThan(0.99);
  });

  it('reports progress up to the whole job', () => {
    expect(progress.length).toBeGreaterThanOrEqual(200);
    expect(progress[0]).toMatchObject({ rendition: 90, framesDone: 1, framesTotal: 100 });
    expect(progress.at(-1)).toMatchObject({ rendition: HEIGHT, framesDone: 100, fraction: 1 });
  });
});

describe('embedVariants with audio', () => {
  let toned: EmbedResult;
  let late: EmbedResult;
  let lateClip: string;

  beforeAll(async () => {
    const tonedClip = join(dir, 'toned.mp4');
    execFileSync(FFMPEG_PATH, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=25:duration=4`],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', tonedClip],
    ]);
    // Video from 0.4 s; audio from 0, silent until 1.5 s: the tone is 1.1 s after frame 0.
    lateClip = join(dir, 'late.mp4');
    execFileSync(FFMPEG_PATH, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=25:duration=4`],
      ...['-f', 'lavfi', '-i', 'aevalsrc=if(gte(t\\,1.5)\\,sin(2*PI*440*t)\\,0):s=44100:d=5'],
      ...['-filter_complex', '[0:v]setpts=PTS+0.4/TB[v]', '-map', '[v]', '-map', '1:a'],
      ...['-vsync', 'passthrough', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
      lateClip,
    ]);
    const common = { key: KEY, segmentDuration: 1 };
    toned = await embedVariants({
      ...common,
      input: tonedClip,
      outputDir: join(dir, 'toned'),
      renditions: [{ height: HEIGHT }, { height: 90 }],
    });
    late = await embedVariants({
      ...common,
      input: lateClip,
      outputDir: join(dir, 'late'),
      renditions: [{ height: 90 }],
    });
  });

  it('gives A and B segments of the same index identical audio packets', () => {
    expect(toned.audioTracks).toEqual([{ language: 'und', title: null, alternate: null }]);
    expect(existsSync(join(dir, 'toned', AUDIO_FILE_NAME))).toBe(false);
    const [low, high] = toned.renditions;
    for (const rendition of [low, high]) {
      expect(rendition.segments.map((s) => s.duration_s)).toEqual([1, 1, 1, 1]);
      for (const segment of rendition.segments) {
        for (const path of [segment.a, segment.b]) {
          expect(probeStreams(path).map((stream) => stream.codec_name)).toEqual(['h264', 'aac']);
        }
        expect(readFileSync(segment.a).equals(readFileSync(segment.b))).toBe(false);
        const packets = audioPackets(segment.a);
        expect(packets.length).toBeGreaterThan(40); // 1 s of 48 kHz AAC: ~47 packets
        expect(audioPackets(segment.b)).toEqual(packets);
        // One audio track for the job: the renditions carry the very same packets too.
        expect(audioPackets(low.segments[segment.index].a)).toEqual(packets);
      }
    }
  });

  it('keeps audio and video together in a remuxed A/B mix', async () => {
    const mixed = await mixToMp4(toned.renditions[1].segments, join(dir, 'toned-mix.mp4'));
    expect(probeStreams(mixed).map((stream) => stream.codec_type)).toEqual(['video', 'audio']);
    const video = span(probeStreams(mixed), 'video');
    const audio = span(probeStreams(mixed), 'audio');
    expect(video.end - video.start).toBeCloseTo(4, 6);
    expect(Math.abs(audio.end - audio.start - (video.end - video.start))).toBeLessThan(0.1);
    expect(Math.abs(audio.end - video.end)).toBeLessThan(0.025);
    // The audio does not shift the frames: the mix decodes to the 100 frames that were marked.
    expect(await decodeLuma(mixed)).toHaveLength(100);
  });

  it('keeps the audio in sync with the first video frame of the original', async () => {
    expect(span(probeStreams(lateClip), 'video')).toEqual({ start: 0.4, end: 4.4 });
    expect(late.renditions[0].segments).toHaveLength(4);
    const mixed = await mixToMp4(late.renditions[0].segments, join(dir, 'late-mix.mp4'));
    const onset = toneOnset(mixed) - span(probeStreams(mixed), 'video').start;
    expect(Math.abs(onset - 1.1)).toBeLessThan(0.025);
  });

  it('writes no audio into variants of a video without audio', () => {
    expect(marked.source.audio_tracks).toEqual([]);
    const segment = marked.renditions[0].segments[0];
    expect(probeStreams(segment.a).map((stream) => stream.codec_type)).toEqual(['video']);
  });
});

describe('embedVariants cancellation', () => {
  it('stops on abort, rejecting with the reason and leaving no ffmpeg running', async () => {
    const controller = new AbortController();
    const outputDir = join(dir, 'aborted');
    const run = embedVariants({
      input: clip,
      outputDir,
      key: KEY,
      renditions: [{ height: HEIGHT }],
      signal: controller.signal,
      onProgress: ({ framesDone }) => {
        if (framesDone === 10) controller.abort(new Error('lease lost'));
      },
    });
    await expect(run).rejects.toThrow('lease lost');
    const running = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(outputDir) || line.includes(clip));
    expect(running).toEqual([]);
  });
});

describe('framesPerSegment', () => {
  it('rounds a segment up to whole frames', () => {
    expect(framesPerSegment(25, 2)).toBe(50);
    expect(framesPerSegment(30000 / 1001, 2)).toBe(60);
    expect(framesPerSegment(24000 / 1001, 1)).toBe(24);
    expect(framesPerSegment(30, 1)).toBe(30);
  });
});
