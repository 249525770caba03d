import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';
import { PipelineWork } from '../../common/work-state.js';
import type { AccessStat } from '../../autographs/access-stats.js';

/** One accused autograph, with the evidence against it. */
export interface ExtractedData {
  autograph_tag: string;
  access_stats: AccessStat[];
  /** Normalised Tardos likelihood-ratio score; accusation needs it above `threshold`. */
  score: number;
  threshold: number;
  /** Segments of the original timeline found in the copy. */
  segments_observed: number;
}

/** A suspect copy to trace back to the autograph(s) it was made from. */
@Schema(schemaOptions('backtraces'))
export class Backtrace extends PipelineWork {
  /** The job of the original the copy belongs to. */
  @Prop({ type: Types.ObjectId, required: true, index: true })
  job!: Types.ObjectId;

  @Prop({ type: [Object], default: [] })
  extracted_data!: ExtractedData[];
}

export const BacktraceSchema = SchemaFactory.createForClass(Backtrace);
