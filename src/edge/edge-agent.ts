import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type {
  EdgeConfigDto,
  EdgeLogLineDto,
  EdgeLogReceiptDto,
  EdgeRevocationsDto,
} from './dto/edge.dto.js';

/** The API as an edge reaches it: with the client credentials of an application. */
export class EdgeApiClient {
  private token?: { value: string; until: number };

  constructor(
    private readonly baseUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {}

  async get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        Authorization: `Bearer ${await this.accessToken()}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as T & { error?: { error_msg: string } };
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${answer.error?.error_msg ?? ''}`);
    }
    return answer;
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const basic = Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64');
    const response = await fetch(new URL('/v1/oauth/token', this.baseUrl), {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    const answer = (await response.json()) as {
      access_token?: string;
      expires_in?: number;
      error_description?: string;
    };
    if (!response.ok || !answer.access_token) {
      throw new Error(`client credentials refused: ${answer.error_description ?? response.status}`);
    }
    // Renewed a minute before it expires.
    const until = Date.now() + ((answer.expires_in ?? 3600) - 60) * 1000;
    this.token = { value: answer.access_token, until };
    return answer.access_token;
  }
}

export async function fetchEdgeConfig(
  client: EdgeApiClient,
  jobIds: string[],
): Promise<EdgeConfigDto> {
  const query = new URLSearchParams({ job_ids: jobIds.join(',') });
  return (await client.get<{ edge_config: EdgeConfigDto }>(`/v1/edge/config?${query}`)).edge_config;
}

/** The ids of the jobs a generated edge serves. */
function servedJobs(out: string): string[] {
  const config = JSON.parse(readFileSync(join(out, 'edge-config.json'), 'utf8')) as {
    jobs: Record<string, unknown>;
  };
  return Object.keys(config.jobs);
}

/** Replaces a file in one rename: nginx never reads half of it. */
async function replaceFile(path: string, content: string): Promise<void> {
  await writeFile(`${path}.new`, content, { mode: 0o600 });
  await rename(`${path}.new`, path);
}

/**
 * Fetches the revocation list of the edge's jobs into revoked.json and, when it changed, has
 * the running nginx reload it (SIGHUP: a graceful reload, requests in flight finish). Answers
 * whether it changed.
 */
export async function syncRevocations(client: EdgeApiClient, out: string): Promise<boolean> {
  const query = new URLSearchParams({ job_ids: servedJobs(out).join(',') });
  const { revocations } = await client.get<{ revocations: EdgeRevocationsDto }>(
    `/v1/edge/revocations?${query}`,
  );
  const content = JSON.stringify({
    autographs: Object.fromEntries([...revocations.autographs].sort().map((id) => [id, 1])),
  });
  const path = join(out, 'revoked.json');
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
  await replaceFile(path, content);
  const pidFile = join(out, 'nginx.pid');
  if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGHUP');
  return true;
}

/** One line of the edge's JSON access log (see LOG_FORMAT in edge-files.ts). */
interface EdgeLogLine {
  time: number;
  ip: string;
  user_agent: string;
  accept_language: string;
  method: string;
  status: number;
  complete: string;
  autograph: string;
  position: string;
  height: string;
}

/** Where shipping stopped: the log file (inode) and the offset after the last line sent. */
interface ShipState {
  inode: number;
  offset: number;
}

const READ_CHUNK = 4 * 1024 * 1024;

/**
 * Sends the access log lines written since the last call, in batches, to the API, and
 * remembers how far it got only once the API has acknowledged them: a crash sends the last
 * batch again, which the API recognises (stream and offset) and does not count twice. Only
 * segment lines (with an autograph and a position) are sent; a new log file (another inode,
 * after rotation) is a new stream read from its start.
 */
