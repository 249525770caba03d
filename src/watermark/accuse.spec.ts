import { accuse } from './accuse.js';
import { codewordBit, generateCodeword, PackedCodebook, tardosBiases } from './codes.js';
import { seededPrng } from './prng.js';

const SEGMENTS = 300;
const AUTOGRAPHS = 500;
const biases = tardosBiases('accuse-spec-job', SEGMENTS);
const codebook = new PackedCodebook(SEGMENTS);
for (let id = 0; id < AUTOGRAPHS; id++) {
  codebook.add(generateCodeword('accuse-spec-secret', `autograph-${id}`, biases));
}

/** Soft bits of a copy of `pirate`, with a confidence of 0.4 and 15% of the signs wrong. */
function copyOf(pirate: number): Float32Array {
  const prng = seededPrng('accuse-spec', `copy-${pirate}`);
  return Float32Array.from({ length: SEGMENTS }, (_, i) => {
    const symbol = codewordBit(codebook.codeword(pirate), i) === 1 ? 1 : -1;
    return (prng.nextFloat() < 0.15 ? -symbol : symbol) * 0.4;
  });
}

describe('accuse', () => {
  it('accuses the pirate alone, with the margin to the best innocent', () => {
    const verdict = accuse({ softBits: copyOf(123), codebook, biases });
    expect(verdict.accused.map(({ index }) => index)).toEqual([123]);
    expect(verdict.accused[0].score).toBeGreaterThan(verdict.threshold);
    expect(verdict.maxInnocentScore).toBeLessThan(verdict.threshold);
    expect(verdict.threshold).toBeGreaterThan(4);
    expect(verdict.threshold).toBeLessThan(6);
    expect(verdict.observedWeight).toBeCloseTo(SEGMENTS * 0.16, 3);
  });

  it('orders several accused strongest first', () => {
    // Interleaved collusion of two pirates: each segment from one of them.
    const a = copyOf(7);
    const b = copyOf(300);
    const mixed = a.map((value, i) => (i % 3 === 0 ? b[i] : value));
    const verdict = accuse({ softBits: mixed, codebook, biases, epsilon: 1e-3 });
    expect(verdict.accused.map(({ index }) => index)).toEqual([7, 300]);
    expect(verdict.accused[0].score).toBeGreaterThan(verdict.accused[1].score);
  });

  it('accuses nobody without evidence', () => {
    const verdict = accuse({ softBits: new Float32Array(SEGMENTS), codebook, biases });
    expect(verdict.accused).toEqual([]);
    expect(verdict.threshold).toBe(Infinity);
    expect(verdict.observedWeight).toBe(0);
  });
});
