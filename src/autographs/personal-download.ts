import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { StoredDownload } from '../jobs/schemas/job.schema.js';

/** A run of bytes of a personal MP4 that lies in one stored file. */
export interface DownloadPart {
  path: string;
  /** Where the part starts in its file and in the personal MP4. */
  fileOffset: number;
  offset: number;
  length: number;
  /** The segment whose fragment this is; null for the init. */
  segment: number | null;
}

/**
 * A viewer's MP4 as a table of the stored bytes it is made of: the rendition's init, then
 * fragment i of the variant the codeword picks for segment i. Computed from the stored
 * fragment sizes, so its length, ranges and ETag are known without reading any media.
 */
export class PersonalDownload {
  readonly parts: DownloadPart[];
  readonly size: number;
  /** Strong validator: the same bytes always get the same tag, other bytes another one. */
  readonly etag: string;

  constructor(
    outputDir: string,
    download: StoredDownload,
    variants: ('a' | 'b')[],
    /** Whatever else decides the bytes (the job's run, the rendition): part of the ETag. */
    version: string,
  ) {
    const files = { a: join(outputDir, download.a), b: join(outputDir, download.b) };
    const fragments = { a: download.fragments_a, b: download.fragments_b };
    const fileOffsets = { a: download.init_size, b: download.init_size };
    this.parts = [
      { path: files.a, fileOffset: 0, offset: 0, length: download.init_size, segment: null },
    ];
    let offset = download.init_size;
    variants.forEach((variant, segment) => {
      const length = fragments[variant][segment];
      this.parts.push({
        path: files[variant],
        fileOffset: fileOffsets[variant],
        offset,
        length,
        segment,
      });
      offset += length;
      fileOffsets.a += fragments.a[segment];
      fileOffsets.b += fragments.b[segment];
    });
    this.size = offset;
    const digest = createHash('sha256')
      .update(`${version}\n${variants.join('')}`)
      .digest('base64url');
    this.etag = `"${digest.slice(0, 32)}"`;
  }

  /** The stored pieces of bytes [start, end] (inclusive), in order. */
  *pieces(start: number, end: number): Generator<{ path: string; start: number; end: number }> {
    for (const part of this.parts) {
      const from = Math.max(start, part.offset);
      const to = Math.min(end, part.offset + part.length - 1);
      if (from > to) continue;
      const shift = part.fileOffset - part.offset;
      yield { path: part.path, start: from + shift, end: to + shift };
    }
  }

  /** The segments whose fragments lie wholly inside bytes [start, end). */
  segmentsWithin(start: number, end: number): number[] {
    return this.parts.flatMap(({ segment, offset, length }) =>
      segment !== null && offset >= start && offset + length <= end ? [segment] : [],
    );
  }
}
