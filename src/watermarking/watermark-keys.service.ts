import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { createHmac } from 'node:crypto';
import { Environment } from '../config/environment.js';
import { generateCodeword, tardosBiases } from '../watermark/index.js';
import { persistedSecret } from './autograph-secret.js';

const BIAS_CACHE_SIZE = 256;

/**
 * The server secret (AUTOGRAPH_SECRET, or one generated once and kept in the database and in
 * DATA_DIR, see persistedSecret) and the keys derived from it. Of what is derived here only
 * playback tokens are ever shown in API output.
 */
@Injectable()
export class WatermarkKeysService implements OnModuleInit {
  private readonly logger = new Logger(WatermarkKeysService.name);
  private secret?: Buffer;
  private readonly biasCache = new Map<string, Float64Array>();

  constructor(
    private readonly environment: Environment,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.environment.AUTOGRAPH_SECRET) {
      this.secret = Buffer.from(this.environment.AUTOGRAPH_SECRET, 'utf8');
      return;
    }
    this.secret = await persistedSecret(
      this.connection.collection<{ _id: string; value: string }>('settings'),
      this.environment.DATA_DIR,
    );
    this.logger.log(
      `Using the autograph secret kept in the database and in ${this.environment.DATA_DIR} (AUTOGRAPH_SECRET is unset).`,
    );
  }

  /** The key of one job's watermark patterns and Tardos biases. */
  jobKey(jobId: string): Buffer {
    return this.derive(`job:${jobId}`);
  }

  /** The Tardos biases of a job with `segmentCount` segments (cached: every request needs them). */
  biases(jobId: string, segmentCount: number): Float64Array {
    const key = `${jobId}:${segmentCount}`;
    let biases = this.biasCache.get(key);
    if (!biases) {
      biases = tardosBiases(this.jobKey(jobId), segmentCount);
      if (this.biasCache.size >= BIAS_CACHE_SIZE) this.biasCache.clear();
      this.biasCache.set(key, biases);
    }
    return biases;
  }

  /** The packed codeword of an autograph: bit i picks variant A (1) or B (0) of segment i. */
  codeword(jobId: string, autographId: string, segmentCount: number): Uint32Array {
    return generateCodeword(
      this.derive('codewords'),
      autographId,
      this.biases(jobId, segmentCount),
    );
  }

  /**
   * The capability in an autograph's playback URLs: the autograph's id (so a request finds it by
   * `_id`, the one look-up every compatible server indexes) followed by 256 bits no one can
   * guess without the secret. Recomputed when shown, so the database keeps only its hash.
   */
  playbackToken(autographId: string): string {
    const mac = createHmac('sha256', this.derive('playback')).update(autographId);
    return autographId + mac.digest('base64url');
  }

  /**
   * The key that MACs the edge tokens of one owner's jobs (COSE HMAC 256/256): every edge
   * serving that owner's jobs holds it, and no other owner's edge can mint their tokens.
   */
  edgeTokenKey(userId: string): Buffer {
    return this.derive(`edge-token:${userId}`);
  }

  private derive(label: string): Buffer {
    if (!this.secret) throw new Error('WatermarkKeysService used before initialisation');
    return createHmac('sha256', this.secret).update(label).digest();
  }
}
