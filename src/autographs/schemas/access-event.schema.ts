import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * One request for an autograph's media, appended and never rewritten: heavy playback adds
 * documents instead of growing one array. Access stats are aggregated from these on read.
 */
@Schema({ collection: 'access_events', autoCreate: false, versionKey: false })
export class AccessEvent {
  @Prop({ type: Types.ObjectId, required: true, index: true })
  autograph!: Types.ObjectId;

  @Prop({ required: true })
  ip_address!: string;

  /** Looked up when the request came in, so later database updates do not rewrite history. */
  @Prop({ required: true })
  ip_country!: string;

  @Prop({ required: true })
  ip_type!: string;

  @Prop({ required: true })
  user_agent!: string;

  @Prop({ required: true })
  accept_language!: string;

  /** Segment indexes obtained by this request. */
  @Prop({ type: [Number], required: true })
  segments!: number[];

  @Prop({ required: true })
  height!: number;

  @Prop({ required: true })
  download!: boolean;

  @Prop({ type: Date, required: true })
  at!: Date;
}

export const AccessEventSchema = SchemaFactory.createForClass(AccessEvent);
