import { Controller, Get, HttpStatus, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/auth.decorators.js';
import { RawResponse } from '../common/render.interceptor.js';
import { sendDownload } from './download-response.js';
import { PlaybackService } from './playback.service.js';
import { noStore, sendSegment, viewerOf } from './segment-response.js';

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

/**
 * What viewers fetch, through unguessable per-autograph URLs (players cannot send bearer
 * tokens). Every segment is served as the A or B variant that the autograph's codeword picks.
 */
@ApiTags('playback')
@Public()
@Controller('v1/play/:token')
export class PlaybackController {
  constructor(private readonly playback: PlaybackService) {}

  @Get('master.m3u8')
  @RawResponse()
  @ApiOperation({ summary: "HLS master playlist of a viewer's personal copy" })
  @ApiProduces(PLAYLIST_TYPE)
  @ApiOkResponse({ description: 'RFC 8216 master playlist' })
  async master(@Param('token') token: string, @Res() response: Response): Promise<void> {
    const session = await this.playback.session(token);
    response.type(PLAYLIST_TYPE).set(noStore()).send(this.playback.masterPlaylist(session));
  }

  @Get('download.mp4')
  @RawResponse()
  @ApiOperation({
    summary: 'The personal copy as one MP4 file',
    description:
      'A fragmented MP4 made of stored fragments (never re-encoded, no process per download), ' +
      'byte-identical on every request: Content-Length, a strong ETag, one byte range per ' +
      'request (206; 416 outside the file) and If-Range, so download managers can resume. ' +
      'HEAD answers the headers alone. Only the segments whose bytes were wholly sent count ' +
      'as obtained in the access stats.',
  })
  @ApiQuery({ name: 'rendition', required: false, example: '720p' })
  @ApiProduces('video/mp4')
  @ApiOkResponse({ description: 'The whole MP4' })
  @ApiResponse({ status: HttpStatus.PARTIAL_CONTENT, description: 'The requested byte range' })
  @ApiResponse({
    status: HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
    description: 'RANGE_NOT_SATISFIABLE (Content-Range: bytes */size)',
  })
  async download(
    @Param('token') token: string,
    @Query('rendition') rendition: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const session = await this.playback.session(token);
    const { download, height } = this.playback.personalDownload(session, rendition);
    await this.playback.checkReadable(session, [...new Set(download.parts.map((p) => p.path))]);
    response.type('video/mp4').set({
      ...noStore(),
      'Content-Disposition': `attachment; filename="${session.autograph._id.toString()}-${height}p.mp4"`,
    });
    const sent = await sendDownload(request, response, download);
    const segments = download.segmentsWithin(sent.start, sent.end);
    if (segments.length > 0) {
      this.playback.recordAccess(session, viewerOf(request), segments, height, true);
    }
  }

  @Get('audio/:track/index.m3u8')
  @RawResponse()
  @ApiOperation({ summary: 'HLS media playlist of an alternate audio track (another language)' })
  @ApiProduces(PLAYLIST_TYPE)
  @ApiOkResponse({ description: 'RFC 8216 media playlist' })
  async audioPlaylist(
    @Param('token') token: string,
    @Param('track') track: string,
    @Res() response: Response,
  ): Promise<void> {
    const session = await this.playback.session(token);
    response.type(PLAYLIST_TYPE).set(noStore()).send(this.playback.audioPlaylist(session, track));
  }

  @Get('audio/:track/:segment')
  @RawResponse()
  @ApiOperation({ summary: 'One segment of an alternate audio track (unmarked, not counted)' })
  @ApiProduces('video/mp2t')
  @ApiOkResponse({ description: 'MPEG-TS audio segment' })
  async audioSegment(
    @Param('token') token: string,
    @Param('track') track: string,
    @Param('segment') segment: string,
    @Res() response: Response,
  ): Promise<void> {
    const session = await this.playback.session(token);
    const path = this.playback.audioSegmentFile(session, track, segment);
    await this.playback.checkReadable(session, [path]);
    response.set(noStore()).sendFile(path, { headers: { 'Content-Type': 'video/mp2t' } });
  }

  @Get(':rendition/index.m3u8')
  @RawResponse()
  @ApiOperation({ summary: 'HLS media playlist of one rendition' })
  @ApiProduces(PLAYLIST_TYPE)
  @ApiOkResponse({ description: 'RFC 8216 media playlist' })
  async media(
    @Param('token') token: string,
    @Param('rendition') rendition: string,
    @Res() response: Response,
  ): Promise<void> {
    const session = await this.playback.session(token);
    response
      .type(PLAYLIST_TYPE)
      .set(noStore())
      .send(this.playback.mediaPlaylist(session, rendition));
  }

  @Get(':rendition/:segment')
  @RawResponse()
  @ApiOperation({ summary: "One segment, in this viewer's variant" })
  @ApiProduces('video/mp2t')
  @ApiOkResponse({ description: 'MPEG-TS segment' })
  async segment(
    @Param('token') token: string,
    @Param('rendition') rendition: string,
    @Param('segment') segment: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await sendSegment(this.playback, { token, rendition, segment }, request, response);
  }
}
