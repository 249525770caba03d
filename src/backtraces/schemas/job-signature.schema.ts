import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * A succeeded job's signature (the engine's job-signature.ts), computed from its detection
 * reference the first time a backtrace without job_id needs it, then read by `_id`: finding
 * the job of a copy reads a few bytes per second of each original instead of its reference.
 * A job's reference never changes once it has succeeded, so the signature never goes stale.
 */
@Schema({ collection: 'job_signatures', autoCreate: false, versionKey: false })
export class JobSignatureRecord {
  /** The job's id. */
  @Prop({ type: Types.ObjectId, required: true })
  _id!: Types.ObjectId;

  @Prop({ type: Buffer, required: true })
  signature!: Buffer;
}

export const JobSignatureRecordSchema = SchemaFactory.createForClass(JobSignatureRecord);
