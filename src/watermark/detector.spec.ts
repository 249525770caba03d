import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accusationThresholdFor,
  codewordBit,
  generateCodeword,
  PackedCodebook,
  scoreCodewords,
  symbolForBit,
  tardosBiases,
} from './codes.js';
import { embedFrame } from './embed-frame.js';
import { embedVariants } from './embed-variants.js';
import {
  accuse,
  Detector,
  ExtractionError,
  type ExtractionResult,
  extractSoftBits,
  minimumObservedSegments,
} from './detector.js';
import { FFMPEG_PATH } from './media.js';
import { panningPicture, panningReference, syntheticSymbols } from './reference.testing.js';
import { watermarkPattern } from './pattern.js';
import { seededPrng } from './prng.js';
import {
  type DetectionReference,
  detectionView,
  readReference,
  ReferenceBuilder,
} from './reference.js';

describe('minimumObservedSegments (the too-short rule)', () => {
  it('is the fewest segments where a clean pirate expects to pass the threshold', () => {
    const needed = minimumObservedSegments();
    expect(needed).toBe(31);
    expect(minimumObservedSegments(1e-3)).toBeLessThan(needed);
    expect(minimumObservedSegments(1e-9)).toBeGreaterThan(needed);
    // Clean copies of that many segments, over 100 jobs' own biases and codewords: about half
    // pass (the rule is an expectation), and at half the length none does.
    const passRate = (segments: number): number => {
      let passed = 0;
      for (let job = 0; job < 100; job++) {
        const biases = tardosBiases(`too-short-rule-${job}`, segments);
        const codebook = new PackedCodebook(segments, 1);
        const codeword = generateCodeword('secret', 'pirate', biases);
        codebook.add(codeword);
        const softBits = Float32Array.from({ length: segments }, (_, i) =>
          symbolForBit(codewordBit(codeword, i)),
        );
        const [score] = scoreCodewords(softBits, codebook, biases);
        if (score >= accusationThresholdFor(softBits, biases)) passed++;
      }
      return passed / 100;
    };
    expect(passRate(needed)).toBeGreaterThan(0.3);
    expect(passRate(Math.floor(needed / 2))).toBe(0);
  });
});

/**
 * The Detector on synthetic frames (no ffmpeg): an original panning one pixel per frame over a
 * smooth random panorama, marked segment by segment, then cut, with a dropped and a repeated
 * frame and a brightness/contrast change.
 */
describe('Detector (synthetic copy)', () => {
  const WIDTH = 128;
  const HEIGHT = 72;
  const FRAMES = 450;
  const PER_SEGMENT = 5;
  const KEY = 'detector-spec-key';
  const symbols = syntheticSymbols(KEY, FRAMES / PER_SEGMENT);

  const SIZE = { width: WIDTH, height: HEIGHT, frames: FRAMES };
  const pictureOf = (frame: number, panorama: string): Uint8Array =>
    panningPicture(panorama, frame, SIZE);

  let reference: DetectionReference;
  beforeAll(() => {
    reference = panningReference((frame) => pictureOf(frame, 'original'), SIZE, PER_SEGMENT);
  });

  function copyView(frame: number): Uint8Array {
    const segment = Math.floor(frame / PER_SEGMENT);
    const marked = new Uint8Array(WIDTH * HEIGHT);
    const pattern = watermarkPattern(KEY, segment, WIDTH, HEIGHT);
    embedFrame(pictureOf(frame, 'original'), WIDTH, HEIGHT, pattern, symbols[segment], 0.8, marked);
    return Uint8Array.from(detectionView(marked, WIDTH, HEIGHT), (v) => Math.round(0.85 * v + 12));
  }

  it('aligns a cut copy with a dropped and a repeated frame, and reads its segments', () => {
    // Original frames 60..389, frame 150 dropped, frame 250 shown twice.
    const shown: number[] = [];
    for (let frame = 60; frame < 390; frame++) {
      if (frame === 150) continue;
      shown.push(frame);
      if (frame === 250) shown.push(frame);
    }
    const detector = new Detector(reference, KEY);
    for (const frame of shown) detector.push(copyView(frame));
    const result = detector.finish();

    expect(result.alignment.matched).toBe(true);
    expect(result.alignment.offsetFrames).toBeCloseTo(60, 0);
    expect(result.alignment.rate).toBeCloseTo(1, 2);
    expect(result.alignment.confidence).toBeGreaterThan(0.99);
    expect(result.alignment.framesAligned).toBe(shown.length);
    expect(result.framesRead).toBe(shown.length);
    expect(result.segmentsObserved).toBe(66); // segments 12..77
    result.softBits.forEach((bit, segment) => {
      if (segment < 12 || segment > 77) expect(bit).toBe(0);
      else expect(Math.sign(bit)).toBe(symbols[segment]);
    });
  });

  it('skips an unrelated intro and follows a jump in an edited copy', () => {
    const detector = new Detector(reference, KEY);
    for (let frame = 0; frame < 100; frame++) {
      const view = detectionView(pictureOf(frame, 'an intro'), WIDTH, HEIGHT);
      detector.push(Uint8Array.from(view, Math.round));
    }
    // Then original frames 40..169 and 300..449: the copy jumps over 130 frames.
    for (let frame = 40; frame < 170; frame++) detector.push(copyView(frame));
    for (let frame = 300; frame < 450; frame++) detector.push(copyView(frame));
    const result = detector.finish();

    expect(result.alignment.locks).toBe(2);
    expect(result.alignment.framesAligned).toBeGreaterThanOrEqual(270);
    expect(result.segmentsObserved).toBeGreaterThanOrEqual(54); // 26 + 30 segments
    let wrong = 0;
    result.softBits.forEach((bit, segment) => {
      const shown = (segment >= 8 && segment < 34) || segment >= 60;
      if (!shown) expect(bit).toBe(0);
      else if (bit !== 0 && Math.sign(bit) !== symbols[segment]) wrong++;
    });
    expect(wrong).toBe(0);
  });

  it('matches nothing in another video: all soft bits 0', () => {
    const detector = new Detector(reference, KEY);
    for (let frame = 0; frame < 300; frame++) {
      const view = detectionView(pictureOf(frame, 'another video'), WIDTH, HEIGHT);
      detector.push(Uint8Array.from(view, Math.round));
    }
    const result = detector.finish();
    expect(result.alignment.matched).toBe(false);
    expect(result.segmentsObserved).toBe(0);
    expect(result.softBits.every((bit) => bit === 0)).toBe(true);
  });
});

