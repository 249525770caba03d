/**
 * Where an increasing function crosses zero, to double precision: `upper` is doubled (raising
 * `lower` to it) until f(upper) ≥ 0, then the bracket is halved 60 times. Returns the bracket's
 * upper end, where f ≥ 0. `upper` must be positive.
 */
export function rootOfIncreasing(f: (x: number) => number, lower: number, upper: number): number {
  if (!(upper > 0)) throw new RangeError(`upper must be positive, got ${upper}`);
  while (f(upper) < 0) {
    lower = upper;
    upper *= 2;
  }
  for (let iteration = 0; iteration < 60; iteration++) {
    const middle = (lower + upper) / 2;
    if (f(middle) < 0) lower = middle;
    else upper = middle;
  }
  return upper;
}
