/**
 * Look-ups by `_id` in parallel: on FerretDB v1 (SQLite) an `_id` equality is the only query
 * answered from an index, so a list of known ids is read fastest as this many single look-ups
 * in flight (not as one `$in`, which scans the collection).
 */
export const LOOKUPS_IN_FLIGHT = 16;

/** `lookup` of every item, at most LOOKUPS_IN_FLIGHT at once; results in the items' order. */
export async function lookUpEach<T, R>(
  items: readonly T[],
  lookup: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await lookup(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS_IN_FLIGHT, items.length) }, worker));
  return results;
}
