import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Types } from 'mongoose';
import { ApiError } from '../common/api-error.js';
import { UsersService } from '../users/users.service.js';
import {
  directoryOfUri,
  directoryUri,
  isInside,
  resolveInputName,
} from '../common/storage-paths.js';

const ROOTS_CACHE_SIZE = 10_000;
const REAL_PATH_CACHE_SIZE = 100_000;
const READ_CHECK_TTL_MS = 1000;

/** What the storage checks need of a pipeline: its owner and its directories. */
export interface PipelineStorage {
  user: Types.ObjectId;
  input: { uri: string };
  output: { uri: string };
}

/**
 * Where media may be read from and written to: only inside the storage roots of the
 * pipeline's owner, judged on real paths at every use (a directory may become a symbolic
 * link after it was checked), so that neither a symlink nor another tenant's folder is reached.
 */
@Injectable()
export class StorageService {
  /**
   * Owners' real roots and files' real paths as `isReadable` last resolved them: the viewers of
   * a film, fetching the same segment files, cost one user read and one realpath per file and
   * second, not one per request. A change of roots, or a folder or file replaced by a symbolic
   * link, takes effect within READ_CHECK_TTL_MS.
   */
  private readonly readableRoots = new LRUCache<string, string[]>({
    max: ROOTS_CACHE_SIZE,
    ttl: READ_CHECK_TTL_MS,
  });
  private readonly realPaths = new LRUCache<string, string | false>({
    max: REAL_PATH_CACHE_SIZE,
    ttl: READ_CHECK_TTL_MS,
  });

  constructor(private readonly users: UsersService) {}

  /** Checks a directory URI a pipeline of `owner` is to use; returns its canonical form. */
  async checkDirectory(owner: Types.ObjectId, uri: string, field: string): Promise<string> {
    await this.directory(owner, uri, field);
    return directoryUri(directoryOfUri(uri, field));
  }

  /** The real path of the pipeline's output directory, checked now. */
  async outputDirectory(pipeline: PipelineStorage): Promise<string> {
    return this.directory(pipeline.user, pipeline.output.uri, 'pipeline.output.uri');
  }

  /**
   * The real path of `inputName` below the pipeline's input directory, checked now; never
   * outside it. (It may not exist: the caller says so in its own words.)
   */
  async resolveInput(pipeline: PipelineStorage, inputName: string): Promise<string> {
    const realBase = await this.directory(pipeline.user, pipeline.input.uri, 'pipeline.input.uri');
    const path = resolveInputName(
      directoryOfUri(pipeline.input.uri, 'pipeline.input.uri'),
      inputName,
    );
    const realPath = await realPathOfNearestExisting(path);
    if (!isInside(realBase, realPath) || realPath === realBase) {
      throw ApiError.badRequest(
        'INVALID_INPUT_NAME',
        `input_name '${inputName.slice(0, 200)}' leads outside the pipeline's input directory (through a symbolic link).`,
      );
    }
    return realPath;
  }

  /**
   * Whether the file at `path` lies, on the real file system, inside the owner's roots (as seen
   * at most READ_CHECK_TTL_MS ago).
   */
  async isReadable(owner: Types.ObjectId, path: string): Promise<boolean> {
    const [real, roots] = await Promise.all([this.realPath(path), this.rootsForReading(owner)]);
    return real !== false && roots.some((root) => isInside(root, real));
  }

  private async realPath(path: string): Promise<string | false> {
    let real = this.realPaths.get(path);
    if (real === undefined) {
      real = await realpath(path).catch(() => false as const);
      this.realPaths.set(path, real);
    }
    return real;
  }

  private async rootsForReading(owner: Types.ObjectId): Promise<string[]> {
    const key = owner.toString();
    let roots = this.readableRoots.get(key);
    if (!roots) {
      roots = await this.users.storageRootsOf(owner);
      this.readableRoots.set(key, roots);
    }
    return roots;
  }

  /** An existing directory whose real path lies inside the owner's roots: its real path. */
  private async directory(owner: Types.ObjectId, uri: string, field: string): Promise<string> {
    const path = directoryOfUri(uri, field);
    const [real, roots] = await Promise.all([
      realPathOfNearestExisting(path),
      this.users.storageRootsOf(owner),
    ]);
    if (!roots.some((root) => isInside(root, real))) {
      throw ApiError.badRequest(
        'URI_OUTSIDE_ROOTS',
        `${field} must lie inside your storage roots (${roots.map(directoryUri).join(', ') || 'none'}; see storage_roots of GET /v1/users/me).`,
      );
    }
    const info = await stat(real).catch(() => null);
    if (!info) {
      throw ApiError.badRequest(
        'DIRECTORY_NOT_FOUND',
        `${field} ${uri.slice(0, 200)} does not exist: create the directory first.`,
      );
    }
    if (!info.isDirectory()) {
      throw ApiError.badRequest(
        'NOT_A_DIRECTORY',
        `${field} ${uri.slice(0, 200)} is a file, not a directory.`,
      );
    }
    return real;
  }
}

/** realpath of `path`, or of its nearest existing ancestor joined with the rest. */
async function realPathOfNearestExisting(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return resolve(await realPathOfNearestExisting(parent), path.slice(parent.length + 1));
  }
}
