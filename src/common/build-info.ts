import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What software produced a result: stated in every evidence document. */
export interface BuildInfo {
  version: string;
  /** The git commit, from GIT_COMMIT (set by a deployment without .git) or the checkout. */
  commit: string;
}

let cached: BuildInfo | undefined;

/** The running software's version (package.json) and commit, read once. */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  // package.json is above this file, whether it runs from src/, dist/ or dist-bench/.
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json')) && dirname(directory) !== directory) {
    directory = dirname(directory);
  }
  const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
    version?: string;
  };
  cached = { version: manifest.version ?? 'unknown', commit: gitCommit(directory) };
  return cached;
}

function gitCommit(directory: string): string {
  if (process.env.GIT_COMMIT) return process.env.GIT_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: directory, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
