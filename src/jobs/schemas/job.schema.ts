import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { schemaOptions } from '../../common/schema-options.js';
import { PipelineWork } from '../../common/work-state.js';

/** One encoded segment of a rendition: its duration and its two variants (relative paths). */
export interface StoredSegment {
  duration: number;
  a: string;
  b: string;
}

export interface StoredRendition {
  height: number;
  width: number;
  /** Peak bits per second over the variant segments (for the HLS master playlist). */
  bandwidth: number;
  segments: StoredSegment[];
}

/** What an embedding run produced, below `output_dir`. */
export interface JobResult {
  output_dir: string;
  frame_rate: number;
  duration: number;
  renditions: StoredRendition[];
  /** The detection reference the extractor reads (relative path). */
  reference: string;
}

/** An embedding job: one original video prepared for A/B watermarked delivery. */
@Schema(schemaOptions('jobs'))
export class Job extends PipelineWork {
  /** Seconds per A/B segment (1 or 2). */
  @Prop({ default: 2 })
  segment_duration!: number;

  /** Rendition heights, highest first. */
  @Prop({ type: [Number], default: [] })
  output_heights!: number[];

  @Prop({ type: Object, default: null })
  result!: JobResult | null;
}

export const JobSchema = SchemaFactory.createForClass(Job);

/** A/B segments of the job's timeline (every rendition has them all); 0 before it has run. */
export function segmentCountOf(job: Pick<Job, 'result'>): number {
  return job.result?.renditions[0]?.segments.length ?? 0;
}
