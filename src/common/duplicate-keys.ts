import { mongo } from 'mongoose';

/**
 * The positions of an unordered `insertMany` that failed only because their `_id` (or another
 * unique key) was already taken; any other failure is rethrown.
 */
export function duplicatePositions(error: unknown): Set<number> {
  if (!(error instanceof mongo.MongoBulkWriteError)) throw error;
  const failures = [error.writeErrors].flat();
  if (failures.some((failure) => failure.code !== 11000)) throw error;
  return new Set(failures.map((failure) => failure.index));
}
