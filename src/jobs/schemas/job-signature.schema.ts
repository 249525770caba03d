import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * A succeeded job's signature (the engine's job-signature.ts), kept when its run publishes
 * the detection reference (or computed from it the first time a backtrace without job_id
 * needs it, for older jobs), then read by `_id`: finding the job of a copy reads a few bytes
 * per second of each original instead of its reference. A job's reference never changes once
 * it has succeeded, so the signature never goes stale.
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
