import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { randomBytes } from 'node:crypto';
import { ApiError } from '../common/api-error.js';
import type { Paging } from '../common/dto/query.dto.js';
import { lookUpEach } from '../common/id-lookups.js';
import { findPage, type Page, type Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { OwnedRepository } from '../common/owned-repository.js';
import { RefExpander } from '../common/ref-expander.service.js';
import { Link, Ref } from '../common/refs.js';
import { sha256 } from '../common/secrets.js';
import { JobsService } from '../jobs/jobs.service.js';
import { WatermarkKeysService } from '../watermarking/watermark-keys.service.js';
import { segmentCountOf } from '../jobs/schemas/job.schema.js';
import { EdgeTokensService } from '../edge-tokens/edge-tokens.service.js';
import type { Job } from '../jobs/schemas/job.schema.js';
import { AccessRecorder, type Viewer } from './access-recorder.service.js';
import { AccessSummaryStore } from './access-summary.store.js';
import { AutographRoster } from './autograph-roster.js';
import { type AccessStat, accessStats } from './access-stats.js';
import type { AutographDto, NewAutograph } from './dto/autograph.dto.js';
import { PlaybackService } from './playback.service.js';
import { Autograph } from './schemas/autograph.schema.js';

/** One segment an edge delivered whole to a viewer (from its access log). */
export interface EdgeDelivery {
  autograph: string;
  viewer: Viewer;
  segment: number;
  height: number;
  at: Date;
}

export function toAutographDto(
  autograph: Stored<Autograph>,
  stats: AccessStat[],
  playbackToken: string,
): AutographDto {
  const play = `/v1/play/${playbackToken}`;
  return {
    id: autograph._id.toString(),
    tag: autograph.tag,
    job: new Ref('job', autograph.job.toString()),
    playback: {
      hls_url: new Link(`${play}/master.m3u8`),
      download_url: new Link(`${play}/download.mp4`),
      edge: null,
    },
    access_stats: stats,
    revoked_at: autograph.revoked_at?.getTime() ?? null,
    user: new Ref('user', autograph.user.toString()),
    application: Ref.of('application', autograph.application),
    created_at: autograph.created_at.getTime(),
    updated_at: autograph.updated_at.getTime(),
  };
}

@Injectable()
export class AutographsService {
  private readonly owned: OwnedRepository<Autograph, AutographDto>;
  constructor(
    @InjectModel(Autograph.name) private readonly autographs: Model<Autograph>,
    private readonly summaryStore: AccessSummaryStore,
    private readonly roster: AutographRoster,
    private readonly recorder: AccessRecorder,
    private readonly playback: PlaybackService,
    private readonly jobs: JobsService,
    expander: RefExpander,
    private readonly keys: WatermarkKeysService,
    private readonly edgeTokens: EdgeTokensService,
  ) {
    this.owned = new OwnedRepository(autographs, 'autograph', expander, (autograph) =>
      this.toDto(autograph),
    );
  }

  private toDto(autograph: Stored<Autograph>, stats: AccessStat[] = []): AutographDto {
    return toAutographDto(autograph, stats, this.keys.playbackToken(autograph._id.toString()));
  }

  /** Creates one autograph or a batch (all or nothing: a taken tag refuses the whole batch). */
  async create(
    principal: Principal,
    jobId: string,
    requested: NewAutograph[],
  ): Promise<AutographDto[]> {
    const job = await this.jobs.findOwned(principal, jobId);
    const tags = requested.map((item) => item.tag ?? `autograph_${randomBytes(6).toString('hex')}`);
    const repeated = tags.find((tag, index) => tags.indexOf(tag) !== index);
    if (repeated !== undefined) {
      throw ApiError.badRequest(
        'DUPLICATE_TAG',
        `The tag '${repeated}' appears more than once in the request.`,
      );
    }
    const now = new Date();
    const batch = tags.map((tag) => {
      const _id = new Types.ObjectId();
      return {
        _id,
        created_at: now,
        updated_at: now,
        revoked_at: null,
        job: job._id,
        user: job.user,
        application: principal.applicationId,
        tag,
        playback_token_hash: sha256(this.keys.playbackToken(_id.toString())),
      };
    });
    let created: Stored<Autograph>[];
    try {
      // lean: no per-document hydration, which dominates the cost of a 10,000 batch.
      created = (await this.autographs.insertMany(batch, { lean: true })) as Stored<Autograph>[];
    } catch (error) {
      // A tag is taken (the unique index on job and tag says so, as no query before the insert
      // could under a race): undo what this request inserted, then name the taken tags.
      await this.autographs.deleteMany({ _id: { $in: batch.map((b) => b._id) } });
      if ((error as { code?: number }).code === 11000) {
        await this.refuseTakenTags(job._id, tags);
        throw ApiError.conflict(
          'TAG_TAKEN',
          'A concurrent request took one of these tags; tags are unique per job.',
        );
      }
      throw error;
    }
    await this.roster.enter(
      job._id,
      created.map((autograph) => autograph._id),
    );
    const dtos = created.map((autograph) => this.toDto(autograph));
    // A token is a short-lived credential: issued in answers about one autograph only.
    return dtos.length === 1 ? [await this.withEdge(dtos[0], created[0], job)] : dtos;
  }

  async listForJob(
    principal: Principal,
    jobId: string,
    paging: Paging,
  ): Promise<Page<AutographDto>> {
    const job = await this.jobs.findOwned(principal, jobId);
    const page =
      paging.sort === 'created_at'
        ? await this.rosterPage(job._id, paging)
        : await findPage(this.autographs, { job: job._id }, paging);
    const stats = await this.statsOf(
      page.items.map((a) => a._id),
      segmentCountOf(job),
    );
    return {
      ...page,
      items: page.items.map((a) => this.toDto(a, stats.get(a._id.toString()) ?? [])),
    };
  }

  /** A page in the order the autographs were made, read by `_id` (no scan on any database). */
  private async rosterPage(job: Types.ObjectId, paging: Paging): Promise<Page<Stored<Autograph>>> {
    const { start, limit, direction } = paging;
    const { ids, total } = await this.roster.page(job, start, limit, direction);
    const found = await lookUpEach(ids, (id) =>
      this.autographs.findById(id).lean<Stored<Autograph>>().exec(),
    );
    return { items: found.filter((autograph) => autograph !== null), total, start, limit };
  }

  async get(principal: Principal, id: string): Promise<AutographDto> {
    const autograph = await this.findOwned(principal, id);
    const job = await this.jobs.findOwned(principal, autograph.job.toString());
    const stats = await this.statsOf([autograph._id], segmentCountOf(job));
    return this.withEdge(this.toDto(autograph, stats.get(id) ?? []), autograph, job);
  }

  /** Adds a fresh edge token (`playback.edge`) to a live autograph of a finished job. */
  private async withEdge(
    dto: AutographDto,
    autograph: Stored<Autograph>,
    job: Stored<Job>,
  ): Promise<AutographDto> {
    if (!autograph.revoked_at) {
      dto.playback.edge = await this.edgeTokens.issue(autograph._id.toString(), job);
    }
    return dto;
  }

  /** Revokes the playback URLs; the autograph stays, so backtraces can still name it. */
  async revoke(principal: Principal, id: string): Promise<void> {
    const autograph = await this.findOwned(principal, id);
    if (!autograph.revoked_at) {
      await this.autographs
        .updateOne({ _id: autograph._id }, { $set: { revoked_at: new Date() } })
        .exec();
      await this.playback.revoked(autograph._id);
    }
  }

  /** Ids of the revoked autographs of these jobs (which the caller has checked are theirs). */
  async revokedIn(jobIds: Types.ObjectId[]): Promise<string[]> {
    const revoked = await this.autographs
      .find({ job: { $in: jobIds }, revoked_at: { $ne: null } }, { _id: 1 })
      .lean<{ _id: Types.ObjectId }[]>()
      .exec();
    return revoked.map(({ _id }) => _id.toString());
  }

  /**
   * Counts segments an edge delivered in the access summaries, exactly as the API's own
   * playback counts them. Deliveries of autographs the caller does not own, or of positions
   * outside the job, are left out; answers how many were counted.
   */
  async recordDelivered(principal: Principal, deliveries: EdgeDelivery[]): Promise<number> {
    // Each autograph read by _id (the look-up FerretDB answers from an index), once per batch.
    const owned: Stored<Autograph>[] = [];
    for (const id of new Set(deliveries.map((d) => d.autograph))) {
      const autograph = await this.owned.findOwned(principal, id).catch(() => null);
      if (autograph) owned.push(autograph);
    }
    const segmentCounts = new Map<string, number>();
    for (const jobId of new Set(owned.map((a) => a.job.toString()))) {
      const job = await this.jobs.findById(new Types.ObjectId(jobId));
      segmentCounts.set(jobId, job ? segmentCountOf(job) : 0);
    }
    const autographs = new Map(owned.map((a) => [a._id.toString(), a]));
    let counted = 0;
    for (const delivery of deliveries) {
      const autograph = autographs.get(delivery.autograph);
      const segmentCount = autograph ? (segmentCounts.get(autograph.job.toString()) ?? 0) : 0;
      if (!autograph || delivery.segment >= segmentCount) continue;
      this.recorder.record({
        autograph: autograph._id,
        viewer: delivery.viewer,
        segments: [delivery.segment],
        segmentCount,
        height: delivery.height,
        download: false,
        at: delivery.at,
      });
      counted += 1;
    }
    return counted;
  }

  /** Every autograph of a job (id and tag), oldest first: the rows of its codebook. */
  async identitiesOf(jobId: Types.ObjectId): Promise<{ _id: Types.ObjectId; tag: string }[]> {
    return this.autographs
      .find({ job: jobId }, { _id: 1, tag: 1 })
      .sort({ _id: 1 })
      .lean<{ _id: Types.ObjectId; tag: string }[]>()
      .exec();
  }

  /**
   * Access stats per autograph id, merged from the access summaries (this process's pending
   * ones written first, so a viewer's request shows at once here, within a second elsewhere).
   */
  async statsOf(ids: Types.ObjectId[], segmentCount: number): Promise<Map<string, AccessStat[]>> {
    await this.recorder.flush();
    const found = await this.summaryStore.read(ids);
    return new Map([...found].map(([key, list]) => [key, accessStats(list, segmentCount)]));
  }

  private async findOwned(principal: Principal, id: string): Promise<Stored<Autograph>> {
    return this.owned.findOwned(principal, id);
  }

  private async refuseTakenTags(jobId: Types.ObjectId, tags: string[]): Promise<void> {
    const taken = await this.autographs
      .find({ job: jobId, tag: { $in: tags } }, { tag: 1 })
      .limit(5)
      .lean<{ tag: string }[]>()
      .exec();
    if (taken.length > 0) {
      throw ApiError.conflict(
        'TAG_TAKEN',
        `This job already has autographs tagged ${taken.map((t) => `'${t.tag}'`).join(', ')}; tags are unique per job.`,
      );
    }
  }
}
