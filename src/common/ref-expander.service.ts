import { Injectable } from '@nestjs/common';
import type { Principal } from './principal.js';
import { Ref, type RefKind } from './refs.js';
import type { ExpandOptions } from './request-options.js';

/** Loads the response objects of referenced resources by id (missing ids are left out). */
export type RefLoader = (ids: string[]) => Promise<Map<string, object>>;

/** `expand_all` stops here: deep enough for backtrace → job → pipeline → user. */
const MAX_EXPAND_DEPTH = 4;

interface Slot {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  ref: Ref;
}

/**
 * Replaces `Ref`s in a response body with the referenced objects, for `expand` (one level)
 * and `expand_all` (recursive). Each feature module registers the loader of its own kind,
 * so this module needs to know none of them.
 */
@Injectable()
export class RefExpander {
  private readonly loaders = new Map<RefKind, RefLoader>();

  register(kind: RefKind, loader: RefLoader): void {
    this.loaders.set(kind, loader);
  }

  async expand(body: unknown, options: ExpandOptions): Promise<void> {
    if (options.kinds.size === 0) return;
    let frontier: unknown[] = [body];
    for (let depth = 0; depth < (options.all ? MAX_EXPAND_DEPTH : 1); depth++) {
      const slots: Slot[] = [];
      for (const node of frontier) collectRefs(node, options.kinds, slots);
      if (slots.length === 0) return;
      frontier = await this.fill(slots, options.viewer);
    }
  }

  /** Loads each kind in one batch, puts the objects in place, and returns them. */
  private async fill(slots: Slot[], viewer: Principal | null): Promise<unknown[]> {
    const idsByKind = new Map<RefKind, Set<string>>();
    for (const { ref } of slots) {
      const ids = idsByKind.get(ref.kind) ?? new Set<string>();
      ids.add(ref.id);
      idsByKind.set(ref.kind, ids);
    }
    const loaded = new Map<RefKind, Map<string, object>>();
    await Promise.all(
      [...idsByKind].map(async ([kind, ids]) => {
        const loader = this.loaders.get(kind);
        if (loader) loaded.set(kind, await loader([...ids]));
      }),
    );
    const filled: unknown[] = [];
    for (const { holder, key, ref } of slots) {
      const object = loaded.get(ref.kind)?.get(ref.id);
      if (!object || !visibleTo(viewer, ref.kind, object)) continue;
      (holder as Record<string | number, unknown>)[key] = object;
      filled.push(object);
    }
    return filled;
  }
}

/**
 * The visibility of a direct GET: an admin sees everything, a user their own resources (their
 * `user` reference) and themself; anything else stays an unexpanded reference.
 */
function visibleTo(viewer: Principal | null, kind: RefKind, object: object): boolean {
  if (!viewer) return false;
  if (viewer.role === 'admin') return true;
  const owner =
    kind === 'user' ? (object as { id?: unknown }).id : (object as { user?: Ref }).user?.id;
  return owner === viewer.userId.toString();
}

function collectRefs(node: unknown, kinds: ReadonlySet<RefKind>, slots: Slot[]): void {
  if (node === null || typeof node !== 'object' || node instanceof Date) return;
  const entries: [string | number, unknown][] = Array.isArray(node)
    ? node.map((item, index) => [index, item])
    : Object.entries(node);
  for (const [key, value] of entries) {
    if (value instanceof Ref) {
      if (kinds.has(value.kind)) slots.push({ holder: node as Slot['holder'], key, ref: value });
    } else {
      collectRefs(value, kinds, slots);
    }
  }
}
