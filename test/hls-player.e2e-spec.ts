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
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'movie.mp4'), SEGMENTS, '320x180', 'motion');
    jobId = await embedJob(t, token, pipelineId, 'movie.mp4', [180, 144]);
    // A real socket: the browser is another process.
    await t.app.listen(0, '127.0.0.1');
    browser = await launchChromium();
  });
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
    await makeMultilingualClip(join(t.storageRoot, 'in', 'multilingual.mkv'), SEGMENTS);
    const multilingualJob = await embedJob(t, token, pipelineId, 'multilingual.mkv', [180]);
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
  }, 120_000);
});
