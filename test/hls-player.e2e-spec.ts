import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  embedJob,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { HLS_JS, launchChromium, playToEnd } from './support/hls-player.js';
import { makeClip, makeMultilingualClip } from './support/media.js';

const SEGMENTS = 6;

describe('a personal copy plays in hls.js (headless Chromium)', () => {
  let t: TestApp;
  let browser: Browser;
  let token: string;
  let jobId: string;
  let pipelineId: string;
  let multilingualJob: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'movie.mp4'), SEGMENTS, '320x180', 'motion');
    jobId = await embedJob(t, token, pipelineId, 'movie.mp4', [180, 144]);
    await makeMultilingualClip(join(t.storageRoot, 'in', 'multilingual.mkv'), SEGMENTS);
    multilingualJob = await embedJob(t, token, pipelineId, 'multilingual.mkv', [180]);
    // A real socket: the browser is another process.
    await t.app.listen(0, '127.0.0.1');
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** The playback URL on the listening socket (the page is about:blank, origin "null"). */
  const localUrl = (url: string): string => {
    const { port } = (t.app.getHttpServer() as { address(): AddressInfo }).address();
    return new URL(new URL(url).pathname, `http://127.0.0.1:${port}`).href;
  };

  it('plays every segment of both renditions from another origin and records the viewer', async () => {
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autograph: { tag: 'browser' } });
    const { id, playback } = made.body.autograph as { id: string; playback: { hls_url: string } };
    // The page is about:blank (origin "null"): every request to the API is cross-origin.
    const hlsUrl = localUrl(playback.hls_url);

    const page = await browser.newPage();
    await page.addScriptTag({ path: HLS_JS });
    const report = await page.evaluate(playToEnd, { url: hlsUrl });
    await page.close();

    expect([...report.levels].sort()).toEqual([144, 180]);
    expect(report.currentTime).toBeGreaterThan(SEGMENTS - 0.5);
    expect(report.framesDecoded).toBeGreaterThan(0);
    const playbackPrefix = hlsUrl.replace(/master\.m3u8$/, '');
    expect(report.fragments.length).toBeGreaterThanOrEqual(SEGMENTS);
    for (const fragment of report.fragments) expect(fragment.startsWith(playbackPrefix)).toBe(true);

    const autograph = (await request(t.http).get(`/v1/autographs/${id}`).set(auth())).body
      .autograph;
    expect(autograph.access_stats).toHaveLength(1);
    expect(autograph.access_stats[0]).toMatchObject({
      ip_address: '127.0.0.1',
      ip_type: 'RSV',
      user_agent: expect.stringContaining('HeadlessChrome'),
      percentage_obtained: '100%',
      streaming_only: 'yes',
    });
    expect(['144p', '180p']).toContain(autograph.access_stats[0].highest_resolution);
  });

  it('lets the viewer switch to another language', async () => {
    const made = await request(t.http)
      .post(`/v1/jobs/${multilingualJob}/autographs`)
      .set(auth())
      .send({ autograph: { tag: 'polyglot' } });
    const hlsUrl = localUrl(made.body.autograph.playback.hls_url as string);

    const page = await browser.newPage();
    await page.addScriptTag({ path: HLS_JS });
    const report = await page.evaluate(playToEnd, { url: hlsUrl, audioTrack: 1 });
    await page.close();

    expect(report.audioTracks).toEqual(['English', 'Français', 'und']);
    expect(report.currentTime).toBeGreaterThan(SEGMENTS - 0.5);
    // The French track came from its own playlist; the video from the personal segments.
    const prefix = hlsUrl.replace(/master\.m3u8$/, '');
    const french = report.fragments.filter((url) => url.startsWith(`${prefix}audio/1/`));
    expect(french.length).toBeGreaterThanOrEqual(SEGMENTS);
    expect(report.fragments.some((url) => url.startsWith(`${prefix}180p/`))).toBe(true);
  });

  it('plays the MP4 download to its end in a <video> element, with its languages', async () => {
    const made = await request(t.http)
      .post(`/v1/jobs/${multilingualJob}/autographs`)
      .set(auth())
      .send({ autograph: { tag: 'downloader' } });
    const url = localUrl(made.body.autograph.playback.download_url as string);

    const page = await browser.newPage();
    const report = await page.evaluate(playFileToEnd, url);
    await page.close();

    expect(report.duration).toBeCloseTo(SEGMENTS, 0);
    expect(report.currentTime).toBeCloseTo(report.duration, 1);
    expect(report.framesDecoded).toBeGreaterThan(0);
    expect(report.error).toBeNull();
  });
});

/**
 * Runs in the page: a plain <video> plays `url` (a file, read with Range requests as Chromium
 * does) at 4x speed to its end.
 */
function playFileToEnd(
  url: string,
): Promise<{ duration: number; currentTime: number; framesDecoded: number; error: string | null }> {
  return new Promise((resolve, reject) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const report = () => ({
      duration: video.duration,
      currentTime: video.currentTime,
      framesDecoded: video.getVideoPlaybackQuality().totalVideoFrames,
      error: video.error ? `${video.error.code} ${video.error.message}` : null,
    });
    video.addEventListener('error', () => reject(new Error(JSON.stringify(report()))));
    video.addEventListener('ended', () => resolve(report()));
    setTimeout(() => reject(new Error(`stalled: ${JSON.stringify(report())}`)), 30_000);
    video.playbackRate = 4;
    video.src = url;
    video.play().catch(reject);
  });
}
