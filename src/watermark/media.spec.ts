import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  crfForHeight,
  encodeAudioTracks,
  FFMPEG_ENV,
  FFMPEG_PATH,
  FrameEncoder,
  MediaError,
  probeMedia,
  readFrames,
  remuxToMp4,
  scaledSize,
  segmentAudioTrack,
} from './media.js';
import { audioPackets, probeStreams, span, toneOnset } from './media.testing.js';

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

async function encode(name: string, luma: number, frames: number, audioPath?: string) {
  const encoder = await FrameEncoder.start({
    outputDir: join(dir, name),
    width: WIDTH,
    height: HEIGHT,
    frameRate: 25,
    framesPerSegment: 25,
    audioPath,
  });
  for (let i = 0; i < frames; i++) await encoder.write(solidFrame(luma));
  return encoder.finish();
}

/** A 4 s 25 fps test pattern with the given audio source and filters (AAC in MP4). */
function clipWithAudio(name: string, audio: string, filters: string): string {
  const path = join(dir, name);
  ffmpeg(
    ...['-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=25:duration=4`],
    ...['-f', 'lavfi', '-i', audio, '-filter_complex', filters, '-map', '[v]', '-map', '[a]'],
    // Passthrough keeps a shifted start as it is (constant-rate sync would fill it).
    ...['-vsync', 'passthrough', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', path],
  );
  return path;
}

let toned: string;
/** Video from 0.4 s to 4.4 s; audio from 0 to 5 s, silent until 1 s. */
let lateVideo: string;
/** Video from 0 to 4 s; a tone from 0.6 s to 4.6 s. */
let lateAudio: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'autograph-media-'));
  clip = join(dir, 'clip.mp4');
  ffmpeg(
    ...['-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=25:duration=4`],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip],
  );
  toned = clipWithAudio('toned.mp4', 'sine=frequency=440:duration=4', '[0:v]null[v];[1:a]anull[a]');
  lateVideo = clipWithAudio(
    'late-video.mp4',
    'aevalsrc=if(gte(t\\,1)\\,sin(2*PI*440*t)\\,0):s=44100:d=5',
    '[0:v]setpts=PTS+0.4/TB[v];[1:a]anull[a]',
  );
  lateAudio = clipWithAudio(
    'late-audio.mp4',
    'sine=frequency=440:duration=4',
    '[0:v]null[v];[1:a]asetpts=PTS+0.6/TB[a]',
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

  it('refuses playlists and file lists, which would open files named inside them', async () => {
    // Segments elsewhere (outside any storage root), named by absolute path or file:// URL.
    const segment = join(dir, 'elsewhere.ts');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=64x36:duration=1', '-c:v', 'libx264', segment);
    const hls = `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile://${segment}\n#EXT-X-ENDLIST\n`;
    const lists = {
      'playlist.m3u8': hls,
      'playlist-named-like-a-movie.mp4': hls,
      'concat.txt': `ffconcat version 1.0\nfile '${segment}'\n`,
    };
    for (const [name, content] of Object.entries(lists)) {
      const path = join(dir, name);
      writeFileSync(path, content);
      const probed: unknown = await probeMedia(path).catch((caught: unknown) => caught);
      expect([name, (probed as MediaError).code]).toEqual([name, 'not_a_video']);
      const read: unknown = await collect(path, { width: 64, height: 36 }).catch((e: unknown) => e);
      expect([name, read]).toEqual([name, expect.any(MediaError)]);
    }
    expect((await probeMedia(segment)).width).toBe(64);
  });

  it('reports whether there is an audio stream', async () => {
    expect((await probeMedia(clip)).audio_tracks).toEqual([]);
    expect(await probeMedia(toned)).toMatchObject({
      audio_tracks: [{ language: 'und', title: null }],
      has_video: true,
    });
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

describe('encodeAudioTracks', () => {
  it('writes nothing for a video without audio', async () => {
    const track = join(dir, 'silent.m4a');
    await expect(encodeAudioTracks(clip, [track])).resolves.toBe(0);
    expect(existsSync(track)).toBe(false);
  });

  it("puts the audio on readFrames's timeline, trimmed or padded to the video", async () => {
    // Frame 0 is the first video frame (0.4 s into the file): the audio before it is dropped,
    // the tone at 1 s comes 0.6 s after frame 0, and the track ends with the video.
    expect(span(probeStreams(lateVideo), 'video')).toEqual({ start: 0.4, end: 4.4 });
    expect(span(probeStreams(lateVideo), 'audio')).toEqual({ start: 0, end: 5 });
    const late = join(dir, 'late-video.m4a');
    await expect(encodeAudioTracks(lateVideo, [late])).resolves.toBe(1);
    expect(await collect(lateVideo, { grayOnly: true })).toHaveLength(100);
    const [stream] = probeStreams(late);
    expect(stream).toMatchObject({
      codec_type: 'audio',
      codec_name: 'aac',
      sample_rate: '48000',
      channels: 2,
    });
    expect(span([stream], 'audio').start).toBeCloseTo(0, 3);
    expect(Math.abs(span([stream], 'audio').end - 4)).toBeLessThan(0.025);
    expect(Math.abs(toneOnset(late) - 0.6)).toBeLessThan(0.025);

    // Matroska has no stream durations in its header: the video's end is read from its packets.
    const matroska = join(dir, 'late-video.mkv');
    ffmpeg('-i', lateVideo, '-map', '0', '-c', 'copy', matroska);
    const fromMatroska = join(dir, 'late-video-mkv.m4a');
    await expect(encodeAudioTracks(matroska, [fromMatroska])).resolves.toBe(1);
    expect(Math.abs(span(probeStreams(fromMatroska), 'audio').end - 4)).toBeLessThan(0.025);
    expect(Math.abs(toneOnset(fromMatroska) - 0.6)).toBeLessThan(0.025);

    // A later audio start is padded with silence; audio past the video's end is dropped.
    expect(span(probeStreams(lateAudio), 'video')).toEqual({ start: 0, end: 4 });
    // (0.6 s less the AAC encoder's priming samples)
    expect(Math.abs(span(probeStreams(lateAudio), 'audio').start - 0.6)).toBeLessThan(0.03);
    const padded = join(dir, 'late-audio.m4a');
    await expect(encodeAudioTracks(lateAudio, [padded])).resolves.toBe(1);
    expect(await collect(lateAudio, { grayOnly: true })).toHaveLength(100);
    expect(Math.abs(span(probeStreams(padded), 'audio').end - 4)).toBeLessThan(0.025);
    expect(Math.abs(toneOnset(padded) - 0.6)).toBeLessThan(0.025);
  });

  it('kills ffmpeg on abort and rejects with the reason', async () => {
    // Ten minutes of PCM: the encode runs long enough to be caught running.
    const long = join(dir, 'long.mkv');
    ffmpeg(
      ...['-f', 'lavfi', '-i', 'color=size=16x16:rate=1:duration=600'],
      ...['-f', 'lavfi', '-i', 'sine=sample_rate=8000:duration=600'],
      ...['-c:v', 'libx264', '-c:a', 'pcm_s16le', long],
    );
    const controller = new AbortController();
    const run = encodeAudioTracks(long, [join(dir, 'aborted.m4a')], controller.signal);
    const encoding = () => ffmpegProcessesInDir().some((line) => line.includes('aborted.m4a'));
    for (let i = 0; i < 200 && !encoding(); i++) await new Promise((done) => setTimeout(done, 5));
    expect(encoding()).toBe(true);
    controller.abort(new Error('stop now'));
    await expect(run).rejects.toThrow('stop now');
    expect(ffmpegProcessesInDir()).toEqual([]);
  });
});

describe('crfForHeight', () => {
  it('keeps CRF 16 from 720p up and gets 3.5 finer per halving below, in half steps', () => {
    expect([2160, 1080, 720, 540, 480, 360, 240, 180].map(crfForHeight)).toEqual([
      16, 16, 16, 14.5, 14, 12.5, 10.5, 9,
    ]);
  });
});

describe('FrameEncoder and remuxToMp4', () => {
  it('cuts one closed GOP per segment, so segments of two encodes mix without re-encoding', async () => {
    const dark = await encode('dark', 40, 60);
    const bright = await encode('bright', 200, 60);
    expect(dark.map((segment) => segment.duration_s)).toEqual([1, 1, 0.4]);
    expect(bright).toHaveLength(3);
    // x264 writes its settings into the stream: the rendition's CRF was used.
    expect(readFileSync(dark[0].path, 'latin1')).toContain(' crf=9.0 ');

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

  it('copies one audio track into every encode: identical per segment, in sync after a mix', async () => {
    const track = join(dir, 'toned.m4a');
    await encodeAudioTracks(toned, [track]);
    const dark = await encode('dark-audio', 40, 100, track);
    const bright = await encode('bright-audio', 200, 100, track);
    expect(dark.map((segment) => segment.duration_s)).toEqual([1, 1, 1, 1]);
    expect(bright).toHaveLength(4);
    for (const [i, segment] of dark.entries()) {
      expect(
        probeStreams(segment.path)
          .map((stream) => stream.codec_type)
          .sort(),
      ).toEqual(['audio', 'video']);
      const packets = audioPackets(segment.path);
      expect(packets.length).toBeGreaterThan(40); // 1 s of 48 kHz AAC: ~47 packets
      expect(audioPackets(bright[i].path)).toEqual(packets);
    }

    const mixed = join(dir, 'mixed-audio.mp4');
    const paths = [dark[0].path, bright[1].path, dark[2].path, bright[3].path];
    writeFileSync(mixed, await buffer(remuxToMp4(paths).stream));
    const streams = probeStreams(mixed);
    expect(streams.map((stream) => stream.codec_name).sort()).toEqual(['aac', 'h264']);
    const video = span(streams, 'video');
    const audio = span(streams, 'audio');
    expect(video.end - video.start).toBeCloseTo(4, 6);
    expect(Math.abs(audio.end - audio.start - (video.end - video.start))).toBeLessThan(0.1);
    expect(Math.abs(audio.end - video.end)).toBeLessThan(0.025);
    expect(await collect(mixed, { grayOnly: true })).toHaveLength(100);
  });

  it('carries further audio tracks: one picked by position, cut into HLS, added to a remux', async () => {
    // Track 0 (eng) sounds from the start, track 1 (fra) from 1 s: the onset tells them apart.
    const bilingual = join(dir, 'bilingual.mkv');
    ffmpeg(
      ...['-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=25:duration=4`],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4'],
      ...['-f', 'lavfi', '-i', 'aevalsrc=if(gte(t\\,1)\\,sin(2*PI*880*t)\\,0):s=44100:d=4'],
      ...['-map', '0:v', '-map', '1:a', '-map', '2:a', '-c:v', 'libx264', '-c:a', 'aac'],
      ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra'],
      ...['-metadata:s:a:1', 'title=Français', bilingual],
    );
    expect((await probeMedia(bilingual)).audio_tracks).toEqual([
      { language: 'eng', title: null },
      { language: 'fra', title: 'Français' },
    ]);
    // One pass writes a track per stream; a path beyond the streams is not written.
    const english = join(dir, 'english.m4a');
    const french = join(dir, 'french.m4a');
    const none = join(dir, 'none.m4a');
    await expect(encodeAudioTracks(bilingual, [english, french, none])).resolves.toBe(2);
    expect(existsSync(none)).toBe(false);
    expect(toneOnset(french)).toBeCloseTo(1, 1);
    expect(probeStreams(english)[0].tags?.language).toBe('eng');
    expect(probeStreams(french)[0].tags?.language).toBe('fra');

    const segments = await segmentAudioTrack(french, join(dir, 'french-hls'), 1);
    // Cut at the first AAC frame (21 ms) from each second on: the track's 4 s, plus a last
    // sliver of encoder padding.
    const total = segments.reduce((sum, segment) => sum + segment.duration_s, 0);
    expect(total).toBeGreaterThan(4);
    expect(total).toBeLessThan(4.05);
    for (const segment of segments.slice(0, 4)) {
      expect(Math.abs(segment.duration_s - 1)).toBeLessThan(0.022);
    }
    for (const segment of segments) {
      // A silent second is a few TS packets, too few for format probing: name the format.
      const log = spawnSync(
        FFMPEG_PATH,
        ['-hide_banner', '-f', 'mpegts', '-i', segment.path, '-f', 'null', '-'],
        { encoding: 'utf8', env: FFMPEG_ENV },
      ).stderr;
      expect(log).toMatch(/Stream #0:0.*\(fra\): Audio: aac/);
      expect(log).not.toMatch(/Video:/);
    }

    const video = await encode('bilingual-video', 40, 100, english);
    const mp4 = join(dir, 'bilingual-copy.mp4');
    const remux = remuxToMp4(
      video.map((segment) => segment.path),
      [french],
    );
    writeFileSync(mp4, await buffer(remux.stream));
    const streams = probeStreams(mp4);
    expect(streams.map((stream) => [stream.codec_name, stream.tags?.language])).toEqual([
      ['h264', 'und'],
      ['aac', 'eng'],
      ['aac', 'fra'],
    ]);
    // Both languages on one timeline: same start, same length (within an AAC frame or two).
    expect(streams[2].start_time).toBe(streams[1].start_time);
    expect(Math.abs(Number(streams[2].duration) - Number(streams[1].duration))).toBeLessThan(0.05);
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
