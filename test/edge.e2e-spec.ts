import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { ExtractionWorker } from '../src/extraction/extraction.worker.js';
import {
  EdgeApiClient,
  fetchEdgeConfig,
  runEdgeAgent,
  shipLog,
  syncRevocations,
} from '../src/edge/edge-agent.js';
import { writeEdgeFiles } from '../src/edge/edge-files.js';
import { createEdgeToken, readEdgeToken } from '../src/edge-tokens/edge-token.js';
import type { EdgePlayback } from '../src/edge-tokens/edge-tokens.service.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  embedJob,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { type EdgeProcess, startEdge } from './support/edge.js';
import { HLS_JS, launchChromium, playToEnd } from './support/hls-player.js';
import { makeClip } from './support/media.js';
import { freePort } from './support/server.js';

/**
 * Long enough for a backtrace (31 segments at least, 1 s each), marked at a 360p bitrate: the
 * 180p rung of the default ladder leaves too thin a margin (as in restart.e2e-spec.ts).
 */
// 60 segments: the per-backtrace bound over ~25 autographs leaves 40 too thin a margin (CI missed once).
const SECONDS = 60;
const VIEWER = { 'User-Agent': 'EdgeViewer/1.0 (e2e)', 'Accept-Language': 'de-DE' };

interface Autograph {
  id: string;
  tag: string;
  playback: { hls_url: string; edge?: EdgePlayback };
}