export async function shipLog(
  client: EdgeApiClient,
  out: string,
  batchSize = 1000,
): Promise<EdgeLogReceiptDto> {
  const logPath = join(out, 'logs', 'access.log');
  const statePath = join(out, 'logs', 'ship-state.json');
  const total = { received: 0, counted: 0, duplicates: 0, ignored: 0 };
  if (!existsSync(logPath)) return total;
  const { ino, size } = statSync(logPath);
  let state: ShipState = existsSync(statePath)
    ? (JSON.parse(readFileSync(statePath, 'utf8')) as ShipState)
    : { inode: ino, offset: 0 };
  if (state.inode !== ino || state.offset > size) state = { inode: ino, offset: 0 };
  const stream = `${hostname()}:${ino}`;
  const fd = openSync(logPath, 'r');
  try {
    for (;;) {
      const { lines, next } = readLines(fd, state.offset, batchSize);
      if (next === state.offset) break;
      const batch = lines.flatMap(({ offset, text }) => toLogLine(stream, offset, text));
      if (batch.length > 0) {
        const { access_logs: receipt } = await client.post<{ access_logs: EdgeLogReceiptDto }>(
          '/v1/edge/access-logs',
          { access_logs: batch },
        );
        for (const key of Object.keys(total) as (keyof EdgeLogReceiptDto)[]) {
          total[key] += receipt[key];
        }
      }
      state = { inode: ino, offset: next };
      await replaceFile(statePath, JSON.stringify(state));
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

/** Up to `max` whole lines from `offset` and the offset after them (a partial line waits). */
function readLines(
  fd: number,
  offset: number,
  max: number,
): { lines: { offset: number; text: string }[]; next: number } {
  const buffer = Buffer.alloc(READ_CHUNK);
  const length = readSync(fd, buffer, 0, READ_CHUNK, offset);
  const lines: { offset: number; text: string }[] = [];
  let start = 0;
  while (lines.length < max) {
    const end = buffer.indexOf(0x0a, start);
    if (end < 0 || end >= length) break;
    lines.push({ offset: offset + start, text: buffer.toString('utf8', start, end) });
    start = end + 1;
  }
  return { lines, next: offset + start };
}

/** A segment line as the API takes it; other lines (playlists, refusals, audio) are skipped. */
function toLogLine(stream: string, offset: number, text: string): EdgeLogLineDto[] {
  let line: EdgeLogLine;
  try {
    line = JSON.parse(text) as EdgeLogLine;
  } catch {
    return [];
  }
  if (!line.autograph || line.position === '') return [];
  return [
    {
      stream,
      offset,
      time: Math.round(line.time * 1000),
      autograph: line.autograph,
      position: Number(line.position),
      height: Number(line.height),
      ip: line.ip,
      // As the API's playback records a missing header.
      user_agent: line.user_agent || 'N/A',
      accept_language: line.accept_language || 'N/A',
      method: line.method,
      status: line.status,
      complete: line.complete === 'OK',
    },
  ];
}

export interface AgentOptions {
  client: EdgeApiClient;
  out: string;
  /** Milliseconds between log shipments. */
  shipEvery: number;
  /** Milliseconds between revocation list refreshes (at most 60 s: the stated delay). */
  revocationEvery: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

/**
 * What `npm run edge:ship` runs until `signal` aborts: the revocation list refreshed every
 * `revocationEvery`, the log shipped every `shipEvery`; a failed round is logged and retried.
 */
export async function runEdgeAgent(options: AgentOptions): Promise<void> {
  const { client, out, signal, log } = options;
  let revocationsDue = 0;
  while (!signal.aborted) {
    try {
      if (Date.now() >= revocationsDue) {
        if (await syncRevocations(client, out)) log('revocation list updated');
        revocationsDue = Date.now() + options.revocationEvery;
      }
      const receipt = await shipLog(client, out);
      if (receipt.received > 0) log(`shipped: ${JSON.stringify(receipt)}`);
    } catch (error) {
      log(`edge:ship: ${(error as Error).message}; retrying`);
    }
    const wait = Math.min(options.shipEvery, Math.max(0, revocationsDue - Date.now()));
    await sleep(wait, undefined, { signal }).catch(() => undefined);
  }
}
