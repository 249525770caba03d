import { Injectable, Logger } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { Model, Types } from 'mongoose';
import { ApiError } from '../common/api-error.js';
import type { Paging } from '../common/dto/query.dto.js';
import { type Page, type Stored } from '../common/paging.js';
import type { Principal } from '../common/principal.js';
import { OwnedRepository } from '../common/owned-repository.js';
import { RefExpander } from '../common/ref-expander.service.js';
import { Ref } from '../common/refs.js';
import { ACCEPTED_CONTAINERS } from '../watermarking/engine-failures.js';
import { WatermarkEngine } from '../watermarking/watermark-engine.service.js';
import type { FileDto } from './dto/file.dto.js';
import { File } from './schemas/file.schema.js';

export function toFileDto(file: Stored<File>): FileDto {
  return {
    id: file._id.toString(),
    uri: file.uri,
    size: file.size,
    sha256: file.sha256,
    media: file.media ? { ...file.media } : null,
    user: new Ref('user', file.user.toString()),
    application: Ref.of('application', file.application),
    created_at: file.created_at.getTime(),
    updated_at: file.updated_at.getTime(),
  };
}

async function sha256Of(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

@Injectable()
export class FilesService {
  private readonly logger = new Logger(FilesService.name);
  private readonly owned: OwnedRepository<File, FileDto>;
  constructor(
    @InjectModel(File.name) private readonly files: Model<File>,
    expander: RefExpander,
    private readonly engine: WatermarkEngine,
  ) {
    this.owned = new OwnedRepository(files, 'file', expander, toFileDto);
  }

  /**
   * Records a video the system is about to read: its size and what ffprobe sees. `name` is how
   * the client called it, for the error messages. The SHA-256 is left to the worker that reads
   * the file anyway (recordSha256): hashing a film of tens of gigabytes must not hold a request.
   */
  async registerVideo(principal: Principal, path: string, name: string): Promise<Stored<File>> {
    const info = await stat(path).catch(() => null);
    if (!info)
      throw ApiError.badRequest(
        'INPUT_NOT_FOUND',
        `There is no file '${name}' in the pipeline's input directory.`,
      );
    if (!info.isFile())
      throw ApiError.badRequest('INPUT_NOT_A_FILE', `'${name}' is not a regular file.`);
    if (info.size === 0) throw ApiError.badRequest('INPUT_EMPTY', `'${name}' is empty (0 bytes).`);
    const media = await this.engine.probe(path).catch((error: Error) => {
      // ffprobe's own words (paths, addresses, options) are for the log; the client gets the gist.
      this.logger.warn(`INPUT_NOT_VIDEO ${path}: ${error.message}`);
      throw ApiError.badRequest(
        'INPUT_NOT_VIDEO',
        `'${name}' is not a readable video: a video in ${ACCEPTED_CONTAINERS} is expected (no playlists, images or audio-only files).`,
      );
    });
    const file = await this.files.create({
      user: principal.userId,
      application: principal.applicationId,
      uri: pathToFileURL(path).href,
      size: info.size,
      media: {
        duration: media.duration_s,
        width: media.width,
        height: media.height,
        codec: media.codec,
        frame_rate: media.frame_rate,
      },
    });
    return file.toObject<Stored<File>>();
  }

  /** Reads a registered file through and stores its SHA-256. */
  async recordSha256(fileId: Types.ObjectId, path: string, signal?: AbortSignal): Promise<void> {
    const sha256 = await sha256Of(path, signal);
    await this.files.updateOne({ _id: fileId }, { sha256 }).exec();
  }

  /** The SHA-256 of a file that is not registered (e.g. a job's detection reference). */
  sha256Of(path: string, signal?: AbortSignal): Promise<string> {
    return sha256Of(path, signal);
  }

  /**
   * Records the files a job wrote (size and SHA-256), in one batch. Returns their sizes, in
   * the order given.
   */
  async registerOutputs(
    owner: Pick<Principal, 'userId' | 'applicationId'>,
    run: { job: Types.ObjectId; id: string | null },
    paths: string[],
  ): Promise<number[]> {
    const records: Partial<File>[] = [];
    for (const path of paths) {
      const [{ size }, sha256] = await Promise.all([stat(path), sha256Of(path)]);
      records.push({
        user: owner.userId,
        application: owner.applicationId,
        job: run.job,
        run: run.id,
        uri: pathToFileURL(path).href,
        size,
        sha256,
        media: null,
      });
    }
    await this.files.insertMany(records);
    return records.map((record) => record.size ?? 0);
  }

  /** Removes the output records of a job: of one run, or of every run but `keep`. */
  async removeOutputsOf(
    jobId: Types.ObjectId,
    runs: { only: string | null } | { keep: string | null },
  ): Promise<void> {
    const run = 'only' in runs ? runs.only : { $ne: runs.keep };
    await this.files.deleteMany({ job: jobId, run }).exec();
  }

  async remove(id: Types.ObjectId): Promise<void> {
    await this.files.deleteOne({ _id: id }).exec();
  }

  async get(principal: Principal, id: string): Promise<FileDto> {
    return this.owned.get(principal, id);
  }

  async list(principal: Principal, paging: Paging): Promise<Page<FileDto>> {
    return this.owned.list(principal, paging);
  }
}
