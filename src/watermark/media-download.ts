import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { MediaError } from './media.js';
import { remuxToMp4 } from './media-remux.js';

/**
 * A variant of a rendition packaged for download: one fragmented MP4 whose fragments are the
 * variant's segments, so that a viewer's MP4 is the shared init followed by fragment i of the
 * variant their codeword picks, byte for byte, with no process per download.
 */
export interface DownloadPackage {
  /** Absolute paths of the fragmented MP4 of variant A and of variant B. */
  a: string;
  b: string;
  /** Bytes of the init (ftyp + moov) at the start of both files, identical in A and B. */
  initSize: number;
  /** Byte length of fragment i (moof + mdat) in each file, one per segment. */
  fragmentsA: number[];
  fragmentsB: number[];
}

/**
 * Packages the A and B segments of a rendition (and the alternate audio tracks) as two
 * fragmented MP4 files, fragment i = segment i with its audio of every language (a fragment
 * starts at each keyframe, and every segment is one GOP). Offsets in a fragment are relative
 * to its own moof (default-base-is-moof) and both files share sequence numbers and decode
 * times, so fragments of A and B can be mixed. Fails unless both files start with the same
 * init and have one fragment per segment.
 */
export async function packageDownload(options: {
  segmentsA: string[];
  segmentsB: string[];
  extraAudioPaths: string[];
  pathA: string;
  pathB: string;
}): Promise<DownloadPackage> {
  const { segmentsA, segmentsB, extraAudioPaths, pathA, pathB } = options;
  await remuxToFile(segmentsA, extraAudioPaths, pathA);
  await remuxToFile(segmentsB, extraAudioPaths, pathB);
  const [layoutA, layoutB] = await Promise.all([fragmentLayout(pathA), fragmentLayout(pathB)]);
  for (const [name, layout] of [
    ['A', layoutA],
    ['B', layoutB],
  ] as const) {
    if (layout.fragments.length !== segmentsA.length) {
      throw new MediaError(
        'remux_failed',
        `the ${name} download has ${layout.fragments.length} fragments for ${segmentsA.length} segments`,
      );
    }
  }
  if (!layoutA.init.equals(layoutB.init)) {
    throw new MediaError('remux_failed', 'the A and B downloads start with different inits');
  }
  return {
    a: pathA,
    b: pathB,
    initSize: layoutA.init.length,
    fragmentsA: layoutA.fragments,
    fragmentsB: layoutB.fragments,
  };
}

async function remuxToFile(segments: string[], extraAudio: string[], path: string): Promise<void> {
  const remux = remuxToMp4(segments, extraAudio);
  try {
    await pipeline(remux.stream, createWriteStream(path));
  } finally {
    remux.cancel();
  }
}

/** The init bytes (everything before the first moof) and each fragment's length. */
export async function fragmentLayout(path: string): Promise<{ init: Buffer; fragments: number[] }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(16);
    const fragments: number[] = [];
    let initSize = -1;
    for (let offset = 0; offset < size;) {
      const { bytesRead } = await file.read(header, 0, 16, offset);
      if (bytesRead < 8) throw new MediaError('remux_failed', `truncated box at ${offset}`);
      const type = header.toString('latin1', 4, 8);
      let boxSize = header.readUInt32BE(0);
      if (boxSize === 1) boxSize = Number(header.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - offset;
      if (boxSize < 8) throw new MediaError('remux_failed', `bad box size at ${offset}`);
      if (type === 'moof') {
        if (initSize < 0) initSize = offset;
        fragments.push(boxSize);
      } else if (type === 'mdat' && fragments.length > 0) {
        fragments[fragments.length - 1] += boxSize;
      } else if (initSize >= 0 && type !== 'mfra') {
        throw new MediaError('remux_failed', `unexpected '${type}' box between fragments`);
      }
      offset += boxSize;
    }
    if (initSize < 0) throw new MediaError('remux_failed', `${path} has no fragments`);
    const init = Buffer.alloc(initSize);
    await file.read(init, 0, initSize, 0);
    return { init, fragments };
  } finally {
    await file.close();
  }
}
