import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Environment } from '../config/environment.js';
import type { Stored } from '../common/paging.js';
import { type Job, segmentCountOf } from '../jobs/schemas/job.schema.js';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { WatermarkKeysService } from '../watermarking/watermark-keys.service.js';
import { createEdgeToken, patternOf } from './edge-token.js';

/** How a viewer's player reaches the edge (`playback.edge` of an autograph). */
export interface EdgePlayback {
  /** The job's master playlist at the edge: the same URL and bytes for every viewer. */
  manifest_url: string;
  /** The same with the token as a path segment, for players that cannot add headers. */
  tokenized_url: string;
  token: string;
  token_id: string;
  /** Epoch milliseconds. */
  expires_at: number;
  /** The request header that may carry the token instead. */
  header: string;
  /** The cookie that may carry the token instead. */
  cookie: string;
}

/** Request header and cookie an edge reads the token from (besides the path). */
export const EDGE_TOKEN_HEADER = 'CTA-Common-Access-Token';
export const EDGE_TOKEN_COOKIE = 'wmt';

/** Issues ETSI TS 104 002 edge tokens (direct mode: the autograph's A/B pattern inside). */
@Injectable()
export class EdgeTokensService {
  constructor(
    private readonly environment: Environment,
    private readonly keys: WatermarkKeysService,
    private readonly engine: WatermarkEngine,
  ) {}

  /** The key id an edge finds the token key under: the id of the jobs' owner. */
  keyOf(userId: string): { kid: string; key: Buffer } {
    return { kid: userId, key: this.keys.edgeTokenKey(userId) };
  }

  /** A fresh token for an autograph of a finished job; null while the job is not ready. */
  async issue(autographId: string, job: Stored<Job>): Promise<EdgePlayback | null> {
    const segmentCount = segmentCountOf(job);
    if (job.status !== 'SUCCESS' || segmentCount === 0) return null;
    const jobId = job._id.toString();
    const codeword = this.keys.codeword(jobId, autographId, segmentCount);
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + this.environment.EDGE_TOKEN_TTL_SECONDS;
    const tokenId = randomBytes(16).toString('hex');
    const { kid, key } = this.keyOf(job.user.toString());
    const token = await createEdgeToken(
      {
        tokenId,
        autographId,
        jobId,
        issuedAt: now,
        expiresAt,
        pattern: patternOf((position) => this.engine.variantOf(codeword, position), segmentCount),
        patternLength: segmentCount,
        segmentDurationMs: job.segment_duration * 1000,
      },
      key,
      kid,
    );
    const base = `${this.environment.EDGE_URL.replace(/\/+$/, '')}/${jobId}`;
    return {
      manifest_url: `${base}/master.m3u8`,
      tokenized_url: `${base}/~${token}/master.m3u8`,
      token,
      token_id: tokenId,
      expires_at: expiresAt * 1000,
      header: EDGE_TOKEN_HEADER,
      cookie: EDGE_TOKEN_COOKIE,
    };
  }
}
