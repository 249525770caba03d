import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { parseMediaPlaylist } from '../src/watermark/hls.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  downloadTo,
  embedJob,
  getBytes,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeMultilingualClip, runFfmpeg } from './support/media.js';

const SECONDS = 6;

/**
 * ffmpeg's log of reading its input through (stream list, decode errors). Asynchronous: the
 * input may be served by this very process.
 */
async function ffmpegLog(args: string[]): Promise<string> {
  return runFfmpeg([...args, '-f', 'null', '-']);
}

describe('an original with several languages', () => {
  let t: TestApp;
  let token: string;
  let jobId: string;
  let playbackPath: string;
  let downloadUrl: string;
  let autographId: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelineId = await createPipeline(t, token);
    await makeMultilingualClip(join(t.storageRoot, 'in', 'bilingual.mkv'), SECONDS);
    jobId = await embedJob(t, token, pipelineId, 'bilingual.mkv', [180]);
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autograph: { tag: 'polyglot' } });
    autographId = made.body.autograph.id;
    playbackPath = new URL(made.body.autograph.playback.hls_url).pathname.replace(
      /master\.m3u8$/,
      '',
    );
    downloadUrl = made.body.autograph.playback.download_url;
  }, 120_000);
  afterAll(() => t?.close());

  it('lists the languages on the job', async () => {
    const job = (await request(t.http).get(`/v1/jobs/${jobId}`).set(auth())).body.job;
    expect(job.status).toBe('SUCCESS');
    expect(job.audio_tracks).toEqual([
      { language: 'eng', name: 'English' },
      { language: 'fra', name: 'Français' },
      { language: 'und', name: 'und' },
    ]);
  });

  it('offers them as an HLS audio group: the first in the video segments, the others alternate', async () => {
    const master = await request(t.http).get(`${playbackPath}master.m3u8`);
    expect(master.status).toBe(200);
    const lines = master.text.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('#EXT-X-MEDIA:'))).toEqual([
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Français",LANGUAGE="fra",DEFAULT=NO,AUTOSELECT=YES,URI="audio/1/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="und",DEFAULT=NO,AUTOSELECT=YES,URI="audio/2/index.m3u8"',
    ]);
    expect(lines.filter((line) => line.startsWith('#EXT-X-STREAM-INF:'))).toEqual([
      expect.stringMatching(
        /^#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,RESOLUTION=320x180,AUDIO="audio"$/,
      ),
    ]);

    // The French playlist covers the video's length; its segments decode as French audio.
    const playlist = await request(t.http).get(`${playbackPath}audio/1/index.m3u8`);
    expect(playlist.status).toBe(200);
    expect(playlist.headers['content-type']).toMatch(/^application\/vnd\.apple\.mpegurl/);
    const segments = parseMediaPlaylist(playlist.text);
    const total = segments.reduce((sum, segment) => sum + segment.duration_s, 0);
    expect(Math.abs(total - SECONDS)).toBeLessThan(0.1);
    const bytes: Buffer[] = [];
    for (const segment of segments) {
      const response = await getBytes(t.http, `${playbackPath}audio/1/${segment.uri}`);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('video/mp2t');
      bytes.push(response.body as Buffer);
    }
    const joined = join(t.storageRoot, 'french.ts');
    writeFileSync(joined, Buffer.concat(bytes));
    const log = await ffmpegLog(['-f', 'mpegts', '-i', joined]);
    expect(log).toMatch(/Stream #0:0\S*\(fra\): Audio: aac/);
    expect(log).not.toMatch(/: Video:|error/i);

    // Audio carries no mark: fetching it is not an access to the copy.
    const autograph = await request(t.http).get(`/v1/autographs/${autographId}`).set(auth());
    expect(autograph.body.autograph.access_stats).toEqual([]);
  });

  it('answers 404 for audio tracks and segments that do not exist', async () => {
    for (const [path, code] of [
      ['audio/0/index.m3u8', 'AUDIO_TRACK_NOT_FOUND'], // the first track is in the video
      ['audio/3/index.m3u8', 'AUDIO_TRACK_NOT_FOUND'],
      ['audio/x/index.m3u8', 'AUDIO_TRACK_NOT_FOUND'],
      ['audio/1/segment_99999.ts', 'SEGMENT_NOT_FOUND'],
      ['audio/1/..%2F..%2Fdetection-reference.bin', 'SEGMENT_NOT_FOUND'],
    ]) {
      const response = await request(t.http).get(`${playbackPath}${path}`);
      expect([path, response.status, response.body.error?.error_code]).toEqual([path, 404, code]);
    }
  });

  it('plays in ffmpeg over HTTP with every language', async () => {
    await t.app.listen(0, '127.0.0.1');
    const { port } = (t.app.getHttpServer() as { address(): AddressInfo }).address();
    const log = await ffmpegLog([
      ...['-i', `http://127.0.0.1:${port}${playbackPath}master.m3u8`],
      ...['-map', '0:v', '-map', '0:a'],
    ]);
    expect(log.match(/Stream #0:\d+.*: Audio: aac/g)).toHaveLength(3);
    expect(log).toMatch(/Stream #0:\d+.*: Video: h264/);
  });

  it('downloads as one MP4 with every language', async () => {
    const path = join(t.storageRoot, 'polyglot.mp4');
    const response = await downloadTo(t.http, downloadUrl, path, {});
    expect(response.status).toBe(200);
    const log = await ffmpegLog(['-i', path, '-map', '0']);
    const languages = [...log.matchAll(/Stream #0:\d+\((\w+)\): Audio: aac/g)].map((m) => m[1]);
    expect(languages).toEqual(['eng', 'fra', 'und']);
    expect(log).not.toMatch(/error/i);
  });
});
