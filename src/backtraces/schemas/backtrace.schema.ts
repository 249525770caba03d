import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';
import { WorkState } from '../../common/work-state.js';

/** How one viewer obtained an autograph's copy (the seed's `access_stats`). */
export interface AccessStat {
  ip_address: string;
  ip_country: string;
  ip_type: string;
  user_agent: string;
  accept_language: string;
  first_accessed_at: number;
  percentage_obtained: string;
  highest_resolution: string;
  streaming_only: 'yes' | 'no';
}

/** One accused autograph. */
export interface ExtractedData {
  autograph_tag: string;
  access_stats: AccessStat[];
}

/** A suspect copy to trace back to the autograph(s) it was made from. */
@Schema(schemaOptions('backtraces'))
export class Backtrace extends WorkState {
  @Prop({ type: Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, default: null })
  application!: Types.ObjectId | null;

  /** The job of the original the copy belongs to. */
  @Prop({ type: Types.ObjectId, required: true, index: true })
  job!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, required: true })
  pipeline!: Types.ObjectId;

  @Prop({ type: { input_name: { type: String, required: true } }, _id: false, required: true })
  input!: { input_name: string };

  /** The suspect copy, registered when extraction reads it. */
  @Prop({ type: Types.ObjectId, default: null })
  file!: Types.ObjectId | null;

  @Prop({ type: [Object], default: [] })
  extracted_data!: ExtractedData[];
}

export const BacktraceSchema = SchemaFactory.createForClass(Backtrace);
