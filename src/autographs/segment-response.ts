import { HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError } from '../common/api-error.js';
import { clientAddress } from '../common/client-address.js';
import type { PlaybackService, Viewer } from './playback.service.js';

/** The path parameters of a segment GET: `/v1/play/:token/:rendition/:segment`. */
export interface SegmentRequest {
  token: string;
  rendition: string;
  segment: string;
}

export function viewerOf(request: Request): Viewer {
  return {
    ip: clientAddress(request),
    userAgent: request.get('user-agent') ?? 'N/A',
    acceptLanguage: request.get('accept-language') ?? 'N/A',
  };
}

/** Personal media: never cached by shared caches; players on other origins may read it. */
export function noStore(): Record<string, string> {
  return { 'Cache-Control': 'private, no-store', 'Access-Control-Allow-Origin': '*' };
}

/**
 * Sends the viewer's variant of one segment and records it as obtained if it was sent whole.
 * Throws an ApiError, before anything is sent, for an unknown token, a job not ready, an unknown
 * rendition or segment, or a file gone.
 */
export async function sendSegment(
  playback: PlaybackService,
  { token, rendition, segment }: SegmentRequest,
  request: Request,
  response: Response,
): Promise<void> {
  const session = await playback.session(token);
  const file = playback.segmentFile(session, rendition, segment);
  await playback.checkReadable(session, [file.path]);
  if (await sentWhole(response.set(noStore()), file.path)) {
    playback.recordAccess(session, viewerOf(request), [file.index], file.height, false);
  }
}
/**
 * Sends a segment (Range requests allowed) and says whether the viewer obtained all of it: a
 * complete 200 to a GET, or a 206 whose range was the whole file. HEAD, partial ranges, a
 * hang-up or a missing file obtain nothing, so access records cannot be inflated by probing.
 */
function sentWhole(response: Response, path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    response.sendFile(path, { headers: { 'Content-Type': 'video/mp2t' } }, (error?: Error) => {
      if (error && !response.headersSent) {
        reject(
          new ApiError(HttpStatus.NOT_FOUND, 'MEDIA_UNAVAILABLE', 'This segment is unavailable.'),
        );
        return;
      }
      const whole = response.statusCode === 200 || wholeRange(response.get('Content-Range'));
      resolve(!error && response.req.method === 'GET' && whole);
    });
  });
}

/** Whether a 206's `Content-Range: bytes first-last/size` covers the whole file. */
function wholeRange(contentRange: string | undefined): boolean {
  const match = /^bytes 0-(\d+)\/(\d+)$/.exec(contentRange ?? '');
  return match !== null && Number(match[1]) + 1 === Number(match[2]);
}
