/**
 * In-memory IP range → AS number table built from the `@ip-location-db/asn` numeric CSV files
 * (`start,end,asn,organisation`, inclusive ranges, sorted by start). Ranges live in typed arrays
 * and are found by binary search, so a lookup allocates nothing.
 */
export class AsnRanges {
  private constructor(
    /** IPv4 range starts/ends as unsigned 32-bit integers. */
    private readonly v4Start: Uint32Array,
    private readonly v4End: Uint32Array,
    private readonly v4Asn: Uint32Array,
    /** IPv6 range starts/ends as four big-endian 32-bit words per range. */
    private readonly v6Start: Uint32Array,
    private readonly v6End: Uint32Array,
    private readonly v6Asn: Uint32Array,
    /** AS numbers classified when loading (e.g. hosting networks). */
    private readonly flagged: ReadonlySet<number>,
  ) {}

  /**
   * Parses the two CSV texts. `classify` is called once per distinct AS with its organisation
   * name; the ASes it returns true for are reported by {@link isFlagged}.
   */
  static parse(
    v4Csv: string,
    v6Csv: string,
    classify: (asn: number, organisation: string) => boolean,
  ): AsnRanges {
    const seen = new Set<number>();
    const flagged = new Set<number>();
    const onAs = (asn: number, organisation: string): void => {
      if (seen.has(asn)) return;
      seen.add(asn);
      if (classify(asn, organisation)) flagged.add(asn);
    };

    const v4 = parseRows(v4Csv, onAs, 0xffffffffn);
    const v6 = parseRows(v6Csv, onAs, (1n << 128n) - 1n);

    const v4Start = new Uint32Array(v4.start.length);
    const v4End = new Uint32Array(v4.start.length);
    for (let i = 0; i < v4.start.length; i++) {
      v4Start[i] = Number(v4.start[i]);
      v4End[i] = Number(v4.end[i]);
    }
    const v6Start = new Uint32Array(v6.start.length * 4);
    const v6End = new Uint32Array(v6.start.length * 4);
    for (let i = 0; i < v6.start.length; i++) {
      writeWords(v6Start, i * 4, v6.start[i]);
      writeWords(v6End, i * 4, v6.end[i]);
    }
    return new AsnRanges(v4Start, v4End, v4.asn, v6Start, v6End, v6.asn, flagged);
  }

  /** AS number announcing the IPv4 address (`value` as unsigned 32-bit), 0 if none. */
  asnV4(value: number): number {
    const starts = this.v4Start;
    let lo = 0;
    let hi = starts.length - 1;
    let hit = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= value) {
        hit = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return hit >= 0 && this.v4End[hit] >= value ? this.v4Asn[hit] : 0;
  }

  /** AS number announcing the IPv6 address (four big-endian 32-bit words), 0 if none. */
  asnV6(w0: number, w1: number, w2: number, w3: number): number {
    const starts = this.v6Start;
    let lo = 0;
    let hi = this.v6Asn.length - 1;
    let hit = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(starts, mid * 4, w0, w1, w2, w3) <= 0) {
        hit = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return hit >= 0 && compareWords(this.v6End, hit * 4, w0, w1, w2, w3) >= 0 ? this.v6Asn[hit] : 0;
  }

  isFlagged(asn: number): boolean {
    return asn !== 0 && this.flagged.has(asn);
  }
}

interface ParsedRows {
  start: bigint[];
  end: bigint[];
  asn: Uint32Array;
}

/**
 * Reads `start,end,asn,organisation` lines. The organisation may be double-quoted (with `""`
 * escapes); the first three fields never are. Rows are sorted by start if they are not already,
 * and a range overlapping the next one is clipped so the binary search stays exact.
 */
function parseRows(
  csv: string,
  onAs: (asn: number, organisation: string) => void,
  max: bigint,
): ParsedRows {
  const rows: { start: bigint; end: bigint; asn: number }[] = [];
  let pos = 0;
  while (pos < csv.length) {
    let eol = csv.indexOf('\n', pos);
    if (eol < 0) eol = csv.length;
    const line = csv.slice(pos, csv.charCodeAt(eol - 1) === 13 ? eol - 1 : eol);
    pos = eol + 1;
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const c3 = line.indexOf(',', c2 + 1);
    if (c1 <= 0 || c2 <= c1 || c3 <= c2) continue;
    const asn = Number(line.slice(c2 + 1, c3));
    if (!Number.isInteger(asn) || asn <= 0 || asn > 0xffffffff) continue;
    let organisation = line.slice(c3 + 1);
    if (organisation.startsWith('"') && organisation.endsWith('"') && organisation.length >= 2) {
      organisation = organisation.slice(1, -1).replaceAll('""', '"');
    }
    const start = toBigInt(line.slice(0, c1));
    const end = toBigInt(line.slice(c1 + 1, c2));
    if (start === null || end === null || end < start || end > max) continue;
    onAs(asn, organisation);
    rows.push({ start, end, asn });
  }

  for (let i = 1; i < rows.length; i++) {
    if (rows[i].start < rows[i - 1].start) {
      rows.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      break;
    }
  }

  const start: bigint[] = [];
  const end: bigint[] = [];
  const asn = new Uint32Array(rows.length);
  let n = 0;
  for (const row of rows) {
    // Clip earlier ranges that run into this one; drop those left empty.
    while (n > 0 && end[n - 1] >= row.start) {
      end[n - 1] = row.start - 1n;
      if (end[n - 1] >= start[n - 1]) break;
      n--;
    }
    start[n] = row.start;
    end[n] = row.end;
    asn[n] = row.asn;
    n++;
  }
  start.length = n;
  end.length = n;
  return { start, end, asn: asn.slice(0, n) };
}

/** Parses a non-negative decimal integer field, null if it is not one. */
function toBigInt(field: string): bigint | null {
  return /^\d{1,39}$/.test(field) ? BigInt(field) : null;
}

const WORD = 0xffffffffn;

function writeWords(target: Uint32Array, offset: number, value: bigint): void {
  target[offset] = Number((value >> 96n) & WORD);
  target[offset + 1] = Number((value >> 64n) & WORD);
  target[offset + 2] = Number((value >> 32n) & WORD);
  target[offset + 3] = Number(value & WORD);
}

/** Compares the 128-bit value at `words[offset..offset+3]` with `w0..w3`: <0, 0 or >0. */
function compareWords(
  words: Uint32Array,
  offset: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): number {
  return (
    words[offset] - w0 || words[offset + 1] - w1 || words[offset + 2] - w2 || words[offset + 3] - w3
  );
}
