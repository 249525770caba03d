import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { ApiError } from '../../common/api-error.js';
import type { Principal } from '../../common/principal.js';
import { FilesService } from '../../files/files.service.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { segmentCountOf } from '../../jobs/schemas/job.schema.js';
import { WatermarkEngine } from '../../watermarking/watermark-engine.service.js';
import { BacktracesService } from '../backtraces.service.js';
import { inputNamesOf } from '../tracing.service.js';
import type { EvidenceDto } from '../dto/evidence.dto.js';
import { Backtrace, type EvidenceRecord, type Verdict } from '../schemas/backtrace.schema.js';

/** How the alignment matched brightness and contrast: there is no single estimate to show. */
const BRIGHTNESS_CONTRAST =
  'normalised per frame: each frame of the copy and of the original is compared after removing its mean and scaling it to unit contrast';

/**
 * The evidence behind a backtrace's verdict, as one set of facts (rendered as a printable
 * document by evidence-document.ts): the copy, the original, the software, what alignment
 * found, the bound and each accused autograph with the per-segment evidence against it.
 */
@Injectable()
export class EvidenceService {
  constructor(
    @InjectModel(Backtrace.name) private readonly backtraces: Model<Backtrace>,
    private readonly owned: BacktracesService,
    private readonly jobs: JobsService,
    private readonly files: FilesService,
    private readonly engine: WatermarkEngine,
  ) {}

  async evidenceOf(principal: Principal, id: string): Promise<EvidenceDto> {
    const backtrace = await this.owned.findOwned(principal, id);
    if (backtrace.status !== 'SUCCESS') {
      throw ApiError.conflict(
        'BACKTRACE_NOT_FINISHED',
        `Backtrace ${id} is ${backtrace.status}: its evidence exists once it has succeeded.`,
      );
    }
    const stored = await this.backtraces
      .findById(backtrace._id, { evidence: 1 })
      .select('+evidence')
      .lean<{ evidence?: EvidenceRecord | null }>()
      .exec();
    const evidence = stored?.evidence;
    const verdict = backtrace.verdict;
    if (!evidence || !verdict || !backtrace.file) {
      throw ApiError.conflict(
        'EVIDENCE_UNAVAILABLE',
        `Backtrace ${id} was traced by a version that kept no evidence: create it again.`,
      );
    }
    const job = await this.jobs.findOwned(principal, String(backtrace.job));
    const segmentCount = segmentCountOf(job);
    const fileIds = backtrace.files.length > 0 ? backtrace.files : [backtrace.file];
    const [original, copies] = await Promise.all([
      job.file ? this.files.get(principal, job.file.toString()) : null,
      Promise.all(fileIds.map((file) => this.files.get(principal, file.toString()))),
    ]);
    const names = inputNamesOf(backtrace);
    return {
      backtrace_id: id,
      traced_at: (backtrace.finished_at ?? backtrace.updated_at).getTime(),
      generated_at: Date.now(),
      suspect_copies: copies.map((copy, i) => {
        const { segments_observed, ...alignment } = evidence.copies[i];
        return {
          name: names[i],
          size: copy.size,
          sha256: copy.sha256,
          duration: copy.media?.duration ?? 0,
          width: copy.media?.width ?? 0,
          height: copy.media?.height ?? 0,
          segments_observed,
          alignment: {
            ...alignment,
            mirrored: alignment.mirrored ?? false,
            brightness_contrast: BRIGHTNESS_CONTRAST,
          },
        };
      }),
      original: {
        job_id: job._id.toString(),
        name: job.input.input_name,
        sha256: original?.sha256 ?? null,
        segment_duration: job.segment_duration,
        segment_count: segmentCount,
      },
      reference_sha256: evidence.reference_sha256,
      software: evidence.software,
      bound: { ...verdict, jobs_traced: verdict.jobs_traced ?? 1, method: boundMethod(verdict) },
      accused: backtrace.extracted_data.map(({ autograph, ...entry }) => ({
        autograph_tag: entry.autograph_tag,
        score: entry.score,
        threshold: entry.threshold,
        segments_observed: entry.segments_observed,
        innocent_probability: entry.innocent_probability,
        any_innocent_probability: entry.any_innocent_probability,
        codeword_symbols: autograph
          ? this.engine.codewordSymbols(job._id.toString(), autograph.toString(), segmentCount)
          : [],
        access_stats: entry.access_stats,
      })),
      soft_bits: evidence.soft_bits,
      score_histogram: evidence.histogram,
    };
  }
}

const exp = (value: number): string => value.toExponential(2);

/** How the bound is computed, in plain words, with this backtrace's numbers. */
function boundMethod(verdict: Verdict): string {
  const n = verdict.autographs_scored;
  const k = verdict.jobs_traced ?? 1;
  const epsilon = exp(verdict.false_accusation_probability);
  const share = k > 1 ? `(${epsilon} / ${k}) / ${n}` : `${epsilon} / ${n}`;
  const jobs =
    k > 1
      ? `The copy matched ${k} jobs of the same original equally well and was traced against each, each held to ${epsilon} / ${k}; this is the job whose autographs it accuses (or the best-matching one). `
      : '';
  return (
    jobs +
    `Each of the ${n} autographs of the job was scored against the copy's soft bits with a likelihood-ratio test. ` +
    "An innocent autograph's codeword was drawn at random independently of the copy, so the chance that it reaches a score s is at most min over λ of exp(K(λ) − λ·s) (a Chernoff bound, K computed exactly from the job's code and this copy's soft bits); the threshold is the score where this chance is " +
    `${share} = ${exp(verdict.per_autograph_probability)}. ` +
    `Adding that chance over all ${n} autographs${k > 1 ? ` of each of the ${k} jobs` : ''} (the union bound), the probability that this backtrace accuses any innocent autograph is at most ${epsilon}.`
  );
}
