import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import type { Types } from 'mongoose';
import { IpIntelligence } from '../network/ip-intelligence.js';
import { AccessSummaryStore, type SummaryDraft } from './access-summary.store.js';

/** Who fetched media, as the access stats record it. */
export interface Viewer {
  ip: string;
  userAgent: string;
  acceptLanguage: string;
}

/** What one request obtained. */
export interface Access {
  autograph: Types.ObjectId;
  viewer: Viewer;
  segments: number[];
  segmentCount: number;
  height: number;
  download: boolean;
}

/** How often pending summaries are written: a kill -9 loses at most this much access history. */
export const ACCESS_FLUSH_INTERVAL_MS = 1000;
/** A session untouched this long is dropped from memory (a later request starts a new summary). */
const IDLE_SESSION_MS = 10 * 60_000;
/** Sessions kept in memory at most; the least recently used clean ones go first. */
const MAX_SESSIONS = 100_000;

interface Session {
  summary: SummaryDraft;
  dirty: boolean;
}

/**
 * Records access as per-viewer summaries kept in memory and written in batches: a segment
 * request costs a few bit operations, and a burst of requests one write per session per
 * ACCESS_FLUSH_INTERVAL_MS. Each summary document is written by this process only, whole (`$set`),
 * so concurrent servers never race on one. Pending writes are flushed on shutdown.
 */
@Injectable()
export class AccessRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AccessRecorder.name);
  /** By autograph, ip and user agent; Map order = least recently used first. */
  private readonly sessions = new Map<string, Session>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: AccessSummaryStore,
    private readonly ipIntelligence: IpIntelligence,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) =>
        this.logger.error(`writing access summaries failed: ${(error as Error).message}`),
      );
    }, ACCESS_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record({ autograph, viewer, segments, segmentCount, height, download }: Access): void {
    const key = `${autograph.toString()}\n${viewer.ip}\n${viewer.userAgent}`;
    const now = new Date();
    let session = this.sessions.get(key);
    if (session) {
      this.sessions.delete(key); // re-inserted below: most recently used
    } else {
      const { ip_country, ip_type } = this.ipIntelligence.lookup(viewer.ip);
      session = {
        dirty: true,
        summary: {
          _id: null,
          autograph,
          ip_address: viewer.ip,
          ip_country,
          ip_type,
          user_agent: viewer.userAgent,
          accept_language: viewer.acceptLanguage,
          first_accessed_at: now,
          last_accessed_at: now,
          segments: Buffer.alloc(Math.ceil(segmentCount / 8)),
          highest_height: 0,
          downloaded: false,
          requests: 0,
        },
      };
    }
    this.sessions.set(key, session);
    const { summary } = session;
    for (const index of segments) summary.segments[index >> 3] |= 1 << (index & 7);
    summary.last_accessed_at = now;
    summary.highest_height = Math.max(summary.highest_height, height);
    summary.downloaded ||= download;
    summary.requests += 1;
    session.dirty = true;
  }

  /** Writes every pending summary (one bulk write); resolves once they are stored. */
  async flush(): Promise<void> {
    this.writing = this.writing.catch(() => undefined).then(() => this.writePending());
    return this.writing;
  }

  private async writePending(): Promise<void> {
    const pending = [...this.sessions.values()].filter((session) => session.dirty);
    this.forgetIdle();
    if (pending.length === 0) return;
    for (const session of pending) session.dirty = false;
    try {
      await this.store.write(pending.map((session) => session.summary));
    } catch (error) {
      for (const session of pending) session.dirty = true;
      throw error;
    }
  }

  private forgetIdle(): void {
    const idleBefore = Date.now() - IDLE_SESSION_MS;
    let excess = this.sessions.size - MAX_SESSIONS;
    for (const [key, { summary, dirty }] of this.sessions) {
      if (excess <= 0 && summary.last_accessed_at.getTime() >= idleBefore) break;
      if (dirty) continue;
      this.sessions.delete(key);
      excess -= 1;
    }
  }
}
