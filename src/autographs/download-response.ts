import { HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createReadStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { ApiError } from '../common/api-error.js';
import type { PersonalDownload } from './personal-download.js';

/** Read size of the stored files: few system calls per megabyte sent. */
const READ_CHUNK_BYTES = 256 * 1024;

/** Bytes [start, end) of the download that were handed to the connection. */
export interface DeliveredSpan {
  start: number;
  end: number;
}

/**
 * Answers a GET or HEAD of a personal download as a static file server would: Content-Length,
 * Accept-Ranges, a strong ETag, one `Range` (206; unsatisfiable → 416 with `bytes *\/size`;
 * several ranges or a malformed header → the whole file), `If-Range` (any other validator →
 * the whole file). Resolves with the span whose bytes were written to the socket, so that the
 * caller records only what was delivered: nothing for HEAD, up to the hang-up for a download
 * cut off mid-way.
 */
export async function sendDownload(
  request: Request,
  response: Response,
  download: PersonalDownload,
): Promise<DeliveredSpan> {
  const { size, etag } = download;
  response.set({ 'Accept-Ranges': 'bytes', ETag: etag });
  let start = 0;
  let end = size - 1;
  const ranges = rangeApplies(request, etag) ? request.range(size, { combine: true }) : undefined;
  if (ranges === -1) {
    response.set('Content-Range', `bytes */${size}`);
    throw new ApiError(
      HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
      'RANGE_NOT_SATISFIABLE',
      `The range '${request.get('range')?.slice(0, 60)}' lies outside this file of ${size} bytes.`,
    );
  }
  if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) {
    ({ start, end } = ranges[0]);
    response
      .status(HttpStatus.PARTIAL_CONTENT)
      .set('Content-Range', `bytes ${start}-${end}/${size}`);
  }
  response.set('Content-Length', String(end - start + 1));
  if (request.method === 'HEAD') {
    response.end();
    return { start, end: start };
  }
  return { start, end: start + (await writeBytes(response, download, start, end)) };
}

/** A Range is honoured without If-Range, or when If-Range names this very representation. */
function rangeApplies(request: Request, etag: string): boolean {
  const ifRange = request.get('if-range');
  return ifRange === undefined || ifRange.trim() === etag;
}

/**
 * Streams bytes [start, end] of the download with back-pressure; resolves with how many were
 * handed to the socket (a write's callback), fewer when the viewer hung up.
 */
async function writeBytes(
  response: Response,
  download: PersonalDownload,
  start: number,
  end: number,
): Promise<number> {
  let delivered = 0;
  try {
    for (const piece of download.pieces(start, end)) {
      const file = createReadStream(piece.path, { ...piece, highWaterMark: READ_CHUNK_BYTES });
      for await (const chunk of file as AsyncIterable<Buffer>) {
        if (response.destroyed) break;
        const drained = response.write(chunk, (error) => {
          if (!error) delivered += chunk.length;
        });
        if (!drained) await drainOrClose(response);
      }
      if (response.destroyed) break;
    }
  } catch (error) {
    // A stored file vanished: a clean 404 if nothing was sent yet, else a cut-off transfer.
    if (!response.headersSent) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'MEDIA_UNAVAILABLE',
        'This download is unavailable.',
      );
    }
    response.destroy(error as Error);
  }
  if (!response.destroyed) response.end();
  await finished(response).catch(() => undefined);
  return delivered;
}

function drainOrClose(response: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done).off('close', done);
      resolve();
    };
    response.on('drain', done).on('close', done);
  });
}
