import { ApiProperty } from '@nestjs/swagger';
import { Prop } from '@nestjs/mongoose';
import { Types } from 'mongoose';

export const WORK_STATUSES = ['QUEUED', 'PROCESSING', 'SUCCESS', 'FAILED'] as const;
export type WorkStatus = (typeof WORK_STATUSES)[number];

/**
 * Lifecycle fields of queued work (jobs, backtraces): QUEUED → PROCESSING → SUCCESS | FAILED.
 * `version` counts the document's revisions.
 */
export abstract class WorkState {
  @Prop({ type: String, enum: WORK_STATUSES, default: 'QUEUED', index: true })
  status!: WorkStatus;

  @Prop({ default: 0 })
  percentage_completed!: number;

  @Prop({ type: String, default: null })
  error_code!: string | null;

  @Prop({ type: String, default: null })
  error_msg!: string | null;

  @Prop({ type: Date, default: null })
  finished_at!: Date | null;

  @Prop({ default: 1 })
  version!: number;

  /** The worker holding the work while PROCESSING, and until when (see LeasedQueue). */
  @Prop({ type: String, default: null })
  lease_owner!: string | null;

  /** New with every claim: the fence that tells this run's writes from an earlier run's. */
  @Prop({ type: String, default: null })
  lease_id!: string | null;

  @Prop({ type: Date, default: null })
  lease_until!: Date | null;

  @Prop({ default: 0 })
  attempts!: number;
}

/** Work on a video read through a pipeline (jobs, backtraces), owned by a user. */
export abstract class PipelineWork extends WorkState {
  @Prop({ type: Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, default: null })
  application!: Types.ObjectId | null;

  @Prop({ type: Types.ObjectId, required: true })
  pipeline!: Types.ObjectId;

  @Prop({ type: { input_name: { type: String, required: true } }, _id: false, required: true })
  input!: { input_name: string };

  /** The registered input video (the original of a job, the suspect copy of a backtrace). */
  @Prop({ type: Types.ObjectId, default: null })
  file!: Types.ObjectId | null;
}

/** The same fields as the API shows them. */
export abstract class WorkStateDto {
  @ApiProperty({ enum: WORK_STATUSES }) status!: WorkStatus;
  @ApiProperty({ minimum: 0, maximum: 100 }) percentage_completed!: number;
  @ApiProperty({ type: String, nullable: true }) error_msg!: string | null;
  @ApiProperty({ type: String, nullable: true }) error_code!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Epoch milliseconds.' })
  finished_at!: number | null;
  @ApiProperty() version!: number;
}

export function toWorkStateDto(state: WorkState): WorkStateDto {
  return {
    status: state.status,
    percentage_completed: state.percentage_completed,
    error_msg: state.error_msg,
    error_code: state.error_code,
    finished_at: state.finished_at?.getTime() ?? null,
    version: state.version,
  };
}
