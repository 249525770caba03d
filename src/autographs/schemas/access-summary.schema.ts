import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * One viewer's access to an autograph (same ip and user agent) as seen by one server process:
 * updated in place by that process only (see AccessRecorder), so no two writers ever race on a
 * document. Access stats merge the summaries of the same viewer.
 */
@Schema({ collection: 'access_summaries', autoCreate: false, versionKey: false })
export class AccessSummary {
  /** `<autograph id>.<slot>`: see AccessSummaryStore. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Types.ObjectId, required: true })
  autograph!: Types.ObjectId;

  @Prop({ required: true })
  ip_address!: string;

  /** Looked up at the first request, so later database updates do not rewrite history. */
  @Prop({ required: true })
  ip_country!: string;

  @Prop({ required: true })
  ip_type!: string;

  @Prop({ required: true })
  user_agent!: string;

  @Prop({ required: true })
  accept_language!: string;

  @Prop({ type: Date, required: true })
  first_accessed_at!: Date;

  @Prop({ type: Date, required: true })
  last_accessed_at!: Date;

  /** Bit i (byte i >> 3, bit i & 7) set = segment i was obtained, in any rendition. */
  @Prop({ type: Buffer, required: true })
  segments!: Buffer;

  @Prop({ required: true })
  highest_height!: number;

  /** Whether the viewer downloaded the MP4 (rather than only streaming). */
  @Prop({ required: true })
  downloaded!: boolean;

  @Prop({ required: true })
  requests!: number;
}

export const AccessSummarySchema = SchemaFactory.createForClass(AccessSummary);
