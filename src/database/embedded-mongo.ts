import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

/** npm package that ships the native jongodb launcher (an in-memory MongoDB wire-protocol server). */
const LAUNCHER_PACKAGE = '@jongodb/memory-server-bin-linux-x64-gnu';
const READY_PREFIX = 'JONGODB_URI=';
const START_TIMEOUT_MS = 30_000;

export class EmbeddedMongoUnavailableError extends Error {}

/** Locates the launcher binary, or explains why this platform cannot run it. */
export function embeddedMongoBinary(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve(`${LAUNCHER_PACKAGE}/package.json`);
  } catch {
    throw new EmbeddedMongoUnavailableError(
      `The embedded MongoDB server (${LAUNCHER_PACKAGE}) is not installed for ${process.platform}-${process.arch}. ` +
        'Set MONGODB_URI to a MongoDB server, e.g. MONGODB_URI=mongodb://127.0.0.1:27017/autograph',
    );
  }
  const binary = packageJson.replace(/package\.json$/, 'bin/jongodb');
  if (!existsSync(binary)) {
    throw new EmbeddedMongoUnavailableError(
      `${binary} is missing. Set MONGODB_URI to a MongoDB server instead.`,
    );
  }
  return binary;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A MongoDB-compatible server in a child process, holding data in memory only.
 * Used when MONGODB_URI is unset, and by the e2e suite.
 */
export class EmbeddedMongo {
  private child?: ChildProcess;
  private readonly killOnExit = (): void => {
    this.child?.kill('SIGKILL');
  };

  /** Starts the server on a free loopback port and resolves with its connection URI. */
  async start(): Promise<string> {
    const binary = embeddedMongoBinary();
    const port = await freePort();
    const child = spawn(binary, ['--host=127.0.0.1', `--port=${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    process.once('exit', this.killOnExit);

    return new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        fail(new Error(`embedded MongoDB did not start within ${START_TIMEOUT_MS} ms: ${output}`));
      }, START_TIMEOUT_MS);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      };
      child.on('error', fail);
      child.on('exit', (code) => fail(new Error(`embedded MongoDB exited (${code}): ${output}`)));
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
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    process.removeListener('exit', this.killOnExit);
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    });
  }
}
