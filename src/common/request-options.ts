import type { Request } from 'express';
import type { Principal } from './principal.js';
import { REF_KINDS, type RefKind } from './refs.js';
import type { RenderOptions } from './render.js';

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * How to render the answer to this request. Lenient on purpose: it also serves error
 * responses, whose query may be the very thing that was wrong.
 */
export function renderOptionsFor(request: Request, publicUrl?: string): RenderOptions {
  const query = request.query as Record<string, unknown>;
  const format = single(query.format);
  return {
    format:
      format === 'xml' || format === 'json'
        ? format
        : request.accepts(['json', 'xml']) === 'xml'
          ? 'xml'
          : 'json',
    human: single(query.human) === 'true',
    showNull: single(query.show_null) === 'true',
    baseUrl:
      publicUrl?.replace(/\/+$/, '') ??
      `${request.protocol}://${request.get('host') ?? 'localhost'}`,
  };
}

export interface ExpandOptions {
  kinds: ReadonlySet<RefKind>;
  /** Embed references recursively (`expand_all=true`). */
  all: boolean;
  /** Who asks: only what they could GET directly is embedded. */
  viewer: Principal | null;
}

export function expandOptionsFor(request: Request): ExpandOptions {
  const query = request.query as Record<string, unknown>;
  const all = single(query.expand_all) === 'true';
  const names = (single(query.expand) ?? '').split(',').map((name) => name.trim());
  return {
    all,
    kinds: new Set(all ? REF_KINDS : REF_KINDS.filter((kind) => names.includes(kind))),
    viewer: (request as Request & { user?: Principal }).user ?? null,
  };
}
