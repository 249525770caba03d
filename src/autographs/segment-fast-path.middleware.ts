import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { PlaybackService } from './playback.service.js';
import { sendSegment } from './segment-response.js';

const SEGMENT_PATH = /^\/v1\/play\/([^/]+)\/([^/]+)\/(segment_\d+\.ts)$/;

/**
 * Serves segment GETs before Nest's route pipeline (guard, pipes, interceptor, parameter
 * factories), which cost about a fifth of their throughput: every viewer fetches one every
 * segment duration. Only a segment that can be sent is sent here; any other request, and any
 * failure before a byte is sent, goes on to PlaybackController, which answers it (errors
 * included) exactly as before.
 */
@Injectable()
export class SegmentFastPath implements NestMiddleware {
  constructor(private readonly playback: PlaybackService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const match = SEGMENT_PATH.exec(request.path);
    if (!match) return next();
    const [, token, rendition, segment] = match;
    sendSegment(this.playback, { token, rendition, segment }, request, response).catch(() => {
      if (!response.headersSent) next();
    });
  }
}
