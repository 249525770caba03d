import type { Model, QueryFilter, Types } from 'mongoose';
import type { Paging } from './dto/query.dto.js';

/** A document as read back: its id and timestamps included. */
export type Stored<T> = T & { _id: Types.ObjectId; created_at: Date; updated_at: Date };

export interface Page<T> {
  items: T[];
  total: number;
  start: number;
  limit: number;
}

/** One page of `filter`, sorted by a whitelisted key with `_id` breaking ties (stable paging). */
export async function findPage<T>(
  model: Model<T>,
  filter: QueryFilter<T>,
  paging: Paging,
): Promise<Page<Stored<T>>> {
  const key = paging.sort === 'id' ? '_id' : paging.sort;
  const sort: Record<string, 1 | -1> = { [key]: paging.direction };
  if (key !== '_id') sort._id = paging.direction;
  const [items, total] = await Promise.all([
    model.find(filter).sort(sort).skip(paging.start).limit(paging.limit).lean<Stored<T>[]>().exec(),
    model.countDocuments(filter).exec(),
  ]);
  return { items, total, start: paging.start, limit: paging.limit };
}
