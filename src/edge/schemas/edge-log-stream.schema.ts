import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * How far one edge log stream has been counted: lines at a lower offset were counted before.
 * One small document per stream (not one per line), so idempotence costs nothing per request.
 */
@Schema({ collection: 'edge_log_streams', versionKey: false })
export class EdgeLogStream {
  /** `<owner id>:<stream>`. */
  @Prop({ type: String, required: true })
  _id!: string;

  /** The offset after the last counted line. */
  @Prop({ required: true })
  next_offset!: number;
}

export const EdgeLogStreamSchema = SchemaFactory.createForClass(EdgeLogStream);
