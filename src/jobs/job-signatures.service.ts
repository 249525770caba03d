import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { mongo, Model, Types } from 'mongoose';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { JobSignatureRecord } from './schemas/job-signature.schema.js';

/**
 * Succeeded jobs' signatures (the engine's job-signature.ts), by job id: what finding the job
 * of a copy ranks every job by. Stored when a job's run publishes its reference, or computed
 * from the reference the first time it is needed (jobs embedded before signatures were kept).
 */
@Injectable()
export class JobSignaturesService {
  constructor(
    @InjectModel(JobSignatureRecord.name) private readonly signatures: Model<JobSignatureRecord>,
    private readonly engine: WatermarkEngine,
  ) {}

  /** Keeps a job's signature; a later run of the job (a new reference) replaces it. */
  async save(job: Types.ObjectId, signature: Buffer): Promise<void> {
    try {
      await this.signatures
        .updateOne({ _id: job }, { $set: { signature } }, { upsert: true })
        .exec();
    } catch (error) {
      // Two backtraces computed an older job's signature at once: the other stored the same bytes.
      if ((error as { code?: number }).code !== 11000) throw error;
    }
  }

  /** The stored signature, or null. */
  async stored(job: Types.ObjectId): Promise<Uint8Array | null> {
    const record = await this.signatures.findById(job).lean<{ signature: mongo.Binary }>().exec();
    return record?.signature.buffer ?? null;
  }

  /** The stored signature, or else computed from the job's reference and stored. */
  async signatureOf(job: Types.ObjectId, referencePath: string): Promise<Uint8Array> {
    const stored = await this.stored(job);
    if (stored) return stored;
    const signature = await this.engine.jobSignature(referencePath);
    await this.save(job, signature);
    return signature;
  }
}