/**
 * A perfectly still original: every time matches the picture equally well, so only the mark can
 * place the copy (`placeByMark`).
 */
describe('Detector (still picture)', () => {
  const WIDTH = 128;
  const HEIGHT = 72;
  const FRAMES = 450;
  const PER_SEGMENT = 5;
  const KEY = 'still-picture-key';
  const symbols = syntheticSymbols(KEY, FRAMES / PER_SEGMENT);
  const still = Uint8Array.from(
    watermarkPattern('a still shot', 0, WIDTH, HEIGHT),
    (value) => 120 + Math.round(45 * value),
  );
  const builder = new ReferenceBuilder(WIDTH, HEIGHT, 25, 0.2, PER_SEGMENT);
  for (let frame = 0; frame < FRAMES; frame++) builder.addFrame(still);
  const reference = builder.finish();

  function copyView(frame: number, marked: boolean): Uint8Array {
    const segment = Math.floor(frame / PER_SEGMENT);
    const picture = new Uint8Array(WIDTH * HEIGHT);
    const pattern = watermarkPattern(KEY, segment, WIDTH, HEIGHT);
    embedFrame(still, WIDTH, HEIGHT, pattern, symbols[segment], marked ? 0.8 : 0, picture);
    return Uint8Array.from(detectionView(picture, WIDTH, HEIGHT), Math.round);
  }

  it('places a cut copy by its mark and reads its segments', () => {
    // Original frames 123..422: the cut starts inside segment 24.
    const detector = new Detector(reference, KEY);
    for (let frame = 123; frame < 423; frame++) detector.push(copyView(frame, true));
    const result = detector.finish();

    expect(result.alignment.matched).toBe(true);
    expect(result.alignment.offsetFrames).toBeCloseTo(123, 0);
    expect(result.alignment.rate).toBeCloseTo(1, 3);
    expect(result.segmentsObserved).toBeGreaterThanOrEqual(59); // segments 25..83, and 24's end
    result.softBits.forEach((bit, segment) => {
      if (segment < 24 || segment > 84) expect(bit).toBe(0);
      else if (bit !== 0) expect(Math.sign(bit)).toBe(symbols[segment]);
    });
  });

  it('places a copy inside a long still original, not over its start', () => {
    // 2000 frames in 2 s segments: every time matches alike, and windows hanging over the
    // original's start must not crowd out the times inside it.
    const perSegment = 50;
    const picture = Uint8Array.from(
      watermarkPattern('still', 0, WIDTH, HEIGHT),
      (value) => 120 + Math.round(45 * value),
    );
    const long = new ReferenceBuilder(WIDTH, HEIGHT, 25, 2, perSegment);
    for (let frame = 0; frame < 2000; frame++) long.addFrame(picture);
    const symbolOf = (segment: number): 1 | -1 => (segment % 3 === 0 ? -1 : 1);
    const detector = new Detector(long.finish(), 'k');
    for (let frame = 1000; frame < 1300; frame++) {
      const segment = Math.floor(frame / perSegment);
      const marked = new Uint8Array(WIDTH * HEIGHT);
      const pattern = watermarkPattern('k', segment, WIDTH, HEIGHT);
      embedFrame(picture, WIDTH, HEIGHT, pattern, symbolOf(segment), 0.8, marked);
      detector.push(Uint8Array.from(detectionView(marked, WIDTH, HEIGHT), Math.round));
    }
    const result = detector.finish();
    expect(result.alignment.matched).toBe(true);
    expect(Math.abs(result.alignment.offsetFrames - 1000)).toBeLessThanOrEqual(2);
    // Segments 20..25, and perhaps two frames of 19.
    expect(result.segmentsObserved).toBeGreaterThanOrEqual(6);
    for (let segment = 20; segment <= 25; segment++) {
      expect(Math.sign(result.softBits[segment])).toBe(symbolOf(segment));
    }
  });

  it('leaves an unmarked copy unplaced: all soft bits 0', () => {
    const detector = new Detector(reference, KEY);
    for (let frame = 123; frame < 423; frame++) detector.push(copyView(frame, false));
    const result = detector.finish();
    expect(result.alignment.matched).toBe(false);
    expect(result.softBits.every((bit) => bit === 0)).toBe(true);
  });
});

