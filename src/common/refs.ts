/** The kinds of resource one response may reference, and the path each lives under. */
export const REF_PATHS = {
  user: 'users',
  application: 'applications',
  pipeline: 'pipelines',
  file: 'files',
  job: 'jobs',
  backtrace: 'backtraces',
  autograph: 'autographs',
} as const;

export type RefKind = keyof typeof REF_PATHS;
export const REF_KINDS = Object.keys(REF_PATHS) as RefKind[];

/**
 * A reference to another resource inside a response. Rendered as `{id, href}`, or replaced
 * by the referenced object itself when the client asks for `expand` / `expand_all`.
 */
export class Ref {
  constructor(
    readonly kind: RefKind,
    readonly id: string,
  ) {}

  static of(kind: RefKind, id: { toString(): string } | null | undefined): Ref | null {
    return id == null ? null : new Ref(kind, id.toString());
  }

  href(baseUrl: string): string {
    return `${baseUrl}/v1/${REF_PATHS[this.kind]}/${this.id}`;
  }
}

/** An API path rendered as an absolute URL (e.g. a playback link). */
export class Link {
  constructor(readonly path: string) {}

  url(baseUrl: string): string {
    return `${baseUrl}${this.path}`;
  }
}
