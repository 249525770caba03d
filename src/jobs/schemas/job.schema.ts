import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { schemaOptions } from '../../common/schema-options.js';
import { PipelineWork } from '../../common/work-state.js';

/** One encoded segment of a rendition: its duration and its two variants (relative paths). */
export interface StoredSegment {
  duration: number;
  a: string;
  b: string;
}

/** A rendition's encoder settings as the job resolved them (kbit/s). */
export interface StoredOutput {
  height: number;
  video_bitrate: number | null;
  max_bitrate: number;
  crf: number | null;
}

export interface StoredRendition {
  height: number;
  width: number;
  /** Peak bits per second over the variant segments (for the HLS master playlist). */
  bandwidth: number;
  /** Bits per second of the variant segments over the timeline, A and B averaged. */
  average_bandwidth: number;
  /**
   * The mark's strength (its RMS in luma levels) and the PSNR-Y of the
   * pilot encode it was budgeted from (null when the strength was set). Absent on older jobs.
   */
  mark?: { strength: number; encoder_psnr_y: number | null };
  segments: StoredSegment[];
  /** Absent on jobs that ran before downloads were packaged (they offer no download). */
  download?: StoredDownload;
}

/**
 * A rendition's variants packaged as fragmented MP4 (relative paths): both files start with
 * the same `init_size` bytes, then fragment i of each is segment i (moof + mdat) of
 * `fragments_a[i]` / `fragments_b[i]` bytes. A personal download is the init followed by the
 * fragment of the variant the codeword picks, segment by segment.
 */
export interface StoredDownload {
  a: string;
  b: string;
  init_size: number;
  fragments_a: number[];
  fragments_b: number[];
}

/** An audio track of the original (relative paths). */
export interface StoredAudioTrack {
  /** ISO 639 code, `und` when the source does not say. */
  language: string;
  /** What players list it as: the source's title tag, else the language. */
  name: string;
  /**
   * Tracks after the first: an AAC file (added to MP4 downloads) and an audio-only HLS
   * rendition. Null for the first track, which the video segments carry.
   */
  alternate: { file: string; segments: { duration: number; path: string }[] } | null;
}

/** What an embedding run produced, below `output_dir`. */
export interface JobResult {
  output_dir: string;
  frame_rate: number;
  duration: number;
  renditions: StoredRendition[];
  /** In the source's order; absent on jobs that ran before languages were carried. */
  audio_tracks?: StoredAudioTrack[];
  /** The detection reference the extractor reads (relative path). */
  reference: string;
}

/** An embedding job: one original video prepared for A/B watermarked delivery. */
@Schema(schemaOptions('jobs'))
export class Job extends PipelineWork {
  /** Seconds per A/B segment (1 or 2). */
  @Prop({ default: 2 })
  segment_duration!: number;

  /** The renditions and their encoder settings, highest first. */
  @Prop({ type: [Object], default: [] })
  outputs!: StoredOutput[];

  @Prop({ type: Object, default: null })
  result!: JobResult | null;
}

export const JobSchema = SchemaFactory.createForClass(Job);

/** A/B segments of the job's timeline (every rendition has them all); 0 before it has run. */
export function segmentCountOf(job: Pick<Job, 'result'>): number {
  return job.result?.renditions[0]?.segments.length ?? 0;
}
