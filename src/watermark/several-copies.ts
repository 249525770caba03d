import { minimumObservedSegments } from './accuse.js';
import { DEFAULT_FALSE_ACCUSATION_PROBABILITY } from './codes.js';
import {
  type ExtractionResult,
  type ExtractOptions,
  extractSoftBits,
  tooShort,
} from './detector.js';

/** Keeps atanh finite: a soft bit of exactly ±1 is as sure as any single reading gets. */
const SUREST = 1 - 1e-6;

/**
 * Soft bits of several copies of one leak, combined per segment: each soft bit is tanh of the
 * evidence its segment holds (see softBitsFromObservations), and the evidence of independent
 * readings adds, so the combination is tanh(Σ atanh(y)). A segment seen in one copy only keeps
 * its soft bit; copies of different scenes together cover the segments of all of them.
 */
export function combineSoftBits(copies: Float32Array[]): Float32Array {
  const length = Math.max(0, ...copies.map((bits) => bits.length));
  const combined = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let evidence = 0;
    for (const bits of copies) {
      const y = Math.max(-SUREST, Math.min(SUREST, bits[i] ?? 0));
      evidence += Math.atanh(y);
    }
    combined[i] = Math.tanh(evidence);
  }
  return combined;
}

export interface SeveralCopiesResult {
  /** Combined soft bits (combineSoftBits) and the segments they observe. */
  softBits: Float32Array;
  segmentsObserved: number;
  /** Each copy's own extraction (its alignment, its segments). */
  copies: ExtractionResult[];
}

/**
 * Extracts each copy on its own (each is aligned with the original by itself), one after the
 * other, and combines their soft bits. The too-short rule applies to the combination: copies
 * that cover too few segments together are refused, whatever each covers alone.
 */
export async function extractFromCopies(
  options: Omit<ExtractOptions, 'suspect' | 'segmentsNeeded'> & { suspects: string[] },
): Promise<SeveralCopiesResult> {
  const { suspects, onProgress, start, ...common } = options;
  const needed = minimumObservedSegments(options.epsilon ?? DEFAULT_FALSE_ACCUSATION_PROBABILITY);
  const copies: ExtractionResult[] = [];
  for (const [index, suspect] of suspects.entries()) {
    copies.push(
      await extractSoftBits({
        ...common,
        suspect,
        // What finding the job decoded is of the first copy.
        start: index === 0 ? start : undefined,
        // One copy alone must hold enough evidence; several are judged together below.
        segmentsNeeded: suspects.length === 1 ? needed : 0,
        onProgress: (fraction) => onProgress?.((index + fraction) / suspects.length),
      }),
    );
  }
  const softBits =
    copies.length === 1 ? copies[0].softBits : combineSoftBits(copies.map((c) => c.softBits));
  const segmentsObserved = softBits.reduce((count, bit) => count + (bit !== 0 ? 1 : 0), 0);
  const matched = copies.some((copy) => copy.alignment.matched);
  if (matched && segmentsObserved < needed) throw tooShort(segmentsObserved, needed, copies.length);
  return { softBits, segmentsObserved, copies };
}
