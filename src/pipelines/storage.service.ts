import { Injectable, type OnModuleInit } from '@nestjs/common';
import { mkdir, realpath } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Environment } from '../config/environment.js';
import { ApiError } from '../common/api-error.js';
import { directoryOfUri, directoryUri, isInside, resolveInputName } from './storage-paths.js';

/**
 * Where media may be read from and written to: only below the FILE_ROOTS directories,
 * judged on real paths so that a symlink cannot lead outside.
 */
@Injectable()
export class StorageService implements OnModuleInit {
  private roots: string[] = [];

  constructor(private readonly environment: Environment) {}

  async onModuleInit(): Promise<void> {
    const configured = this.environment.FILE_ROOTS.split(',')
      .map((root) => root.trim())
      .filter(Boolean)
      .map((root) => resolve(root));
    this.roots = await Promise.all(
      configured.map(async (root) => {
        await mkdir(root, { recursive: true });
        return realpath(root);
      }),
    );
  }

  get rootDirectories(): readonly string[] {
    return this.roots;
  }

  /** Checks a pipeline's directory URI and returns its canonical form. */
  async checkDirectory(uri: string, field: string): Promise<string> {
    const path = directoryOfUri(uri, field);
    const real = await realPathOfNearestExisting(path);
    if (!this.roots.some((root) => isInside(root, path) && isInside(root, real))) {
      throw ApiError.badRequest(
        'URI_OUTSIDE_ROOTS',
        `${field} must lie inside one of the storage roots (FILE_ROOTS): ${this.roots.map(directoryUri).join(', ')}.`,
      );
    }
    return directoryUri(path);
  }

  /** The absolute path of `inputName` below the pipeline's input URI; never outside it. */
  async resolveInput(inputUri: string, inputName: string): Promise<string> {
    const baseDir = directoryOfUri(inputUri, 'pipeline input');
    const path = resolveInputName(baseDir, inputName);
    const [realBase, realPath] = await Promise.all([
      realPathOfNearestExisting(baseDir),
      realPathOfNearestExisting(path),
    ]);
    if (!isInside(realBase, realPath)) {
      throw ApiError.badRequest(
        'INVALID_INPUT_NAME',
        `input_name '${inputName.slice(0, 200)}' leads outside the pipeline's input directory (through a symbolic link).`,
      );
    }
    return path;
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
