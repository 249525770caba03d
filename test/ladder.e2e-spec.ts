import { join } from 'node:path';
import request from 'supertest';
import { JobsWorker } from '../src/jobs/jobs.worker.js';
import { budgetedStrength } from '../src/watermark/mark-budget.js';
import { x264Options } from '../src/watermark/media.testing.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createPipeline,
  passwordToken,
  startApp,
  type TestApp,
} from './support/app.js';
import { makeClip } from './support/media.js';

const SECONDS = 4;

/** x264's options in the first segment of a variant of a job's rendition. */
function x264Settings(outputDir: string, rendition: string, variant: 'a' | 'b'): string {
  return x264Options(join(outputDir, rendition, variant, 'segment_00000.ts'));
}

describe('jobs at a bitrate ladder: per-rendition encoder settings', () => {
  let t: TestApp;
  let token: string;
  let pipelineId: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const post = (outputs: unknown) =>
    request(t.http)
      .post('/v1/jobs')
      .set(auth())
      .send({
        job: {
          pipeline: { id: pipelineId },
          input: { input_name: 'full-hd.mp4' },
          autograph: { segment_duration: 1 },
          outputs,
        },
      });

  beforeAll(async () => {
    t = await startApp();
    token = await passwordToken(t.http, ADMIN_EMAIL, ADMIN_PASSWORD);
    pipelineId = await createPipeline(t, token);
    await makeClip(join(t.storageRoot, 'in', 'full-hd.mp4'), SECONDS, '1920x1080');
  }, 600_000);
  afterAll(() => t.close());

  it.each([
    [[{ height: 720, crf: 9 }], 'INVALID_BODY', 'job.outputs.0.crf must not be less than 10'],
    [[{ height: 720, crf: 41 }], 'INVALID_BODY', 'job.outputs.0.crf must not be greater than 40'],
    [
      [{ height: 720, video_bitrate: 20 }],
      'INVALID_BODY',
      'job.outputs.0.video_bitrate must not be less than 64',
    ],
    [
      [{ height: 720, max_bitrate: 200_000 }],
      'INVALID_BODY',
      'job.outputs.0.max_bitrate must not be greater than 100000',
    ],
    [
      [{ height: 720, video_bitrate: 2500.5 }],
      'INVALID_BODY',
      'job.outputs.0.video_bitrate must be an integer number',
    ],
    [
      [{ height: 360 }, { height: 720 }, { height: 360, crf: 20 }],
      'OUTPUT_DUPLICATE',
      'job.outputs asks for 360p more than once',
    ],
    [
      [{ height: 720, video_bitrate: 3000, crf: 20 }],
      'OUTPUT_SETTINGS_CONFLICT',
      'job.outputs.0 gives both video_bitrate and crf',
    ],
    [
      [{ height: 720 }, { height: 540, video_bitrate: 2000, max_bitrate: 1500 }],
      'OUTPUT_BITRATE',
      'job.outputs.1.max_bitrate (1500 kbit/s) is below its average video_bitrate (2000 kbit/s)',
    ],
    [
      [{ height: 1080 }, { height: 2160 }],
      'OUTPUT_UPSCALE',
      'job.outputs asks for 2160p but the source is 1080p',
    ],
  ])('refuses outputs %j with 400 %s and creates nothing', async (outputs, code, message) => {
    const response = await post(outputs);
    expect(response.status).toBe(400);
    expect(response.body.error.error_code).toBe(code);
    expect(response.body.error.error_msg).toContain(message);
    const [jobs, files] = await Promise.all([
      request(t.http).get('/v1/jobs').set(auth()),
      request(t.http).get('/v1/files').set(auth()),
    ]);
    expect([jobs.body.total, files.body.total]).toEqual([0, 0]);
  });

  it('encodes a 1080p source at the default ladder and at the settings asked, A and B alike', async () => {
    const created = await post([
      { height: 360, video_bitrate: 500 },
      { height: 1080 },
      { height: 540, crf: 23, max_bitrate: 1800 },
    ]);
    expect(created.status).toBe(201);
    // Highest first, each with every setting resolved: the ladder's where none was given
    // (nulls are left out without show_null).
    expect(created.body.job.outputs).toEqual([
      { height: 1080, video_bitrate: 7800, max_bitrate: 11700 },
      { height: 540, max_bitrate: 1800, crf: 23 },
      { height: 360, video_bitrate: 500, max_bitrate: 750 },
    ]);
    const id = created.body.job.id as string;
    expect(await t.app.get(JobsWorker).processNext()).toBe(true);

    const job = (await request(t.http).get(`/v1/jobs/${id}`).set(auth())).body.job;
    expect(job.status).toBe('SUCCESS');
    expect(job.outputs.map((o: { width: number }) => o.width)).toEqual([1920, 960, 640]);
    for (const output of job.outputs) {
      expect(output.average_bitrate).toBeGreaterThan(0);
      expect(output.peak_bitrate).toBeGreaterThanOrEqual(output.average_bitrate);
    }
    const [full, , small] = job.outputs;
    // Capped VBR lands near its average (within the MPEG-TS overhead and a short clip's slack).
    expect(small.average_bitrate).toBeGreaterThan(0.6 * 500);
    expect(small.average_bitrate).toBeLessThan(1.4 * 750);
    expect(full.average_bitrate).toBeLessThan(1.4 * 11700);
    // Each rendition's mark follows its own encoder error, measured by the pilot encode: the
    // 1080p rung encodes the clip far better than 360p at 500 kbit/s, so it gets a lighter mark.
    for (const output of job.outputs) {
      expect(output.encoder_psnr_y).toBeGreaterThan(25);
      expect(output.encoder_psnr_y).toBeLessThan(70);
      expect(output.mark_strength).toBeCloseTo(budgetedStrength(output.encoder_psnr_y), 3);
    }
    expect(full.encoder_psnr_y).toBeGreaterThan(small.encoder_psnr_y + 2);
    expect(full.mark_strength).toBeLessThan(small.mark_strength);

    // x264's own record of its settings: as asked, and identical in A and B.
    const outputDir = join(t.storageRoot, 'out', 'jobs', id);
    const settings = (rendition: string) => {
      const a = x264Settings(outputDir, rendition, 'a');
      expect(x264Settings(outputDir, rendition, 'b')).toBe(a);
      return a;
    };
    expect(settings('1080p')).toMatch(
      / rc=abr .* bitrate=7800 .* vbv_maxrate=11700 vbv_bufsize=23400 /,
    );
    expect(settings('1080p')).toMatch(/ aq=1:1\.00 /);
    expect(settings('540p')).toMatch(/ rc=crf .* crf=23\.0 .* vbv_maxrate=1800 vbv_bufsize=3600 /);
    expect(settings('360p')).toMatch(/ rc=abr .* bitrate=500 .* vbv_maxrate=750 /);
  }, 900_000);
});
