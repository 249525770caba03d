import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';
import { PipelineWork } from '../../common/work-state.js';
import type { AccessStat } from '../../autographs/access-stats.js';

/** One accused autograph, with the evidence against it. */
export interface ExtractedData {
  /** The accused autograph (kept for the evidence document, not shown in the backtrace). */
  autograph?: Types.ObjectId;
  autograph_tag: string;
  access_stats: AccessStat[];
  /** Normalised Tardos likelihood-ratio score; accusation needs it above `threshold`. */
  score: number;
  threshold: number;
  /** Segments of the original timeline found in the copy. */
  segments_observed: number;
  /** Bound on the probability that one innocent autograph scores this much. */
  innocent_probability: number;
  /** The same for any innocent autograph of the job (union bound, at most 1). */
  any_innocent_probability: number;
}

/** What a finished backtrace's verdict rests on, accused or not. */
export interface Verdict {
  /** Autographs of the job scored: the n of the union bound. */
  autographs_scored: number;
  /**
   * Jobs the copy was traced against: 1, or when job_id was not given, every job of its
   * original (the bound is shared out over them). Absent from backtraces traced before: 1.
   */
  jobs_traced?: number;
  /** Bound on accusing any innocent autograph in this backtrace (FALSE_ACCUSATION_PROBABILITY). */
  false_accusation_probability: number;
  /** What that leaves each innocent autograph: the bound / (jobs_traced x autographs_scored). */
  per_autograph_probability: number;
  /** Score an innocent reaches with at most per_autograph_probability; null: none can. */
  threshold: number | null;
  segments_observed: number;
  /** Segments of the original's timeline. */
  segment_count: number;
  /** Highest score below the threshold; null when nobody was scored. */
  max_innocent_score: number | null;
}

/** The facts of the evidence document that only the trace knows, kept with the backtrace. */
export interface EvidenceRecord {
  /** One soft bit per segment of the original (0 = not observed), rounded to 1e-4. */
  soft_bits: number[];
  /** Per copy, in the order of `inputs`: what alignment found. */
  copies: {
    segments_observed: number;
    matched: boolean;
    /** Where the copy starts on the original's timeline, and its speed (1 = unchanged). */
    offset_seconds: number;
    rate: number;
    /** Share of the original cut away on each side. */
    crop: { left: number; right: number; top: number; bottom: number };
    /** The copy is a horizontal mirror image of the original (absent in older records). */
    mirrored?: boolean;
    /** Mean signature correlation at the first lock, and how often the lock was (re)found. */
    confidence: number;
    locks: number;
    frames_aligned: number;
  }[];
  /** Every autograph's score in bins of `width` from `start`. */
  histogram: { start: number; width: number; counts: number[] };
  reference_sha256: string;
  software: { version: string; commit: string };
}

/** A suspect copy to trace back to the autograph(s) it was made from. */
@Schema(schemaOptions('backtraces'))
export class Backtrace extends PipelineWork {
  /** The job of the original the copy belongs to; null until found when not given. */
  @Prop({ type: Types.ObjectId, default: null, index: true })
  job!: Types.ObjectId | null;

  /** Every copy of the leak, `input` first (several copies are traced together). */
  @Prop({ type: [Object], default: [] })
  inputs!: { input_name: string }[];

  /** The registered copies, in the order of `inputs` (`file` is the first). */
  @Prop({ type: [Types.ObjectId], default: [] })
  files!: Types.ObjectId[];

  @Prop({ type: [Object], default: [] })
  extracted_data!: ExtractedData[];

  @Prop({ type: Object, default: null })
  verdict!: Verdict | null;

  /** Read only by the evidence document (thousands of soft bits stay out of lists). */
  @Prop({ type: Object, default: null, select: false })
  evidence?: EvidenceRecord | null;
}

export const BacktraceSchema = SchemaFactory.createForClass(Backtrace);
