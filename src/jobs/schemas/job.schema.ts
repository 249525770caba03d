import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';
import { WorkState } from '../../common/work-state.js';

/** An embedding job: one original video to prepare for A/B watermarked delivery. */
@Schema(schemaOptions('jobs'))
export class Job extends WorkState {
  @Prop({ type: Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, default: null })
  application!: Types.ObjectId | null;

  @Prop({ type: Types.ObjectId, required: true })
  pipeline!: Types.ObjectId;

  @Prop({ type: { input_name: { type: String, required: true } }, _id: false, required: true })
  input!: { input_name: string };

  /** The registered original. */
  @Prop({ type: Types.ObjectId, default: null })
  file!: Types.ObjectId | null;
}

export const JobSchema = SchemaFactory.createForClass(Job);
