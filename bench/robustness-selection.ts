/**
 * bench:robustness: the contents and attacks of this run. BENCH_CONTENTS and BENCH_ATTACKS
 * (comma-separated) narrow a development run, e.g. `BENCH_CONTENTS=fractal
 * BENCH_ATTACKS=hflip,rotate`: an attack is run when its id starts with a listed name.
 */
import { type Attack, BASIC_ATTACKS } from './robustness-attacks.js';
import { CONTENTS as ALL_CONTENTS, type Content } from './robustness-clips.js';
import { COLLUSION_ATTACKS, LEAK_ATTACKS } from './robustness-leaks.js';

function listed(variable: string): string[] | null {
  const names = process.env[variable]
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return names && names.length > 0 ? names : null;
}

const contentNames = listed('BENCH_CONTENTS');
const attackNames = listed('BENCH_ATTACKS');

/** True when the run is narrowed: its results are written apart from the full run's. */
export const SUBSET = contentNames !== null || attackNames !== null;

export const CONTENTS: Content[] = ALL_CONTENTS.filter(
  (content) => !contentNames || contentNames.includes(content.name),
);

const ALL_ATTACKS = [...BASIC_ATTACKS, ...LEAK_ATTACKS, ...COLLUSION_ATTACKS];

export const ATTACKS: Attack[] = ALL_ATTACKS.filter(
  (attack) => !attackNames || attackNames.some((name) => attack.id.startsWith(name)),
);

if (CONTENTS.length === 0 || ATTACKS.length === 0) {
  throw new Error(
    `BENCH_CONTENTS / BENCH_ATTACKS select nothing (attack ids: ${ALL_ATTACKS.map((attack) => attack.id).join(', ')})`,
  );
}
