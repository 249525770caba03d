import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { LRUCache } from 'lru-cache';
import type { Model, Types } from 'mongoose';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../common/secrets.js';
import { ApiError } from '../common/api-error.js';
import type { Stored } from '../common/paging.js';
import {
  type Job,
  segmentCountOf,
  type StoredAudioTrack,
  type StoredRendition,
} from '../jobs/schemas/job.schema.js';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import { WatermarkKeysService } from '../watermarking/watermark-keys.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { StorageService } from '../pipelines/storage.service.js';
import { AccessRecorder, type Viewer } from './access-recorder.service.js';
import { masterPlaylist, vodPlaylist } from './hls-playlists.js';
import { PersonalDownload } from './personal-download.js';
import { RevocationSignal } from './revocation-signal.js';
import { Autograph, autographIdOfToken } from './schemas/autograph.schema.js';

export type { Viewer } from './access-recorder.service.js';

/** What playback needs of a finished job; it never changes after SUCCESS, so it is cached. */
type PlayableJob = Stored<Job> & { result: NonNullable<Job['result']>; segmentCount: number };

/** One viewer's playback: their autograph, the job's outputs and the codeword choosing variants. */
export interface PlaybackSession {
  autograph: Stored<Autograph>;
  job: PlayableJob;
  codeword: Uint32Array;
}

/** Finished jobs kept in memory (each holds its segment list). */
const JOB_CACHE_SIZE = 256;
/**
 * How long a looked-up autograph is reused: a viewer's whole session costs one read. A revocation
 * empties the cache at once on the server that made it and within REVOCATION_POLL_MS on the others
 * (RevocationSignal); the TTL only bounds how long anything else edited in the database is missed.
 */
const AUTOGRAPH_TTL_MS = 60_000;
const AUTOGRAPH_CACHE_SIZE = 10_000;
/** Codewords kept in memory (a few hundred bytes each for a feature film). */
const CODEWORD_CACHE_SIZE = 100_000;

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

/**
 * A viewer's playback. The autograph (read by `_id`, reused for AUTOGRAPH_TTL_MS), the finished
 * job and the codeword come from bounded caches, and access is recorded in memory
 * (AccessRecorder): no work grows with the number of events, autographs or segments.
 */
@Injectable()
export class PlaybackService {
  private readonly playableJobs = new LRUCache<string, PlayableJob>({ max: JOB_CACHE_SIZE });
  private readonly codewords = new LRUCache<string, Uint32Array>({ max: CODEWORD_CACHE_SIZE });
  private readonly playing = new LRUCache<string, Stored<Autograph>>({
    max: AUTOGRAPH_CACHE_SIZE,
    ttl: AUTOGRAPH_TTL_MS,
  });

  constructor(
    @InjectModel(Autograph.name) private readonly autographs: Model<Autograph>,
    private readonly jobs: JobsService,
    private readonly keys: WatermarkKeysService,
    private readonly engine: WatermarkEngine,
    private readonly recorder: AccessRecorder,
    private readonly storage: StorageService,
    private readonly revocations: RevocationSignal,
  ) {
    revocations.onRevocation(() => this.playing.clear());
  }

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
    const autograph = await this.playable(token);
    const job = await this.playableJob(autograph.job);
    const autographId = autograph._id.toString();
    let codeword = this.codewords.get(autographId);
    if (!codeword) {
      codeword = this.keys.codeword(job._id.toString(), autographId, job.segmentCount);
      this.codewords.set(autographId, codeword);
    }
    return { autograph, job, codeword };
  }

  /** Stops a revoked autograph's playback: at once here, within REVOCATION_POLL_MS elsewhere. */
  async revoked(autographId: Types.ObjectId): Promise<void> {
    this.playing.delete(autographId.toString());
    await this.revocations.announce();
  }

  /**
   * The live autograph a token names: found by the id it starts with (cached briefly), then
   * the token's hash compared in constant time with the stored one.
   */
  private async playable(token: string): Promise<Stored<Autograph>> {
    const id = autographIdOfToken(token);
    let autograph = id && this.playing.get(id.toString());
    if (id && !autograph) {
      autograph = await this.autographs.findById(id).lean<Stored<Autograph>>().exec();
      if (autograph) this.playing.set(id.toString(), autograph);
    }
    if (!autograph || autograph.revoked_at || !sameHash(autograph.playback_token_hash, token)) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'PLAYBACK_NOT_FOUND',
        'This playback link is unknown or has been revoked.',
      );
    }
    return autograph;
  }

  private async playableJob(jobId: Types.ObjectId): Promise<PlayableJob> {
    const cached = this.playableJobs.get(jobId.toString());
    if (cached) return cached;
    const job = await this.jobs.findById(jobId);
    if (!job?.result || job.status !== 'SUCCESS') {
      throw ApiError.conflict(
        'JOB_NOT_READY',
        `The video is not ready yet (job status ${job?.status ?? 'unknown'}, ${job?.percentage_completed ?? 0}% done); try again later.`,
      );
    }
    const playable = { ...job, result: job.result, segmentCount: segmentCountOf(job) };
    this.playableJobs.set(jobId.toString(), playable);
    return playable;
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
   * This viewer's MP4 of one rendition (the first by default): the stored init and fragments
   * their codeword picks. 404 for a job that ran before downloads were packaged.
   */
  personalDownload(
    session: PlaybackSession,
    renditionName?: string,
  ): { download: PersonalDownload; height: number } {
    const { job, codeword } = session;
    const rendition = renditionName
      ? this.rendition(session, renditionName)
      : job.result.renditions[0];
    if (!rendition.download) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'DOWNLOAD_UNAVAILABLE',
        'This video was prepared before MP4 downloads were packaged; run its job again to offer them.',
      );
    }
    const variants = rendition.segments.map((_, index) => this.engine.variantOf(codeword, index));
    const version = `${job._id.toString()}/${job.lease_id}/${rendition.height}`;
    const download = new PersonalDownload(
      job.result.output_dir,
      rendition.download,
      variants,
      version,
    );
    return { download, height: rendition.height };
  }

  /** Counts a request in the viewer's access summary (written within a second, see AccessRecorder). */
  recordAccess(
    session: PlaybackSession,
    viewer: Viewer,
    segments: number[],
    height: number,
    download: boolean,
  ): void {
    this.recorder.record({
      autograph: session.autograph._id,
      viewer,
      segments,
      segmentCount: session.job.segmentCount,
      height,
      download,
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

function sameHash(storedHash: string, token: string): boolean {
  const [a, b] = [Buffer.from(storedHash), Buffer.from(sha256(token))];
  return a.length === b.length && timingSafeEqual(a, b);
}