describe('delivery through the edge (nginx + njs, ETSI TS 104 002 A/B)', () => {
  let t: TestApp;
  let api: string;
  let edge: EdgeProcess;
  let out: string;
  let token: string;
  let jobId: string;
  let outputDir: string;
  let client: EdgeApiClient;
  let segmentUris: string[];
  const auth = () => ({ Authorization: `Bearer ${token}` });

  const newAutograph = async (tag: string): Promise<Autograph> => {
    const made = await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autograph: { tag } });
    expect(made.status).toBe(201);
    return made.body.autograph as Autograph;
  };
  /** A GET at the edge, tried again once as players do: a reload closes idle connections. */
  const edgeGet = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${edge.base}${path}`, { headers }).catch(() =>
      fetch(`${edge.base}${path}`, { headers }),
    );
  const bytesOf = async (response: Response) => Buffer.from(await response.arrayBuffer());
  /** A segment as the API's own playback serves it to this autograph. */
  const apiSegment = async (autograph: Autograph, uri: string) =>
    bytesOf(
      await fetch(
        `${api}${new URL(autograph.playback.hls_url).pathname.replace(/master\.m3u8$/, uri)}`,
        {
          headers: VIEWER,
        },
      ),
    );

  beforeAll(async () => {
    const edgePort = await freePort();
    t = await startApp({ EDGE_URL: `http://127.0.0.1:${edgePort}` });
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'film.mp4'), SECONDS, '320x180', 'motion');
    jobId = await embedJob(t, token, pipelineId, 'film.mp4', [{ height: 180, video_bitrate: 730 }]);
    const job = (await request(t.http).get(`/v1/jobs/${jobId}`).set(auth())).body.job;
    expect(job.status).toBe('SUCCESS');
    await t.app.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(t.app.getHttpServer() as { address(): AddressInfo }).address().port}`;
    // The edge's credentials: an application of the jobs' owner.
    const app = await request(t.http)
      .post('/v1/applications')
      .set(auth())
      .send({ application: { name: 'edge' } });
    client = new EdgeApiClient(
      api,
      app.body.application.client_id,
      app.body.application.client_secret,
    );
    const config = await fetchEdgeConfig(client, [jobId]);
    outputDir = config.jobs[0].output_dir;
    segmentUris = config.jobs[0].renditions[0].segments.map((s) => s.uri);
    out = mkdtempSync(join(tmpdir(), 'autograph-edge-'));
    writeEdgeFiles(config, { out, listen: `127.0.0.1:${edgePort}`, workers: '1' });
    await syncRevocations(client, out);
    edge = await startEdge(out, edgePort);
  }, 600_000);
  afterAll(async () => {
    await edge?.stop();
    await t?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('answers playback.edge with a CWT carrying the autograph’s pattern, and one manifest for all', async () => {
    const [first, second] = [await newAutograph('first'), await newAutograph('second')];
    const edgePlayback = first.playback.edge as EdgePlayback;
    expect(edgePlayback).toMatchObject({
      manifest_url: `${edge.base}/${jobId}/master.m3u8`,
      tokenized_url: `${edge.base}/${jobId}/~${edgePlayback.token}/master.m3u8`,
      header: 'CTA-Common-Access-Token',
      cookie: 'wmt',
    });
    expect(edgePlayback.expires_at).toBeGreaterThan(Date.now() + 3600_000);
    // The lists leave tokens out (a token is issued per answer about one autograph).
    const list = await request(t.http).get(`/v1/jobs/${jobId}/autographs`).set(auth());
    expect(list.body.autographs[0].playback.edge).toBeUndefined();

    const playlists = ['master.m3u8', '180p/index.m3u8'];
    for (const playlist of playlists) {
      const viaPath = await edgeGet(`/${jobId}/~${edgePlayback.token}/${playlist}`);
      const viaHeader = await edgeGet(`/${jobId}/${playlist}`, {
        'CTA-Common-Access-Token': (second.playback.edge as EdgePlayback).token,
      });
      expect([viaPath.status, viaHeader.status]).toEqual([200, 200]);
      expect(await viaPath.text()).toBe(await viaHeader.text());
    }
    const media = await (await edgeGet(`/${jobId}/~${edgePlayback.token}/180p/index.m3u8`)).text();
    expect(media).not.toMatch(/\/a\/|\/b\//);
    expect(media.match(/^[^#].*$/gm)?.map((uri) => `180p/${uri}`)).toEqual(segmentUris);
  });

  it('serves every segment in the variant the codeword selects (path, header and cookie forms)', async () => {
    const viewer = await newAutograph('bytes');
    const edgeToken = (viewer.playback.edge as EdgePlayback).token;
    const config = await fetchEdgeConfig(client, [jobId]);
    const key = Buffer.from(Object.values(config.keys)[0], 'base64');
    const { pattern } = await readEdgeToken(edgeToken, key);
    const variantsSeen = new Set<string>();
    for (const [position, uri] of segmentUris.entries()) {
      const forms = [
        edgeGet(`/${jobId}/~${edgeToken}/${uri}`, VIEWER),
        edgeGet(`/${jobId}/${uri}`, { ...VIEWER, 'CTA-Common-Access-Token': edgeToken }),
        edgeGet(`/${jobId}/${uri}`, { ...VIEWER, Cookie: `other=1; wmt=${edgeToken}` }),
      ];
      const bodies = await Promise.all(
        (await Promise.all(forms)).map(async (r) => (expect(r.status).toBe(200), bytesOf(r))),
      );
      const expected = await apiSegment(viewer, uri);
      for (const body of bodies) expect(body.equals(expected)).toBe(true);
      const variant = (pattern[position >> 3] >> (7 - (position & 7))) & 1 ? 'b' : 'a';
      const segment = config.jobs[0].renditions[0].segments[position];
      expect(expected.equals(readFileSync(join(outputDir, segment[variant])))).toBe(true);
      variantsSeen.add(variant);
    }
    expect([...variantsSeen].sort()).toEqual(['a', 'b']);
  });

  it('plays through the edge in hls.js (headless Chromium), token in the path', async () => {
    const viewer = await newAutograph('browser');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ path: HLS_JS });
      const report = await page.evaluate(playToEnd, {
        url: (viewer.playback.edge as EdgePlayback).tokenized_url,
      });
      expect(report.currentTime).toBeGreaterThan(SECONDS - 1);
      expect(report.framesDecoded).toBeGreaterThan(0);
      expect(report.fragments.length).toBeGreaterThanOrEqual(segmentUris.length);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('refuses missing, tampered, expired, other-job and revoked tokens alike, naming no variant', async () => {
    const viewer = await newAutograph('refused');
    const good = (viewer.playback.edge as EdgePlayback).token;
    const uri = segmentUris[3];
    const bytes = Buffer.from(good, 'base64url');
    bytes[bytes.length - 5] ^= 0x20;
    const tampered = bytes.toString('base64url');
    const config = await fetchEdgeConfig(client, [jobId]);
    const [kid, key] = Object.entries(config.keys)[0];
    const claims = await readEdgeToken(good, Buffer.from(key, 'base64'));
    const expired = await createEdgeToken(
      { ...claims, expiresAt: Math.floor(Date.now() / 1000) - 1 },
      Buffer.from(key, 'base64'),
      kid,
    );
    const otherJob = await createEdgeToken(
      { ...claims, jobId: '0123456789abcdef01234567' },
      Buffer.from(key, 'base64'),
      kid,
    );
    const missing = await edgeGet(`/${jobId}/${uri}`);
    expect(missing.status).toBe(401);
    const answers = [];
    for (const bad of [tampered, expired, otherJob, 'AAAA']) {
      const response = await edgeGet(`/${jobId}/~${bad}/${uri}`);
      answers.push({
        status: response.status,
        body: await response.text(),
        type: response.headers.get('content-type'),
      });
    }
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403]);
    expect(new Set(answers.map((a) => `${a.body}${a.type}`)).size).toBe(1);
    expect(answers[0].body).not.toMatch(/variant|\/a\/|\/b\/|segment/i);

    // Revocation: edge:ship's agent, refreshing every second here (30 s by default, at most 60).
    expect((await edgeGet(`/${jobId}/~${good}/${uri}`)).status).toBe(200);
    const stop = new AbortController();
    const agent = runEdgeAgent({
      client,
      out,
      shipEvery: 60_000,
      revocationEvery: 1000,
      signal: stop.signal,
      log: () => undefined,
    });
    try {
      await request(t.http).delete(`/v1/autographs/${viewer.id}`).set(auth()).expect(204);
      const revokedAt = Date.now();
      let status = 200;
      while (status !== 403 && Date.now() - revokedAt < 10_000) {
        await sleep(100);
        status = (await edgeGet(`/${jobId}/~${good}/${uri}`)).status;
      }
      expect(status).toBe(403);
      expect(Date.now() - revokedAt).toBeLessThan(1000 + 5000); // a refresh interval + the reload
    } finally {
      stop.abort();
      await agent;
    }
    expect(await syncRevocations(client, out)).toBe(false); // unchanged: no reload
  });

  it('ships its log into the same access stats as the API’s playback, a line sent twice counting once', async () => {
    const viaEdge = await newAutograph('edge-viewer');
    const viaApi = await newAutograph('api-viewer');
    await shipLog(client, out); // what earlier tests left in the log
    const edgeToken = (viaEdge.playback.edge as EdgePlayback).token;
    for (const uri of segmentUris) {
      expect((await edgeGet(`/${jobId}/~${edgeToken}/${uri}`, VIEWER)).status).toBe(200);
      expect((await apiSegment(viaApi, uri)).length).toBeGreaterThan(0);
    }
    // HEAD obtains nothing and is not counted.
    await fetch(`${edge.base}/${jobId}/~${edgeToken}/${segmentUris[0]}`, { method: 'HEAD' });
    const shipped = await shipLog(client, out);
    expect(shipped).toEqual({
      received: segmentUris.length + 1,
      counted: segmentUris.length,
      duplicates: 0,
      ignored: 1,
    });
    // The shipper crashed before saving its place: everything is sent again, nothing counted.
    writeFileSync(join(out, 'logs', 'ship-state.json'), JSON.stringify({ inode: 0, offset: 0 }));
    const again = await shipLog(client, out);
    expect(again.counted).toBe(0);
    expect(again.duplicates).toBe(again.received);

    const statsOf = async (id: string) =>
      (await request(t.http).get(`/v1/autographs/${id}`).set(auth())).body.autograph.access_stats;
    const [edgeStats, apiStats] = [await statsOf(viaEdge.id), await statsOf(viaApi.id)];
    expect(edgeStats).toHaveLength(1);
    expect(edgeStats[0]).toMatchObject({
      ip_address: '127.0.0.1',
      user_agent: VIEWER['User-Agent'],
      accept_language: 'de-DE',
      percentage_obtained: '100%',
      highest_resolution: '180p',
      streaming_only: 'yes',
    });
    const withoutTime = (stats: { first_accessed_at: number }[]) =>
      stats.map(({ first_accessed_at: _, ...rest }) => rest);
    expect(withoutTime(edgeStats)).toEqual(withoutTime(apiStats));
  });

  it('answers 4xx with a stable error_code to bad edge requests, changing nothing', async () => {
    const bad = [
      await request(t.http).get('/v1/edge/config?job_ids=nope').set(auth()),
      await request(t.http).get('/v1/edge/revocations').set(auth()),
      await request(t.http)
        .post('/v1/edge/access-logs')
        .set(auth())
        .send({ access_logs: [{ stream: 'x', offset: -1 }] }),
    ];
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400]);
    for (const response of bad) expect(response.body.error.error_code).toEqual(expect.any(String));
    const unknownJob = await request(t.http)
      .get('/v1/edge/config?job_ids=0123456789abcdef01234567')
      .set(auth());
    expect(unknownJob.status).toBe(404);
    expect((await request(t.http).get(`/v1/edge/config?job_ids=${jobId}`)).status).toBe(401);
  });

  it('traces a copy fetched through the edge back to its autograph', async () => {
    await request(t.http)
      .post(`/v1/jobs/${jobId}/autographs`)
      .set(auth())
      .send({ autographs: Array.from({ length: 20 }, (_, i) => ({ tag: `crowd-${i}` })) })
      .expect(201);
    const leaker = await newAutograph('leaker');
    const edgeToken = (leaker.playback.edge as EdgePlayback).token;
    const segments = [];
    for (const uri of segmentUris) {
      segments.push(await bytesOf(await edgeGet(`/${jobId}/~${edgeToken}/${uri}`)));
    }
    const copy = `edge-copy${segmentUris[0].slice(segmentUris[0].lastIndexOf('.'))}`;
    writeFileSync(join(t.storageRoot, 'in', copy), Buffer.concat(segments));
    const pipelineId = (await request(t.http).get(`/v1/jobs/${jobId}`).set(auth())).body.job
      .pipeline.id;
    const created = await request(t.http)
      .post(`/v1/titles/backtraces?job_id=${jobId}`)
      .set(auth())
      .send({ backtrace: { pipeline: { id: pipelineId }, input: { input_name: copy } } });
    expect(created.status).toBe(201);
    expect(await t.app.get(ExtractionWorker).processNext()).toBe(true);
    const done = (
      await request(t.http).get(`/v1/backtraces/${created.body.backtrace.id}`).set(auth())
    ).body.backtrace;
    expect(done.status).toBe('SUCCESS');
    expect(done.extracted_data.map((d: { autograph_tag: string }) => d.autograph_tag)).toEqual([
      'leaker',
    ]);
  }, 600_000);
});
