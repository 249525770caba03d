import type { Model, QueryFilter, Types } from 'mongoose';
import { ApiError } from './api-error.js';
import type { Paging } from './dto/query.dto.js';
import { findPage, type Page, type Stored } from './paging.js';
import { ownedBy, type Principal } from './principal.js';
import type { RefExpander } from './ref-expander.service.js';
import type { RefKind } from './refs.js';

/**
 * The documents of one resource kind as its module's service reads them for callers: one by
 * id if the caller may see it (else 404, the same answer as for an id that does not exist), a
 * page of what the caller may see, and, registered on construction, the loader that lets any
 * response expand references to this kind. Only the owning module's service holds one.
 */
export class OwnedRepository<T, Dto extends object> {
  constructor(
    readonly model: Model<T>,
    private readonly kind: RefKind,
    expander: RefExpander,
    private readonly toDto: (document: Stored<T>) => Dto,
    /**
     * What a caller may see, as equality on fields; by default their own documents, everything
     * for an admin.
     */
    private readonly visibleTo: (principal: Principal) => Visibility = ownedBy,
  ) {
    expander.register(kind, async (ids) => {
      const found = await this.model
        .find({ _id: { $in: ids } } as QueryFilter<T>)
        .lean<Stored<T>[]>()
        .exec();
      return new Map(found.map((document) => [document._id.toString(), this.toDto(document)]));
    });
  }

  /**
   * The document if the caller may see it, or 404. Read by `_id` alone and checked here: FerretDB
   * v1 on SQLite answers only an `_id`-only filter from an index and scans for any other.
   */
  async findOwned(principal: Principal, id: string): Promise<Stored<T>> {
    const document = await this.model.findById(id).lean<Stored<T>>().exec();
    if (!document || !matches(document, this.visibleTo(principal))) {
      throw ApiError.notFound(this.kind, id);
    }
    return document;
  }

  async get(principal: Principal, id: string): Promise<Dto> {
    return this.toDto(await this.findOwned(principal, id));
  }

  /** One page of what the caller may see. */
  async list(principal: Principal, paging: Paging): Promise<Page<Dto>> {
    const page = await findPage(this.model, this.visibleTo(principal) as QueryFilter<T>, paging);
    return { ...page, items: page.items.map((document) => this.toDto(document)) };
  }
}

/** Field values a visible document must equal (an id compares by its string form). */
type Visibility = Partial<Record<string, Types.ObjectId>>;

function matches(document: object, visibility: Visibility): boolean {
  return Object.entries(visibility).every(
    ([field, value]) =>
      value === undefined || String((document as Record<string, unknown>)[field]) === String(value),
  );
}
