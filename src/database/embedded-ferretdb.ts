import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Built from tools/ferretdb by `npm ci` (tools/ferretdb/build.mjs); git-ignored. Found from the
 * project root above this file (src/, dist/ or dist-bench/src/).
 */
export const FERRETDB_BINARY = join(projectRoot(), 'tools', 'ferretdb', 'bin', 'ferretdb');

function projectRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'tools', 'ferretdb', 'main.go'))) {
    const parent = dirname(directory);
    if (parent === directory) return process.cwd();
    directory = parent;
  }
  return directory;
}
const READY_PREFIX = 'FERRETDB_URI=';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** The database the application uses on the embedded server. */
const DATABASE_NAME = 'autograph';

export class EmbeddedDatabaseUnavailableError extends Error {}

/**
 * FerretDB (MongoDB wire protocol on SQLite) in a child process, its data in `dataDir`. Used
 * when MONGODB_URI is unset. The child cannot outlive this process: it exits when its stdin
 * (a pipe held by this process, closed by the kernel even on kill -9) reaches end of file.
 */
export class EmbeddedFerretDb {
  private child?: ChildProcess;

  /** Starts the server on a free loopback port and resolves with its connection URI. */
  async start(dataDir: string): Promise<string> {
    if (!existsSync(FERRETDB_BINARY)) {
      throw new EmbeddedDatabaseUnavailableError(
        `The embedded database (FerretDB) is not built: install Go ≥ 1.24 (https://go.dev/dl) and run npm ci again, or set MONGODB_URI to a MongoDB server.`,
      );
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const child = spawn(FERRETDB_BINARY, [`--data-dir=${dataDir}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;

    const uri = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        fail(new Error(`FerretDB did not start within ${START_TIMEOUT_MS} ms: ${output}`));
      }, START_TIMEOUT_MS);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      };
      child.on('error', fail);
      child.on('exit', (code) => fail(new Error(`FerretDB exited (${code}): ${output.trim()}`)));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((l) => l.startsWith(READY_PREFIX));
        if (line) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(line.slice(READY_PREFIX.length).trim());
        }
      });
    });
    const url = new URL(uri);
    url.pathname = `/${DATABASE_NAME}`;
    return url.toString();
  }

  /** Stops the server cleanly (SIGTERM: FerretDB closes its SQLite files), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS).unref();
    });
  }
}