/**
 * End to end through ffmpeg: a 40 s clip is embedded with 0.2 s segments (200 segments, so a
 * 40% cut still holds more than the 31 segments the threshold needs), a pirate's copy is
 * assembled from its codeword's A/B segments, attacked, and traced among 100 autographs.
 */
describe('extractSoftBits (ffmpeg)', () => {
  const JOB_KEY = Buffer.from('extract-spec-job-key');
  const SECRET = 'extract-spec-codeword-secret';
  const AUTOGRAPHS = 100;
  const PIRATE = 37;
  const DURATION = 40;
  let dir: string;
  let clip: string;
  let pirateCopy: string;
  let reference: DetectionReference;
  let biases: Float64Array;
  let codebook: PackedCodebook;
  const results = new Map<string, ExtractionResult>();

  function ffmpeg(...args: string[]): void {
    execFileSync(FFMPEG_PATH, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  }

  /** Encodes `input` (ffmpeg input options) through `filters` with x264 at `crf`. */
  function encode(name: string, input: string[], filters: string, crf = 23): string {
    const output = join(dir, `${name}.mp4`);
    ffmpeg(
      ...input,
      ...(filters ? ['-vf', filters] : []),
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf), '-pix_fmt', 'yuv420p'],
      output,
    );
    return output;
  }

  async function trace(name: string, suspect: string) {
    const result = await extractSoftBits({ suspect, reference, key: JOB_KEY });
    results.set(name, result);
    return { result, verdict: accuse({ softBits: result.softBits, codebook, biases }) };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autograph-extract-'));
    clip = join(dir, 'clip.nut');
    // A zoom into the Mandelbrot set, panned and softened: rich, always moving, never
    // repeating. Raw video keeps the fixture fast to write and to read.
    ffmpeg(
      ...['-f', 'lavfi', '-i'],
      'mandelbrot=size=480x270:rate=25:maxiter=300,' +
        'crop=320:180:x=80+70*sin(t/3):y=45+40*cos(t/4),boxblur=1:1',
      ...['-t', String(DURATION), '-pix_fmt', 'yuv420p', '-c:v', 'rawvideo', clip],
    );
    const job = await embedVariants({
      input: clip,
      outputDir: join(dir, 'job'),
      key: JOB_KEY,
      segmentDuration: 0.2,
      renditions: [{ height: 180 }],
      preset: 'veryfast',
    });
    reference = await readReference(job.referencePath);
    biases = tardosBiases(JOB_KEY, reference.segmentCount);
    codebook = new PackedCodebook(reference.segmentCount, AUTOGRAPHS);
    for (let id = 0; id < AUTOGRAPHS; id++) {
      codebook.add(generateCodeword(SECRET, `autograph-${id}`, biases));
    }
    // The pirate's download: its codeword's variants, MPEG-TS segments joined byte for byte.
    const segments = job.renditions[0].segments;
    const bytes = segments.map((segment) =>
      readFileSync(
        codewordBit(codebook.codeword(PIRATE), segment.index) === 1 ? segment.a : segment.b,
      ),
    );
    pirateCopy = join(dir, 'pirate.ts');
    writeFileSync(pirateCopy, Buffer.concat(bytes));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function expectPirateAccused(verdict: ReturnType<typeof accuse>): void {
    expect(verdict.accused.map(({ index }) => index)).toEqual([PIRATE]);
    expect(verdict.maxInnocentScore).toBeLessThan(verdict.threshold);
  }

  it('is set up with 200 segments of 5 frames', () => {
    expect(reference.segmentCount).toBe(200);
    expect(reference.framesPerSegment).toBe(5);
  });

  it('accuses the pirate of a half-size CRF 32 re-encode', async () => {
    const suspect = encode('half', ['-i', pirateCopy], 'scale=160:90', 32);
    const { result, verdict } = await trace('half', suspect);
    expect(result.segmentsObserved).toBe(200);
    expect(result.alignment.offsetFrames).toBeCloseTo(0, 0);
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of a copy cropped by 10% on each edge and scaled back', async () => {
    const suspect = encode('crop', ['-i', pirateCopy], 'crop=iw*0.8:ih*0.8,scale=320:180');
    const { result, verdict } = await trace('crop', suspect);
    for (const edge of ['left', 'right', 'top', 'bottom'] as const) {
      expect(result.alignment.geometry[edge]).toBeCloseTo(0.1, 2);
    }
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of a horizontally flipped copy', async () => {
    const suspect = encode('hflip', ['-i', pirateCopy], 'hflip');
    const { result, verdict } = await trace('hflip', suspect);
    expect(result.alignment.geometry.mirrored).toBe(true);
    expect(result.segmentsObserved).toBe(200);
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of a copy letterboxed into a 4:3 frame', async () => {
    const suspect = encode('letterbox', ['-i', pirateCopy], 'pad=320:240:0:30');
    const { result, verdict } = await trace('letterbox', suspect);
    expect(result.alignment.geometry.top).toBeCloseTo(-1 / 6, 2);
    expect(result.alignment.geometry.bottom).toBeCloseTo(-1 / 6, 2);
    expect(result.alignment.geometry.left).toBeCloseTo(0, 2);
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of a 4:3 centre crop pillarboxed back into 16:9', async () => {
    const suspect = encode('matte', ['-i', pirateCopy], 'crop=240:180,pad=320:180:40:0');
    const { result, verdict } = await trace('matte', suspect);
    // Bars of 40 / 320 of the frame each side, found one detection pixel (1 / 64) wider.
    const bar = 40 / 320 + 1 / 64;
    expect(result.alignment.geometry.bars).toEqual({ left: bar, right: bar, top: 0, bottom: 0 });
    expect(result.segmentsObserved).toBe(200);
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of a copy shown at 40 % inside another video (picture-in-picture)', async () => {
    // The pirate's copy at 128x72 with its top left corner at (170, 92) of a 320x180 frame.
    const background = 'life=s=320x180:r=25:ratio=0.1:mold=10,format=yuv420p';
    const graph = '[1:v]scale=128:72[inset];[0:v][inset]overlay=170:92:shortest=1';
    const input = ['-f', 'lavfi', '-i', background, '-i', pirateCopy, '-filter_complex', graph];
    const { result, verdict } = await trace('inset', encode('inset', input, ''));
    // Borders in units of the inset, found within a tenth of it (under a detection pixel).
    const borders = { left: -170 / 128, right: -22 / 128, top: -92 / 72, bottom: -16 / 72 };
    for (const side of ['left', 'right', 'top', 'bottom'] as const) {
      expect(Math.abs(result.alignment.geometry[side] - borders[side])).toBeLessThan(0.1);
    }
    expect(result.segmentsObserved).toBe(200);
    expectPirateAccused(verdict);
  });

  it('reads through a burnt-in logo and subtitles nearly as well as through a plain re-encode', async () => {
    const markToNoise = (r: ExtractionResult): number => r.markAmplitude / r.noiseLevel;
    const plain = await trace('plain', encode('plain', ['-i', pirateCopy], ''));
    const overlays =
      'drawbox=x=iw-60:y=8:w=48:h=18:color=white@0.7:t=fill,' +
      "drawbox=x=iw*0.2:y=ih-30:w=iw*0.6:h=10:color=white@0.9:t=fill:enable='lt(mod(t,3),2)'";
    const { result, verdict } = await trace('logo', encode('logo', ['-i', pirateCopy], overlays));
    expect(result.segmentsObserved).toBe(200);
    expect(markToNoise(result)).toBeGreaterThan(0.7 * markToNoise(plain.result));
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of a brighter, lower-contrast copy', async () => {
    const suspect = encode('eq', ['-i', pirateCopy], 'eq=brightness=0.08:contrast=0.8');
    expectPirateAccused((await trace('eq', suspect)).verdict);
  });

  it('accuses the pirate of a 30 fps copy', async () => {
    const suspect = encode('fps30', ['-i', pirateCopy], 'fps=30');
    const { result, verdict } = await trace('fps30', suspect);
    expect(result.alignment.rate).toBeCloseTo(1, 2);
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of 40% of the film cut from a random point', async () => {
    const start =
      Math.round(seededPrng('extract-spec', 'cut').nextFloat() * 0.6 * DURATION * 10) / 10;
    const cut = ['-ss', String(start), '-t', String(0.4 * DURATION), '-i', pirateCopy];
    const { result, verdict } = await trace('cut', encode('cut', cut, ''));
    expect(Math.abs(result.alignment.offsetFrames - start * 25)).toBeLessThan(2);
    expect(result.segmentsObserved).toBeGreaterThanOrEqual(79);
    expect(result.segmentsObserved).toBeLessThanOrEqual(81);
    expectPirateAccused(verdict);
  });

  it('accuses the pirate of a copy with every attack at once', async () => {
    const input = ['-ss', '7.9', '-t', String(0.6 * DURATION), '-i', pirateCopy];
    const filters = 'crop=iw*0.8:ih*0.8,scale=160:90,eq=brightness=0.08:contrast=0.8,fps=30';
    const { result, verdict } = await trace('all', encode('all', input, filters, 28));
    expect(result.segmentsObserved).toBeGreaterThanOrEqual(119);
    expectPirateAccused(verdict);
  });

  it('accuses nobody in an unmarked encode of the original', async () => {
    const { result, verdict } = await trace('unmarked', encode('unmarked', ['-i', clip], ''));
    expect(result.alignment.matched).toBe(true);
    expect(result.segmentsObserved).toBe(200);
    expect(verdict.accused).toEqual([]);
    // Unbiased and small: no mark to speak of, soft bits centred on 0.
    const marked = results.get('eq')?.markAmplitude ?? 1;
    expect(result.markAmplitude).toBeLessThan(0.1 * marked);
    const mean = result.softBits.reduce((sum, bit) => sum + bit, 0) / 200;
    const rms = Math.sqrt(result.softBits.reduce((sum, bit) => sum + bit * bit, 0) / 200);
    expect(Math.abs(mean)).toBeLessThan((4 * rms) / Math.sqrt(200));
  });

  it('accuses nobody in another video', async () => {
    const input = ['-f', 'lavfi', '-i', 'life=s=320x180:mold=10:r=25:ratio=0.1', '-t', '20'];
    const { result, verdict } = await trace('other', encode('other', input, ''));
    expect(result.alignment.matched).toBe(false);
    expect(result.softBits.every((bit) => bit === 0)).toBe(true);
    expect(verdict.accused).toEqual([]);
    expect(verdict.threshold).toBe(Infinity);
  });

  it('refuses a copy too short to accuse anyone, saying how many segments it needs', async () => {
    const short = encode('short', ['-ss', '10', '-t', '5', '-i', pirateCopy], '');
    const error = await extractSoftBits({ suspect: short, reference, key: JOB_KEY }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ExtractionError);
    expect(error).toMatchObject({ code: 'too_short', segmentsNeeded: 31 });
    expect((error as ExtractionError).segmentsObserved).toBeLessThanOrEqual(28);
  });

  it('reports progress and stops when aborted', async () => {
    const suspect = join(dir, 'half.mp4');
    const fractions: number[] = [];
    await extractSoftBits({
      suspect,
      reference,
      key: JOB_KEY,
      onProgress: (f) => fractions.push(f),
    });
    expect(fractions.length).toBeGreaterThan(10);
    expect(fractions.every((f, i) => f >= (fractions[i - 1] ?? 0))).toBe(true);
    expect(fractions[fractions.length - 1]).toBe(1);

    const controller = new AbortController();
    const aborted = extractSoftBits({
      suspect,
      reference,
      key: JOB_KEY,
      signal: controller.signal,
      onProgress: (fraction) => {
        if (fraction > 0.2) controller.abort();
      },
    });
    await expect(aborted).rejects.toThrow(/abort/i);
  });
});
