import { originalWarpOnSuspect } from './camera-geometry.js';
import { type CropGeometry, MAX_BAND_SHARE } from './geometry.js';
import { type GeometryEvidence } from './geometry-search.js';

/**
 * A player's controls over a screen recording are semi-transparent bars across the top and
 * bottom: the picture shows through them at a fraction of its contrast. Left in the geometry
 * search, they reward reading the picture as squeezed away from them (the rows they dim then
 * fall outside it), which costs nothing on a picture of vertical stripes and blurs the mark.
 * Found by their gain: a row is dimmed when the copy's row varies with the original's at
 * between DIMMED_GAIN_LOW and DIMMED_GAIN_HIGH of the picture's typical gain, across its
 * width (in at least DIMMED_PARTS_NEEDED of its PARTS parts: a play button or a title may
 * sit in one).
 */
const DIMMED_GAIN_LOW = 0.2;
const DIMMED_GAIN_HIGH = 0.75;
const PARTS = 3;
const DIMMED_PARTS_NEEDED = 2;
/**
 * A row is dimmed when at least this share of the comparisons that can tell say so (a
 * player's controls stay; subtitles come and go, and a comparison of a moving picture may err).
 */
const DIMMED_MAJORITY = 2 / 3;
/** A part of a row tells its gain when the original varies along it by at least this (luma²). */
const MIN_PART_VARIANCE = 4;

/** Per row, what one comparison says of it. */
const enum RowVerdict {
  Unknown,
  Shown,
  Dimmed,
}

/**
 * The rows (as an overlay, detection size, 1 = covered) of bands at the top or bottom that dim
 * the picture, seen by comparing the evidence's views under `geometry` (see DIMMED_MAJORITY);
 * null when none. The rows between a band and the frame's edge go with it, and one more row inwards
 * (the scaler blends the band's edge).
 */
export function dimmedBandsOf(
  evidence: GeometryEvidence[],
  width: number,
  height: number,
  geometry: CropGeometry,
): Uint8Array | null {
  const warp = originalWarpOnSuspect(geometry, width, height, width, height);
  const warped = new Float32Array(width * height);
  const verdicts = evidence.map((pair) => {
    warp.apply(pair.original, warped);
    return rowVerdicts(partGains(pair.suspect, warped, warp.valid, width, height), height);
  });
  const dimmedRow = (y: number): boolean => {
    const dimmed = verdicts.filter((rows) => rows[y] === RowVerdict.Dimmed).length;
    const shown = verdicts.filter((rows) => rows[y] === RowVerdict.Shown).length;
    return dimmed > 0 && dimmed >= DIMMED_MAJORITY * (dimmed + shown);
  };
  const limit = Math.floor(height * MAX_BAND_SHARE);
  const overlay = new Uint8Array(width * height);
  let found = false;
  for (const [start, step] of [
    [0, 1],
    [height - 1, -1],
  ]) {
    let depth = 0;
    for (let k = 0; k < limit; k++) if (dimmedRow(start + step * k)) depth = k + 1;
    if (depth === 0) continue;
    found = true;
    for (let k = 0; k <= Math.min(depth, height - 1); k++) {
      const row = start + step * k;
      overlay.fill(1, row * width, (row + 1) * width);
    }
  }
  return found ? overlay : null;
}

/** Per row and part of a row: the copy's covariance with the original, the original's variance. */
interface PartGains {
  covariance: Float64Array;
  variance: Float64Array;
  samples: Float64Array;
}

/** One comparison's verdict on each row, against the gain of the rows away from the edges. */
function rowVerdicts(gains: PartGains, height: number): RowVerdict[] {
  const informative = (index: number): boolean =>
    gains.variance[index] >= MIN_PART_VARIANCE * gains.samples[index];
  const limit = Math.floor(height * MAX_BAND_SHARE);
  const inner: number[] = [];
  for (let y = limit; y < height - limit; y++) {
    let covariance = 0;
    let variance = 0;
    let samples = 0;
    for (let index = y * PARTS; index < (y + 1) * PARTS; index++) {
      covariance += gains.covariance[index];
      variance += gains.variance[index];
      samples += gains.samples[index];
    }
    if (variance >= MIN_PART_VARIANCE * samples) inner.push(covariance / variance);
  }
  const verdicts = new Array<RowVerdict>(height).fill(RowVerdict.Unknown);
  if (inner.length === 0) return verdicts;
  const typical = inner.sort((a, b) => a - b)[inner.length >> 1];
  if (!(typical > 0)) return verdicts;
  for (let y = 0; y < height; y++) {
    let told = 0;
    let dimmed = 0;
    for (let index = y * PARTS; index < (y + 1) * PARTS; index++) {
      if (!informative(index)) continue;
      told++;
      const gain = gains.covariance[index] / gains.variance[index];
      if (gain >= DIMMED_GAIN_LOW * typical && gain <= DIMMED_GAIN_HIGH * typical) dimmed++;
    }
    if (dimmed >= DIMMED_PARTS_NEEDED) verdicts[y] = RowVerdict.Dimmed;
    else if (told >= DIMMED_PARTS_NEEDED) verdicts[y] = RowVerdict.Shown;
  }
  return verdicts;
}

/** Per row and part of a row, the gains' sums of one comparison (valid pixels only). */
function partGains(
  suspect: Float32Array,
  original: Float32Array,
  valid: Uint8Array,
  width: number,
  height: number,
): PartGains {
  const covariance = new Float64Array(height * PARTS);
  const variance = new Float64Array(height * PARTS);
  const samples = new Float64Array(height * PARTS);
  for (let y = 0; y < height; y++) {
    for (let part = 0; part < PARTS; part++) {
      const from = y * width + Math.floor((part * width) / PARTS);
      const to = y * width + Math.floor(((part + 1) * width) / PARTS);
      let n = 0;
      let sumCopy = 0;
      let sumOriginal = 0;
      let sumProduct = 0;
      let sumSquare = 0;
      for (let i = from; i < to; i++) {
        if (valid[i] === 0) continue;
        n++;
        sumCopy += suspect[i];
        sumOriginal += original[i];
        sumProduct += suspect[i] * original[i];
        sumSquare += original[i] * original[i];
      }
      if (n < 2) continue;
      const index = y * PARTS + part;
      covariance[index] = sumProduct - (sumCopy * sumOriginal) / n;
      variance[index] = sumSquare - (sumOriginal * sumOriginal) / n;
      samples[index] = n;
    }
  }
  return { covariance, variance, samples };
}
