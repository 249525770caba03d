import { Injectable, type OnModuleInit } from '@nestjs/common';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Environment } from '../config/environment.js';
import { ApiError } from '../common/api-error.js';
import type { Stored } from '../common/paging.js';
import { directoryOfUri, directoryUri, isInside } from '../common/storage-paths.js';
import type { User } from './schemas/user.schema.js';

type RootHolder = Pick<Stored<User>, '_id' | 'role' | 'storage_roots'>;

/**
 * Storage per owner: FILE_ROOTS is the server's storage, and each user may only name
 * directories inside roots of their own: the ones an admin assigned, or else
 * `<first FILE_ROOT>/<user id>/` (created on first use). An admin's roots are all of FILE_ROOTS.
 */
@Injectable()
export class StorageRoots implements OnModuleInit {
  private bases: string[] = [];

  constructor(private readonly environment: Environment) {}

  async onModuleInit(): Promise<void> {
    const configured = this.environment.FILE_ROOTS.split(',')
      .map((root) => root.trim())
      .filter(Boolean)
      .map((root) => resolve(root));
    this.bases = await Promise.all(
      configured.map(async (root) => {
        await mkdir(root, { recursive: true });
        return realpath(root);
      }),
    );
  }

  /** The user's roots as configured (absolute paths). */
  of(user: RootHolder): string[] {
    if (user.role === 'admin') return [...this.bases];
    if (user.storage_roots.length > 0) return [...user.storage_roots];
    return [join(this.bases[0], user._id.toString())];
  }

  /** The user's roots as `file://` URIs, for clients to know where to put their files. */
  urisOf(user: RootHolder): string[] {
    return this.of(user).map(directoryUri);
  }

  /**
   * The real paths of the user's roots now, creating their own default root on first use; a
   * root that vanished or no longer lies inside FILE_ROOTS counts as none.
   */
  async realOf(user: RootHolder): Promise<string[]> {
    const roots = this.of(user);
    if (user.role !== 'admin' && user.storage_roots.length === 0) {
      await mkdir(roots[0], { recursive: true });
    }
    const real = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
    return real.filter(
      (root): root is string => root !== null && this.bases.some((base) => isInside(base, root)),
    );
  }

  /** Checks roots an admin assigns: existing directories inside FILE_ROOTS; their real paths. */
  async assignable(uris: string[]): Promise<string[]> {
    return Promise.all(
      uris.map(async (uri, index) => {
        const field = `user.storage_roots[${index}]`;
        const real = await realpath(directoryOfUri(uri, field)).catch(() => null);
        if (!real || !this.bases.some((base) => isInside(base, real))) {
          throw ApiError.badRequest(
            'URI_OUTSIDE_ROOTS',
            `${field} must be an existing directory inside FILE_ROOTS (${this.bases.map(directoryUri).join(', ')}).`,
          );
        }
        if (!(await stat(real)).isDirectory()) {
          throw ApiError.badRequest('NOT_A_DIRECTORY', `${field} is a file, not a directory.`);
        }
        return real;
      }),
    );
  }
}
