import { DECOY_COUNT, type SegmentObservation } from './segment-correlation.js';

/**
 * Weight (in decoys) of the copy-wide median noise in each segment's noise estimate: 16 decoys
 * estimate a variance within ±35%; shrinking towards the median keeps an unlucky segment from
 * getting an overconfident soft bit.
 */
const NOISE_PRIOR_DECOYS = 8;
/** The mark amplitude used for the soft bits is at least this fraction of the typical noise. */
const MIN_AMPLITUDE_TO_NOISE = 0.1;

export interface SoftBitResult {
  /** One value per segment in [-1, 1]: sign = symbol (+1 = variant A), 0 = not observed. */
  softBits: Float32Array;
  segmentsObserved: number;
  /** Estimated mark amplitude in luma levels at the detection size (0 when there is none). */
  markAmplitude: number;
  /** Median noise (standard deviation) of a segment's projection, same unit. */
  noiseLevel: number;
}

/**
 * Soft bit of each segment: the posterior mean of its symbol, tanh(mu * a / s^2), for a
 * projection a with gaussian noise of variance s^2 and a mark of amplitude ±mu. mu is
 * estimated from the copy itself (mean of a^2 - s^2 over the observed segments), so an
 * unmarked copy gets near-zero soft bits and a clean one saturates at ±1. Several
 * observations of one segment (a copy that repeats content) are merged by inverse variance.
 *
 * Whatever these values are, they cannot raise an innocent's false-accusation probability:
 * the innocent's codeword bits are independent of the copy, and `accusationThresholdFor`
 * bounds the tail for the soft bits actually observed.
 */
export function softBitsFromObservations(
  observations: SegmentObservation[][],
  segmentCount: number,
): SoftBitResult {
  const softBits = new Float32Array(segmentCount);
  const variances: number[] = [];
  for (const list of observations) for (const o of list) variances.push(o.noiseVariance);
  if (variances.length === 0) {
    return { softBits, segmentsObserved: 0, markAmplitude: 0, noiseLevel: 0 };
  }
  variances.sort((a, b) => a - b);
  const medianVariance = variances[variances.length >> 1];

  const amplitudes = new Float64Array(segmentCount);
  const noise = new Float64Array(segmentCount).fill(-1);
  let excessEnergy = 0;
  let observed = 0;
  for (let segment = 0; segment < segmentCount && segment < observations.length; segment++) {
    const list = observations[segment];
    if (list.length === 0) continue;
    let precision = 0;
    let weighted = 0;
    for (const observation of list) {
      const variance =
        (DECOY_COUNT * observation.noiseVariance + NOISE_PRIOR_DECOYS * medianVariance) /
        (DECOY_COUNT + NOISE_PRIOR_DECOYS);
      const safeVariance = variance > 0 ? variance : 1e-12;
      precision += 1 / safeVariance;
      weighted += observation.amplitude / safeVariance;
    }
    amplitudes[segment] = weighted / precision;
    noise[segment] = 1 / precision;
    excessEnergy += amplitudes[segment] * amplitudes[segment] - noise[segment];
    observed++;
  }
  const noiseLevel = Math.sqrt(medianVariance);
  const markAmplitude = Math.sqrt(Math.max(0, excessEnergy / observed));
  const amplitude = Math.max(markAmplitude, MIN_AMPLITUDE_TO_NOISE * noiseLevel);
  for (let segment = 0; segment < segmentCount; segment++) {
    if (noise[segment] < 0) continue;
    const value = Math.tanh((amplitude * amplitudes[segment]) / noise[segment]);
    // 0 would read as "not observed": a tiny value keeps the segment counted.
    softBits[segment] = value !== 0 ? value : 1e-20;
  }
  return { softBits, segmentsObserved: observed, markAmplitude, noiseLevel };
}
