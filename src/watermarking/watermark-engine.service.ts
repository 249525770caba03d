import { Injectable } from '@nestjs/common';
import type { Types } from 'mongoose';
import {
  accuse,
  codewordBit,
  type EmbedOptions,
  type EmbedResult,
  embedVariants,
  extractSoftBits,
  type MediaInfo,
  probeMedia,
  readReference,
  variantForBit,
} from '../watermark/index.js';
import { CodebookCache } from './codebooks.js';
import { engineWork } from './engine-failures.js';
import { WatermarkKeysService } from './watermark-keys.service.js';

export type { EmbedResult, MediaInfo };
/** The bitrate ladder's rules, for validating and resolving a job's outputs. */
export { CRF_RANGE, VIDEO_BITRATE_RANGE, encoderSettingsFor } from '../watermark/index.js';

/** One autograph the trace accuses, with its normalised Tardos score. */
export interface TraceAccusation {
  id: Types.ObjectId;
  tag: string;
  score: number;
}

export interface TraceResult {
  accused: TraceAccusation[];
  threshold: number;
  segmentsObserved: number;
}

export interface TraceRequest {
  jobId: string;
  /** Path of the job's detection reference. */
  referencePath: string;
  /** Path of the suspect copy. */
  suspect: string;
  /** The job's autographs, in id order (the codebook only ever grows at the end). */
  identities: { _id: Types.ObjectId; tag: string }[];
  segmentCount: number;
  onProgress: (fraction: number) => void;
  signal: AbortSignal;
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

  /** Reads the copy's soft bits and scores every autograph of the job against them. */
  async trace(request: TraceRequest): Promise<TraceResult> {
    const { jobId, segmentCount } = request;
    const reference = await engineWork(readReference(request.referencePath));
    const extraction = await engineWork(
      extractSoftBits({
        suspect: request.suspect,
        reference,
        key: this.keys.jobKey(jobId),
        signal: request.signal,
        onProgress: request.onProgress,
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
    });
    return {
      accused: verdict.accused.map(({ index, score }) => ({
        id: ids[index],
        tag: tags[index],
        score,
      })),
      threshold: verdict.threshold,
      segmentsObserved: extraction.segmentsObserved,
    };
  }

  /** What ffprobe sees in a file (rejects when it is not a readable video). */
  probe(path: string): Promise<MediaInfo> {
    return probeMedia(path);
  }

  /** Which variant (A or B) of segment `index` a codeword selects. */
  variantOf(codeword: Uint32Array, index: number): ReturnType<typeof variantForBit> {
    return variantForBit(codewordBit(codeword, index));
  }
}
