import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { join } from 'node:path';
import { sha256 } from '../auth/secrets.js';
import { ApiError } from '../common/api-error.js';
import type { Stored } from '../common/paging.js';
import {
  Job,
  segmentCountOf,
  type StoredAudioTrack,
  type StoredRendition,
} from '../jobs/schemas/job.schema.js';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { WatermarkKeysService } from '../watermarking/watermark-keys.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { IpIntelligence } from '../network/ip-intelligence.js';
import { StorageService } from '../pipelines/storage.service.js';
import { masterPlaylist, vodPlaylist } from './hls-playlists.js';
import { AccessEvent } from './schemas/access-event.schema.js';
import { Autograph } from './schemas/autograph.schema.js';

/** One viewer's playback: their autograph, the job's outputs and the codeword choosing variants. */
export interface PlaybackSession {
  autograph: Stored<Autograph>;
  job: Stored<Job> & { result: NonNullable<Job['result']> };
  codeword: Uint32Array;
}

/** Who fetched media, as the access stats record it. */
export interface Viewer {
  ip: string;
  userAgent: string;
  acceptLanguage: string;
}

const SEGMENT_NAME = /^segment_(\d{1,6})\.ts$/;
/** The index of segment `name` among `count`, or 404 naming `where`. */
function segmentIndex(name: string, count: number, where: string): number {
  const match = SEGMENT_NAME.exec(name);
  const index = match ? Number(match[1]) : -1;
  if (index < 0 || index >= count) {
    throw new ApiError(
      HttpStatus.NOT_FOUND,
      'SEGMENT_NOT_FOUND',
      `There is no segment '${name.slice(0, 40)}' in ${where}.`,
    );
  }
  return index;
}

@Injectable()
export class PlaybackService {
  constructor(
    @InjectModel(Autograph.name) private readonly autographs: Model<Autograph>,
    @InjectModel(AccessEvent.name) private readonly events: Model<AccessEvent>,
    private readonly jobs: JobsService,
    private readonly keys: WatermarkKeysService,
    private readonly engine: WatermarkEngine,
    private readonly ipIntelligence: IpIntelligence,
    private readonly storage: StorageService,
  ) {}

  /**
   * 404 unless every file still lies inside the job owner's storage roots: a folder the job
   * wrote may have been replaced by a symbolic link since.
   */
  async checkReadable(session: PlaybackSession, paths: string[]): Promise<void> {
    for (const path of paths) {
      if (!(await this.storage.isReadable(session.job.user, path))) {
        throw new ApiError(
          HttpStatus.NOT_FOUND,
          'MEDIA_UNAVAILABLE',
          'The media of this playback link is no longer available.',
        );
      }
    }
  }

  /** Unknown or revoked token → 404; a job not ready → 409. */
  async session(token: string): Promise<PlaybackSession> {
    const autograph = await this.autographs
      .findOne({ playback_token_hash: sha256(token), revoked_at: null })
      .lean<Stored<Autograph>>()
      .exec();
    if (!autograph) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'PLAYBACK_NOT_FOUND',
        'This playback link is unknown or has been revoked.',
      );
    }
    const job = await this.jobs.findById(autograph.job);
    if (!job?.result || job.status !== 'SUCCESS') {
      throw ApiError.conflict(
        'JOB_NOT_READY',
        `The video is not ready yet (job status ${job?.status ?? 'unknown'}, ${job?.percentage_completed ?? 0}% done); try again later.`,
      );
    }
    const segmentCount = segmentCountOf(job);
    const codeword = this.keys.codeword(job._id.toString(), autograph._id.toString(), segmentCount);
    return { autograph, job: { ...job, result: job.result }, codeword };
  }

  /** RFC 8216 master playlist of the job's renditions (and languages). */
  masterPlaylist({ job }: PlaybackSession): string {
    return masterPlaylist(job.result);
  }

  /** RFC 8216 VOD media playlist of an alternate audio track (the same for every viewer). */
  audioPlaylist(session: PlaybackSession, position: string): string {
    return vodPlaylist(this.alternateAudio(session, position).segments.map((s) => s.duration));
  }

  /** The file of one segment of an alternate audio track. */
  audioSegmentFile(session: PlaybackSession, position: string, name: string): string {
    const { segments } = this.alternateAudio(session, position);
    const index = segmentIndex(name, segments.length, `audio track ${position}`);
    return join(session.job.result.output_dir, segments[index].path);
  }

  /** RFC 8216 VOD media playlist of one rendition. */
  mediaPlaylist(session: PlaybackSession, renditionName: string): string {
    return vodPlaylist(this.rendition(session, renditionName).segments.map((s) => s.duration));
  }

  /** The file of segment `name` in the variant this viewer's codeword selects. */
  segmentFile(
    session: PlaybackSession,
    renditionName: string,
    name: string,
  ): { path: string; index: number; height: number } {
    const rendition = this.rendition(session, renditionName);
    const index = segmentIndex(name, rendition.segments.length, renditionName);
    return { path: this.variantPath(session, rendition, index), index, height: rendition.height };
  }

  /**
   * Every segment of one rendition, each in this viewer's variant, in order, and the alternate
   * audio tracks' files (the other languages).
   */
  downloadFiles(
    session: PlaybackSession,
    renditionName?: string,
  ): { paths: string[]; height: number; extraAudio: string[] } {
    const { result } = session.job;
    const rendition = renditionName ? this.rendition(session, renditionName) : result.renditions[0];
    return {
      paths: rendition.segments.map((_, index) => this.variantPath(session, rendition, index)),
      height: rendition.height,
      extraAudio: (result.audio_tracks ?? []).flatMap(({ alternate }) =>
        alternate ? [join(result.output_dir, alternate.file)] : [],
      ),
    };
  }

  async recordAccess(
    session: PlaybackSession,
    viewer: Viewer,
    segments: number[],
    height: number,
    download: boolean,
  ): Promise<void> {
    const { ip_country, ip_type } = this.ipIntelligence.lookup(viewer.ip);
    await this.events.create({
      autograph: session.autograph._id,
      ip_address: viewer.ip,
      ip_country,
      ip_type,
      user_agent: viewer.userAgent,
      accept_language: viewer.acceptLanguage,
      segments,
      height,
      download,
      at: new Date(),
    });
  }

  private rendition(session: PlaybackSession, name: string): StoredRendition {
    const rendition = session.job.result.renditions.find((r) => `${r.height}p` === name);
    if (!rendition) {
      const known = session.job.result.renditions.map((r) => `${r.height}p`).join(', ');
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'RENDITION_NOT_FOUND',
        `There is no rendition '${name.slice(0, 20)}'; this video has ${known}.`,
      );
    }
    return rendition;
  }

  private alternateAudio(
    session: PlaybackSession,
    position: string,
  ): NonNullable<StoredAudioTrack['alternate']> {
    const tracks = session.job.result.audio_tracks ?? [];
    const alternate = /^\d{1,2}$/.test(position) ? tracks[Number(position)]?.alternate : null;
    if (!alternate) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'AUDIO_TRACK_NOT_FOUND',
        `There is no alternate audio track '${position.slice(0, 20)}'; this video has ${Math.max(0, tracks.length - 1)} (numbered from 1).`,
      );
    }
    return alternate;
  }

  private variantPath(session: PlaybackSession, rendition: StoredRendition, index: number): string {
    const segment = rendition.segments[index];
    const variant = this.engine.variantOf(session.codeword, index);
    return join(session.job.result.output_dir, variant === 'a' ? segment.a : segment.b);
  }
}
