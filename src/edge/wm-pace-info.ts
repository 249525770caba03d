import cbor from 'cbor';

/** Integer keys of the ETSI TS 104 002 sidecar file (clause 5.5.3.2). */
const SIDECAR = { version: 1, segments: 2, segmentRegex: 5, position: 6 } as const;

/** A POSIX extended regular expression matching exactly `name`. */
function exactly(name: string): string {
  return `^${name.replace(/[.[\]()*+?{}|^$\\]/g, '\\$&')}$`;
}

/**
 * WMPaceInfo of one rendition as the standard's sidecar file (sidecar-discrete,
 * deterministically encoded CBOR): segment file `names[i]` carries position i of the pattern.
 */
export function paceInfoSidecar(names: string[]): Buffer {
  return cbor.encodeCanonical(
    new Map<number, unknown>([
      [SIDECAR.version, 1],
      [
        SIDECAR.segments,
        names.map(
          (name, position) =>
            new Map<number, unknown>([
              [SIDECAR.segmentRegex, exactly(name)],
              [SIDECAR.position, position],
            ]),
        ),
      ],
    ]),
  );
}

/**
 * The position a sidecar gives each segment file of `names` (-1: not listed). The entry at the
 * same index is tried first (sidecars list segments in order), then all of them.
 */
export function positionsIn(sidecar: Buffer, names: string[]): number[] {
  const decoded = cbor.decodeFirstSync(sidecar) as Map<number, Map<number, unknown>[]>;
  const entries = (decoded.get(SIDECAR.segments) ?? []).map((segment) => ({
    regex: new RegExp(segment.get(SIDECAR.segmentRegex) as string),
    position: segment.get(SIDECAR.position) as number,
  }));
  return names.map((name, index) => {
    const found = entries[index]?.regex.test(name)
      ? entries[index]
      : entries.find(({ regex }) => regex.test(name));
    return found?.position ?? -1;
  });
}
