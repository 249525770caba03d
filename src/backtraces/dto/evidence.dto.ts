import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AccessStatDto } from '../../autographs/dto/autograph.dto.js';
import { GetQuery } from '../../common/dto/query.dto.js';

/** `format=json|xml` answers the facts as data; without it the evidence is an HTML document. */
export class EvidenceQuery extends GetQuery {}

export class OriginalDto {
  @ApiProperty() job_id!: string;
  @ApiProperty({ description: "The job's input_name." }) name!: string;
  @ApiProperty({ type: String, nullable: true }) sha256!: string | null;
  @ApiProperty({ description: 'Seconds per A/B segment.' }) segment_duration!: number;
  @ApiProperty() segment_count!: number;
}

export class CropDto {
  @ApiProperty() left!: number;
  @ApiProperty() right!: number;
  @ApiProperty() top!: number;
  @ApiProperty() bottom!: number;
}

export class AlignmentDto {
  @ApiProperty({ description: 'Whether any part of the copy matched the original.' })
  matched!: boolean;
  @ApiProperty({ description: "Second of the original shown by the copy's first frame." })
  offset_seconds!: number;
  @ApiProperty({ description: 'Speed of the copy against the original (1 = unchanged).' })
  rate!: number;
  @ApiProperty({ type: CropDto, description: 'Share of the original cut away on each side.' })
  crop!: CropDto;
  @ApiProperty({ description: 'Whether the copy is a horizontal mirror image of the original.' })
  mirrored!: boolean;
  @ApiProperty({
    description: "Brightness and contrast: how they were matched (each frame's own normalisation).",
  })
  brightness_contrast!: string;
  @ApiProperty({ description: 'Mean signature correlation at the first lock (1 = identical).' })
  confidence!: number;
  @ApiProperty({ description: 'Times the copy was locked onto the original (> 1: edited).' })
  locks!: number;
  @ApiProperty({ description: 'Copy frames placed on the original.' }) frames_aligned!: number;
}

export class SuspectCopyDto {
  @ApiProperty({ description: 'input_name in the backtrace.' }) name!: string;
  @ApiProperty({ description: 'Bytes.' }) size!: number;
  @ApiProperty({ type: String, nullable: true }) sha256!: string | null;
  @ApiProperty({ description: 'Seconds.' }) duration!: number;
  @ApiProperty() width!: number;
  @ApiProperty() height!: number;
  @ApiProperty({ description: 'Segments of the original this copy covers.' })
  segments_observed!: number;
  @ApiProperty({ type: AlignmentDto, description: 'What alignment found in this copy.' })
  alignment!: AlignmentDto;
}

export class BoundDto {
  @ApiProperty() autographs_scored!: number;
  @ApiProperty({ description: 'Jobs of the same original the copy was traced against.' })
  jobs_traced!: number;
  @ApiProperty() false_accusation_probability!: number;
  @ApiProperty() per_autograph_probability!: number;
  @ApiProperty({ type: Number, nullable: true }) threshold!: number | null;
  @ApiProperty({ type: Number, nullable: true }) max_innocent_score!: number | null;
  @ApiProperty({ description: 'Segments observed by the copies together.' })
  segments_observed!: number;
  @ApiProperty() segment_count!: number;
  @ApiProperty({ description: 'How the bound is computed, in plain words.' }) method!: string;
}

export class EvidenceAccusedDto {
  @ApiProperty() autograph_tag!: string;
  @ApiProperty() score!: number;
  @ApiProperty() threshold!: number;
  @ApiProperty() segments_observed!: number;
  @ApiProperty() innocent_probability!: number;
  @ApiProperty() any_innocent_probability!: number;
  @ApiProperty({
    type: [Number],
    description: "The autograph's symbol per segment (+1 = variant A, -1 = variant B).",
  })
  codeword_symbols!: number[];
  @ApiProperty({ type: [AccessStatDto] }) access_stats!: AccessStatDto[];
}

export class ScoreHistogramDto {
  @ApiProperty({ description: 'Lower edge of the first bin.' }) start!: number;
  @ApiProperty() width!: number;
  @ApiProperty({ type: [Number], description: 'Autographs per bin.' }) counts!: number[];
}

export class SoftwareDto {
  @ApiProperty() version!: string;
  @ApiProperty() commit!: string;
}

/** Every fact the evidence document states. */
export class EvidenceDto {
  @ApiProperty() backtrace_id!: string;
  @ApiProperty({ description: 'Epoch milliseconds.' }) traced_at!: number;
  @ApiProperty({ description: 'Epoch milliseconds.' }) generated_at!: number;
  @ApiProperty({ type: [SuspectCopyDto], description: 'The copies traced, in the order given.' })
  suspect_copies!: SuspectCopyDto[];
  @ApiProperty({ type: OriginalDto }) original!: OriginalDto;
  @ApiProperty({ description: "SHA-256 of the job's detection reference." })
  reference_sha256!: string;
  @ApiProperty({ type: SoftwareDto }) software!: SoftwareDto;
  @ApiProperty({ type: BoundDto }) bound!: BoundDto;
  @ApiProperty({ type: [EvidenceAccusedDto] }) accused!: EvidenceAccusedDto[];
  @ApiProperty({
    type: [Number],
    description:
      'One soft bit per segment in [-1, 1], the copies combined (sign: variant read; 0: not observed).',
  })
  soft_bits!: number[];
  @ApiProperty({ type: ScoreHistogramDto }) score_histogram!: ScoreHistogramDto;
}

export class EvidenceEnvelope {
  @ApiPropertyOptional({ type: EvidenceDto }) evidence!: EvidenceDto;
}
