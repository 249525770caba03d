import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { randomBytes } from 'node:crypto';
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

  /** The capability in the viewer's playback URLs (players cannot send bearer tokens). */
  @Prop({ required: true })
  playback_token!: string;

  @Prop({ type: Date, default: null })
  revoked_at!: Date | null;
}

export const AutographSchema = SchemaFactory.createForClass(Autograph);

/**
 * A playback token: the autograph's id (so a request finds it by `_id`, the one look-up every
 * compatible server indexes) followed by 192 random bits (what makes it unguessable).
 */
export function newPlaybackToken(id: Types.ObjectId): string {
  return id.toHexString() + randomBytes(24).toString('base64url');
}

/** The autograph id a playback token names, or null when it is malformed. */
export function autographIdOfToken(token: string): Types.ObjectId | null {
  return /^[0-9a-f]{24}[\w-]{32}$/.test(token) ? new Types.ObjectId(token.slice(0, 24)) : null;
}
AutographSchema.index({ job: 1, tag: 1 }, { unique: true });
