/**
 * The watermark engine: plain TypeScript on typed arrays, no framework, no database. ffmpeg is
 * reached only through the media*.ts files.
 */
export { type KeyMaterial, Prng, deriveSeed, seededPrng } from './prng.js';
export { PATTERN_GRID_HEIGHT, PATTERN_GRID_WIDTH, watermarkPattern } from './pattern.js';
export { MASK_BLOCK_SIZE, MASK_MAX_GAIN, MASK_MIN_GAIN, perceptualMask } from './mask.js';
export { type Plane, downscalePlane } from './resample.js';
export { type WatermarkSymbol, embedFrame, embedVariantPair } from './embed-frame.js';
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
  innocentTailBound,
  observedWeight,
  perInnocentProbability,
  scoreCodewords,
  scoreTerms,
  symbolForBit,
  tardosBiases,
  tiltedInnocentLaw,
  variantForBit,
} from './codes.js';
export { type PlaylistSegment, parseMediaPlaylist } from './hls.js';
export {
  CRF_RANGE,
  DEFAULT_LADDER,
  DEFAULT_PEAK_RATIO,
  type EncoderSettings,
  VIDEO_BITRATE_RANGE,
  defaultEncoderSettings,
  encoderSettingsFor,
} from './ladder.js';
export {
  FFMPEG_PATH,
  FFPROBE_PATH,
  ACCEPTED_CONTAINERS,
  MediaError,
  type MediaErrorCode,
  type MediaInfo,
  evenSize,
  probeMedia,
  scaledSize,
} from './media.js';
export {
  DEFAULT_PRESET,
  type EncodedSegment,
  FrameEncoder,
  type FrameEncoderOptions,
  PLAYLIST_NAME,
  SEGMENT_NAME_PATTERN,
} from './media-encoder.js';
export { type RawFrame, type ReadFramesOptions, readFrames } from './media-frames.js';
export { type RemuxStream, remuxToMp4 } from './media-remux.js';
export { type DownloadPackage, fragmentLayout, packageDownload } from './media-download.js';
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
} from './embed-variants.js';
export { type CropGeometry, IDENTITY_GEOMETRY } from './geometry.js';
export { type SegmentObservation } from './segment-correlation.js';
export { softBitsFromObservations } from './soft-bits.js';
export {
  type Accusation,
  type AccuseOptions,
  type AccuseResult,
  type AlignmentSummary,
  HISTOGRAM_BIN_WIDTH,
  type ScoreHistogram,
  Detector,
  type DecodedStart,
  type ExtractOptions,
  ExtractionError,
  type ExtractionErrorCode,
  type ExtractionResult,
  accuse,
  extractSoftBits,
  minimumObservedSegments,
} from './detector.js';
export { rootOfIncreasing } from './roots.js';
export {
  type FoundOriginal,
  type FoundOriginals,
  type OriginalCandidate,
  findOriginals,
} from './find-original.js';
export {
  decodeJobSignature,
  encodeJobSignature,
  type JobSignature,
  jobSignatureOf,
} from './job-signature.js';
export { type SeveralCopiesResult, combineSoftBits, extractFromCopies } from './several-copies.js';
