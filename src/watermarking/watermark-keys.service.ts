import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { createHmac, randomBytes } from 'node:crypto';
import { Environment } from '../config/environment.js';
import { generateCodeword, tardosBiases } from '../watermark/index.js';

const SETTING_ID = 'autograph_secret';
const BIAS_CACHE_SIZE = 256;

/**
 * The server secret (AUTOGRAPH_SECRET, or one generated once and kept in the database so all
 * instances agree) and the keys derived from it. Nothing derived here is ever shown in API output.
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
    const settings = this.connection.collection<{ _id: string; value: string }>('settings');
    const stored = await settings.findOneAndUpdate(
      { _id: SETTING_ID },
      { $setOnInsert: { value: randomBytes(32).toString('base64') } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!stored) throw new Error('could not read or create the autograph secret');
    this.secret = Buffer.from(stored.value, 'base64');
    this.logger.log('Using the autograph secret kept in the database (AUTOGRAPH_SECRET is unset).');
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
   * The capability in an autograph's playback URLs: 256 bits no one can guess without the
   * secret, recomputed when shown, so the database keeps only its hash.
   */
  playbackToken(autographId: string): string {
    return createHmac('sha256', this.derive('playback')).update(autographId).digest('base64url');
  }

  private derive(label: string): Buffer {
    if (!this.secret) throw new Error('WatermarkKeysService used before initialisation');
    return createHmac('sha256', this.secret).update(label).digest();
  }
}
