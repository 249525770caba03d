import { Injectable } from '@nestjs/common';
import type { Types } from 'mongoose';
import {
  accuse,
  type AlignmentSummary,
  codewordBit,
  type DecodedStart,
  type EmbedOptions,
  type EmbedResult,
  embedVariants,
  extractFromCopies,
  decodeJobSignature,
  encodeJobSignature,
  findOriginals,
  type FoundOriginals,
  jobSignatureOf,
  type MediaInfo,
  perInnocentProbability,
  probeMedia,
  readReference,
  type ScoreHistogram,
  symbolForBit,
  variantForBit,
} from '../watermark/index.js';
import { CodebookCache } from './codebooks.js';
import { engineWork } from './engine-failures.js';
import { WatermarkKeysService } from './watermark-keys.service.js';

export type { DecodedStart, EmbedResult, MediaInfo };
/** The bitrate ladder's rules, for validating and resolving a job's outputs. */
export { CRF_RANGE, VIDEO_BITRATE_RANGE, encoderSettingsFor } from '../watermark/index.js';

/** One autograph the trace accuses, with its normalised Tardos score. */
export interface TraceAccusation {
  id: Types.ObjectId;
  tag: string;
  score: number;
  /** Bound on the probability that one innocent, and that any innocent of the job, scores this. */
  innocentProbability: number;
  anyInnocentProbability: number;
}

export interface TraceResult {
  accused: TraceAccusation[];
  threshold: number;
  segmentsObserved: number;
  autographsScored: number;
  falseAccusationProbability: number;
  perInnocentProbability: number;
  maxInnocentScore: number;
  /** What the evidence document shows: the combined soft bits, every score, and per copy
   * what alignment found and the segments it covers. */
  softBits: Float32Array;
  copies: { alignment: AlignmentSummary; segmentsObserved: number }[];
  /** The original's frame rate, the unit of the alignment's offset. */
  frameRate: number;
  histogram: ScoreHistogram;
}

export interface TraceRequest {
  jobId: string;
  /** Path of the job's detection reference. */
  referencePath: string;
  /** Paths of the suspect copies: one leak, their evidence combined per segment. */
  suspects: string[];
  /** The job's autographs, in id order (the codebook only ever grows at the end). */
  identities: { _id: Types.ObjectId; tag: string }[];
  segmentCount: number;
  /** Bound on accusing any innocent of the job in this backtrace (ε of the union bound). */
  falseAccusationProbability: number;
  onProgress: (fraction: number) => void;
  signal: AbortSignal;
  /** What finding the job decoded of the first suspect, against this job (findOriginals). */
  start?: DecodedStart;
}

/**
 * The application's one way into the watermark engine (src/watermark, free of Nest): keys
 * come from WatermarkKeysService, codebooks are cached, and engine errors come out as the
 * WorkFailures a job or backtrace records.
 */
@Injectable()
export class WatermarkEngine {
  private readonly codebooks = new CodebookCache();

  constructor(private readonly keys: WatermarkKeysService) {}

  /** Encodes the A/B variants of every rendition and the detection reference. */
  embed(jobId: string, options: Omit<EmbedOptions, 'key'>): Promise<EmbedResult> {
    return engineWork(embedVariants({ ...options, key: this.keys.jobKey(jobId) }));
  }

  /** Reads the copies' soft bits and scores every autograph of the job against them. */
  async trace(request: TraceRequest): Promise<TraceResult> {
    const { jobId, segmentCount, falseAccusationProbability } = request;
    const reference = await engineWork(readReference(request.referencePath));
    const extraction = await engineWork(
      extractFromCopies({
        suspects: request.suspects,
        reference,
        key: this.keys.jobKey(jobId),
        epsilon: perInnocentProbability(falseAccusationProbability, request.identities.length),
        signal: request.signal,
        onProgress: request.onProgress,
        start: request.start,
      }),
    );
    const { ids, tags, codebook } = this.codebooks.get(
      jobId,
      request.identities,
      segmentCount,
      (id) => this.keys.codeword(jobId, id, segmentCount),
    );
    const verdict = accuse({
      softBits: extraction.softBits,
      codebook,
      biases: this.keys.biases(jobId, segmentCount),
      falseAccusationProbability,
    });
    return {
      accused: verdict.accused.map(({ index, ...accusation }) => ({
        id: ids[index],
        tag: tags[index],
        ...accusation,
      })),
      threshold: verdict.threshold,
      segmentsObserved: extraction.segmentsObserved,
      autographsScored: verdict.autographsScored,
      falseAccusationProbability,
      perInnocentProbability: verdict.perInnocentProbability,
      maxInnocentScore: verdict.maxInnocentScore,
      softBits: extraction.softBits,
      copies: extraction.copies.map(({ alignment, segmentsObserved }) => ({
        alignment,
        segmentsObserved,
      })),
      frameRate: reference.frameRate,
      histogram: verdict.histogram,
    };
  }

  /**
   * Which of these jobs' originals the copy comes from (see findOriginals), by their job
   * signatures and, for the best few, their detection references; every job that matches as
   * well as the best, best first ([] when none matches), and the copy's decoded start for
   * tracing the first (to be closed by the caller).
   */
  findOriginals(
    suspect: string,
    jobs: { jobId: string; referencePath: string; signature: () => Promise<Uint8Array> }[],
    signal: AbortSignal,
  ): Promise<FoundOriginals> {
    const candidates = jobs.map(({ jobId, referencePath, signature }) => ({
      id: jobId,
      signature: async () => decodeJobSignature(await signature()),
      reference: () => readReference(referencePath),
      key: this.keys.jobKey(jobId),
    }));
    return engineWork(findOriginals(suspect, candidates, signal));
  }

  /** A job's signature (see job-signature.ts), from its detection reference. */
  async jobSignature(referencePath: string): Promise<Buffer> {
    const reference = await engineWork(readReference(referencePath));
    return encodeJobSignature(jobSignatureOf(reference));
  }

  /** What ffprobe sees in a file (rejects when it is not a readable video). */
  probe(path: string): Promise<MediaInfo> {
    return probeMedia(path);
  }

  /** An autograph's watermark symbol per segment (+1 = variant A, -1 = variant B). */
  codewordSymbols(jobId: string, autographId: string, segmentCount: number): number[] {
    const codeword = this.keys.codeword(jobId, autographId, segmentCount);
    return Array.from({ length: segmentCount }, (_, i) => symbolForBit(codewordBit(codeword, i)));
  }

  /** Which variant (A or B) of segment `index` a codeword selects. */
  variantOf(codeword: Uint32Array, index: number): ReturnType<typeof variantForBit> {
    return variantForBit(codewordBit(codeword, index));
  }
}
