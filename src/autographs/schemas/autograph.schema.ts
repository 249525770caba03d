import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';

/** One viewer's identity within a job: its codeword is derived from the server secret and the id. */
@Schema(schemaOptions('autographs'))
export class Autograph {
  @Prop({ type: Types.ObjectId, required: true })
  job!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, required: true })
  user!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, default: null })
  application!: Types.ObjectId | null;

  /** The owner's label, unique within the job. */
  @Prop({ required: true })
  tag!: string;

  /**
   * SHA-256 of the capability in the viewer's playback URLs (players cannot send bearer
   * tokens). The token itself is derived from the server secret and the id, never stored; a
   * request finds the autograph by the id the token starts with, then compares this hash.
   */
  @Prop({ required: true })
  playback_token_hash!: string;

  @Prop({ type: Date, default: null })
  revoked_at!: Date | null;
}

export const AutographSchema = SchemaFactory.createForClass(Autograph);

/**
 * The autograph id a playback token starts with (see WatermarkKeysService.playbackToken), or
 * null when it is malformed.
 */
export function autographIdOfToken(token: string): Types.ObjectId | null {
  return /^[0-9a-f]{24}[\w-]{43}$/.test(token) ? new Types.ObjectId(token.slice(0, 24)) : null;
}

AutographSchema.index({ job: 1, tag: 1 }, { unique: true });
