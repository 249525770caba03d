import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { basename } from 'node:path';
import { ApiError } from '../common/api-error.js';
import type { Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { AutographsService, type EdgeDelivery } from '../autographs/autographs.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import type { Job, JobResult } from '../jobs/schemas/job.schema.js';
import { masterPlaylist, vodPlaylist } from '../autographs/hls-playlists.js';
import type {
  EdgeConfigDto,
  EdgeJobDto,
  EdgeLogLineDto,
  EdgeLogReceiptDto,
  EdgeRevocationsDto,
} from './dto/edge.dto.js';
import { EdgeTokensService } from '../edge-tokens/edge-tokens.service.js';
import { EdgeLogStream } from './schemas/edge-log-stream.schema.js';
import { paceInfoSidecar } from './wm-pace-info.js';

type FinishedJob = Stored<Job> & { result: JobResult };

/**
 * What a CDN edge needs from the API: the configuration of a job set (neutral playlists,
 * variant files, WMPaceInfo, token keys), the revocation list, and the ingestion of its access
 * logs into the same access summaries the API's own playback writes.
 */
@Injectable()
export class EdgeService {
  /** Batches of one stream are counted one after another (see ingest). */
  private readonly streamQueues = new Map<string, Promise<unknown>>();

  constructor(
    @InjectModel(EdgeLogStream.name) private readonly streams: Model<EdgeLogStream>,
    private readonly jobs: JobsService,
    private readonly autographs: AutographsService,
    private readonly tokens: EdgeTokensService,
  ) {}

  async config(principal: Principal, jobIds: string[]): Promise<EdgeConfigDto> {
    const jobs = await this.finishedJobs(principal, jobIds);
    const keys: Record<string, string> = {};
    for (const job of jobs) {
      const { kid, key } = this.tokens.keyOf(job.user.toString());
      keys[kid] = key.toString('base64');
    }
    return { keys, jobs: jobs.map((job) => this.edgeJob(job)) };
  }

  async revocations(principal: Principal, jobIds: string[]): Promise<EdgeRevocationsDto> {
    const jobs = await Promise.all(jobIds.map((id) => this.jobs.findOwned(principal, id)));
    const autographs = await this.autographs.revokedIn(jobs.map((job) => job._id));
    return { autographs, generated_at: Date.now() };
  }

  /**
   * Counts the whole segment deliveries of a batch of edge log lines. A line is identified by
   * its stream and offset: each stream remembers the offset after its last counted line, so a
   * line sent again (a shipper retrying after a crash) is not counted twice.
   */
  async ingest(principal: Principal, lines: EdgeLogLineDto[]): Promise<EdgeLogReceiptDto> {
    const byStream = new Map<string, EdgeLogLineDto[]>();
    for (const line of lines) {
      const key = `${principal.userId.toString()}:${line.stream}`;
      const streamLines = byStream.get(key) ?? [];
      streamLines.push(line);
      byStream.set(key, streamLines);
    }
    const receipt = { received: lines.length, counted: 0, duplicates: 0, ignored: 0 };
    for (const [key, streamLines] of byStream) {
      const previous = this.streamQueues.get(key) ?? Promise.resolve();
      const run = previous
        .catch(() => undefined)
        .then(() => this.ingestStream(principal, key, streamLines));
      this.streamQueues.set(key, run);
      const { counted, duplicates, ignored } = await run;
      if (this.streamQueues.get(key) === run) this.streamQueues.delete(key);
      receipt.counted += counted;
      receipt.duplicates += duplicates;
      receipt.ignored += ignored;
    }
    return receipt;
  }

  private async ingestStream(
    principal: Principal,
    key: string,
    lines: EdgeLogLineDto[],
  ): Promise<Omit<EdgeLogReceiptDto, 'received'>> {
    const mark = await this.streams.findById(key).lean<EdgeLogStream>().exec();
    const from = mark?.next_offset ?? 0;
    const fresh = lines.filter((line) => line.offset >= from).sort((a, b) => a.offset - b.offset);
    const duplicates = lines.length - fresh.length;
    // Only what was delivered counts, as in the API's playback: a whole 200 answer to a GET.
    const delivered = fresh.filter((l) => l.method === 'GET' && l.status === 200 && l.complete);
    const counted = await this.autographs.recordDelivered(
      principal,
      delivered.map((line): EdgeDelivery => ({
        autograph: line.autograph,
        viewer: { ip: line.ip, userAgent: line.user_agent, acceptLanguage: line.accept_language },
        segment: line.position,
        height: line.height,
        at: new Date(line.time),
      })),
    );
    if (fresh.length > 0) {
      const next_offset = fresh[fresh.length - 1].offset + 1;
      await this.streams
        .updateOne({ _id: key }, { $set: { next_offset } }, { upsert: true })
        .exec();
    }
    return { counted, duplicates, ignored: fresh.length - counted };
  }

  private async finishedJobs(principal: Principal, jobIds: string[]): Promise<FinishedJob[]> {
    const jobs = await Promise.all(jobIds.map((id) => this.jobs.findOwned(principal, id)));
    return jobs.map((job) => {
      if (job.status !== 'SUCCESS' || !job.result) {
        throw ApiError.conflict(
          'JOB_NOT_READY',
          `Job ${job._id.toString()} is ${job.status}: an edge can serve finished jobs only.`,
        );
      }
      return { ...job, result: job.result };
    });
  }

  /**
   * One job as an edge serves it. Segment URIs are the variant A files' names (whatever the
   * job wrote, MPEG-TS or CMAF) under their rendition's folder, so playlists are neutral.
   */
  private edgeJob(job: FinishedJob): EdgeJobDto {
    const { result } = job;
    const playlists: Record<string, string> = { 'master.m3u8': masterPlaylist(result) };
    const renditions = result.renditions.map((rendition) => {
      const name = `${rendition.height}p`;
      const names = rendition.segments.map((segment) => basename(segment.a));
      playlists[`${name}/index.m3u8`] = vodPlaylist(
        rendition.segments.map((segment) => segment.duration),
        names,
      );
      return {
        name,
        height: rendition.height,
        wm_pace_info: paceInfoSidecar(names).toString('base64'),
        segments: rendition.segments.map((segment, i) => ({
          uri: `${name}/${names[i]}`,
          a: segment.a,
          b: segment.b,
        })),
      };
    });
    const unmarked = (result.audio_tracks ?? []).flatMap(({ alternate }, position) => {
      if (!alternate) return [];
      const folder = `audio/${position}`;
      const names = alternate.segments.map((segment) => basename(segment.path));
      playlists[`${folder}/index.m3u8`] = vodPlaylist(
        alternate.segments.map((segment) => segment.duration),
        names,
      );
      return alternate.segments.map((segment, i) => ({
        uri: `${folder}/${names[i]}`,
        path: segment.path,
      }));
    });
    return {
      id: job._id.toString(),
      output_dir: result.output_dir,
      kid: this.tokens.keyOf(job.user.toString()).kid,
      playlists,
      renditions,
      unmarked,
    };
  }
}
