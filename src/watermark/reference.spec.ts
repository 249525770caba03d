import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeReference,
  type DetectionReference,
  encodeReference,
  readReference,
  ReferenceBuilder,
  SIGNATURE_HEIGHT,
  SIGNATURE_WIDTH,
  writeReference,
} from './reference.js';

const WIDTH = 128;
const HEIGHT = 72;

/** Frame n is a flat field of luma 10 + n, with a bright left half from frame 3 on. */
function frame(n: number): Uint8Array {
  const luma = new Uint8Array(WIDTH * HEIGHT).fill(10 + n);
  if (n >= 3) {
    for (let y = 0; y < HEIGHT; y++) luma.fill(200, y * WIDTH, y * WIDTH + WIDTH / 2);
  }
  return luma;
}

function build(frames: number): DetectionReference {
  const builder = new ReferenceBuilder(WIDTH, HEIGHT, 25, 0.12, 3);
  for (let n = 0; n < frames; n++) builder.addFrame(frame(n));
  return builder.finish();
}

describe('ReferenceBuilder', () => {
  it('keeps one 16x9 signature per frame and one mean 64x36 view per segment', () => {
    const reference = build(7); // segments of 3, 3 and 1 frames
    expect(reference).toMatchObject({ frameCount: 7, segmentCount: 3, framesPerSegment: 3 });
    expect(reference.signatures).toHaveLength(7 * SIGNATURE_WIDTH * SIGNATURE_HEIGHT);
    expect(reference.segmentMeans).toHaveLength(3 * 64 * 36);

    const signatureSize = SIGNATURE_WIDTH * SIGNATURE_HEIGHT;
    expect(reference.signatures[0]).toBe(10);
    expect(reference.signatures[4 * signatureSize]).toBe(200); // left half, frame 4
    expect(reference.signatures[4 * signatureSize + SIGNATURE_WIDTH - 1]).toBe(14); // right half

    const view = 64 * 36;
    expect(reference.segmentMeans[0]).toBeCloseTo(11, 5); // frames 0-2: 10, 11, 12
    expect(reference.segmentMeans[view + 63]).toBeCloseTo(14, 5); // frames 3-5, right half
    expect(reference.segmentMeans[view]).toBeCloseTo(200, 5); // frames 3-5, left half
    expect(reference.segmentMeans[2 * view + 63]).toBeCloseTo(16, 5); // frame 6 alone
  });
});

describe('reference file format', () => {
  it('round-trips through bytes and files', async () => {
    const reference = build(50);
    const bytes = encodeReference(reference);
    expect(bytes.length).toBe(64 + 50 * 144 + 17 * 64 * 36 * 4);
    expect(bytes.toString('latin1', 0, 8)).toBe('AGREFv01');
    expect(decodeReference(bytes)).toEqual(reference);

    const dir = mkdtempSync(join(tmpdir(), 'autograph-reference-'));
    try {
      const path = join(dir, 'reference.bin');
      await writeReference(path, reference);
      expect(await readReference(path)).toEqual(reference);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects foreign and truncated files', () => {
    const bytes = encodeReference(build(4));
    expect(() =>
      decodeReference(Buffer.from('definitely not a reference, long enough to parse')),
    ).toThrow(/magic/);
    expect(() => decodeReference(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
  });
});
