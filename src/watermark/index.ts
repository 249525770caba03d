/**
 * The watermark engine: plain TypeScript on typed arrays, no framework, no database. ffmpeg is
 * reached only through media.ts.
 */
export { type KeyMaterial, Prng, deriveSeed, seededPrng } from './prng.js';
export { PATTERN_GRID_HEIGHT, PATTERN_GRID_WIDTH, watermarkPattern } from './pattern.js';
export { MASK_BLOCK_SIZE, MASK_MAX_GAIN, MASK_MIN_GAIN, perceptualMask } from './mask.js';
export { type Plane, downscalePlane } from './resample.js';
export { DEFAULT_STRENGTH, type WatermarkSymbol, embedFrame, embedVariantPair } from './embed.js';
export {
  type CodewordBit,
  DEFAULT_BIAS_CUTOFF,
  DEFAULT_FALSE_ACCUSATION_PROBABILITY,
  PackedCodebook,
  type ScoreTerms,
  accusationThresholdFor,
  codewordBit,
  codewordWords,
  generateCodeword,
  observedWeight,
  scoreCodewords,
  scoreTerms,
  symbolForBit,
  tardosBiases,
  tiltedInnocentLaw,
  variantForBit,
} from './codes.js';
export { type PlaylistSegment, parseMediaPlaylist } from './hls.js';
export {
  crfForHeight,
  DEFAULT_PRESET,
  type EncodedSegment,
  FFMPEG_PATH,
  FFPROBE_PATH,
  FrameEncoder,
  type FrameEncoderOptions,
  ACCEPTED_CONTAINERS,
  MediaError,
  type MediaErrorCode,
  type MediaInfo,
  PLAYLIST_NAME,
  type RawFrame,
  type ReadFramesOptions,
  type RemuxStream,
  SEGMENT_NAME_PATTERN,
  evenSize,
  probeMedia,
  readFrames,
  remuxToMp4,
  scaledSize,
} from './media.js';
export {
  DETECTION_HEIGHT,
  DETECTION_WIDTH,
  type DetectionReference,
  ReferenceBuilder,
  SIGNATURE_HEIGHT,
  SIGNATURE_WIDTH,
  decodeReference,
  detectionView,
  encodeReference,
  readReference,
  signatureOf,
  writeReference,
} from './reference.js';
export {
  DEFAULT_SEGMENT_DURATION,
  type EmbedOptions,
  type EmbedProgress,
  type EmbedResult,
  REFERENCE_FILE_NAME,
  type RenditionOutput,
  type RenditionRequest,
  type VariantSegment,
  embedVariants,
  framesPerSegment,
} from './embedder.js';
export { type CropGeometry, IDENTITY_GEOMETRY } from './geometry.js';
export { type SegmentObservation, softBitsFromObservations } from './detect.js';
export {
  type Accusation,
  type AccuseOptions,
  type AccuseResult,
  type AlignmentSummary,
  Detector,
  type ExtractOptions,
  ExtractionError,
  type ExtractionErrorCode,
  type ExtractionResult,
  accuse,
  extractSoftBits,
  minimumObservedSegments,
} from './extract.js';
export { rootOfIncreasing } from './roots.js';
