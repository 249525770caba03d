import type { Types } from 'mongoose';
import { PackedCodebook } from '../watermark/index.js';

/** A job's autographs in codebook order: row i of `codebook` is the codeword of `ids[i]`. */
export interface JobCodebook {
  ids: Types.ObjectId[];
  tags: string[];
  codebook: PackedCodebook;
}

const CACHED_JOBS = 8;

/**
 * Codebooks of recently traced jobs, kept in memory: deriving 100,000 codewords costs
 * seconds, scoring them milliseconds. Autographs are only ever added (in id order), so a
 * cached codebook is extended with the new rows instead of being rebuilt.
 */
export class CodebookCache {
  private readonly cache = new Map<string, JobCodebook>();

  get(
    jobId: string,
    identities: { _id: Types.ObjectId; tag: string }[],
    segmentCount: number,
    codewordOf: (autographId: string) => Uint32Array,
  ): JobCodebook {
    let entry = this.cache.get(jobId);
    const cachedIsPrefix =
      entry !== undefined &&
      entry.codebook.codeLength === segmentCount &&
      entry.ids.length <= identities.length &&
      entry.ids.every((id, i) => id.equals(identities[i]._id));
    if (!entry || !cachedIsPrefix) {
      entry = { ids: [], tags: [], codebook: new PackedCodebook(segmentCount, identities.length) };
    }
    for (const identity of identities.slice(entry.ids.length)) {
      entry.codebook.add(codewordOf(identity._id.toString()));
      entry.ids.push(identity._id);
      entry.tags.push(identity.tag);
    }
    this.cache.delete(jobId);
    this.cache.set(jobId, entry); // most recently used last
    if (this.cache.size > CACHED_JOBS) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }
}
