import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codewordBit, generateCodeword, tardosBiases } from './codes.js';
import { embedVariants } from './embed-variants.js';
import { type DetectionReference, readReference } from './reference.js';

/** What the detector specs trace: a job's reference, one pirate's codeword and A/B copy. */
export interface PirateJob {
  reference: DetectionReference;
  codeword: Uint32Array;
  /** The pirate's segments (A or B by its codeword) concatenated, as delivered. */
  pirateCopy: string;
}

/**
 * Embeds `original` as one 180p rendition (x264 veryfast, for speed) under `dir/job` and writes
 * the pirate's copy to `dir/pirate.ts` (not part of the build).
 */
export async function embedPirateJob(
  original: string,
  dir: string,
  key: string,
  segmentDuration: number,
): Promise<PirateJob> {
  const job = await embedVariants({
    input: original,
    outputDir: join(dir, 'job'),
    key,
    segmentDuration,
    renditions: [{ height: 180 }],
    preset: 'veryfast',
  });
  const reference = await readReference(job.referencePath);
  const codeword = generateCodeword('secret', 'pirate', tardosBiases(key, reference.segmentCount));
  const bytes = job.renditions[0].segments.map((segment) =>
    readFileSync(codewordBit(codeword, segment.index) === 1 ? segment.a : segment.b),
  );
  const pirateCopy = join(dir, 'pirate.ts');
  writeFileSync(pirateCopy, Buffer.concat(bytes));
  return { reference, codeword, pirateCopy };
}
