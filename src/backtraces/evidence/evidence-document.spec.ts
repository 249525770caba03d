import type { EvidenceDto } from '../dto/evidence.dto.js';
import { renderEvidenceHtml } from './evidence-document.js';

const HOSTILE = `<script>alert("x")</script>`;

function evidence(): EvidenceDto {
  const segments = 40;
  return {
    backtrace_id: '0123456789abcdef01234567',
    traced_at: Date.UTC(2026, 10, 30, 12),
    generated_at: Date.UTC(2026, 10, 30, 13),
    suspect_copies: [
      {
        name: `uploads/${HOSTILE}.mp4`,
        size: 1234567,
        sha256: 'a'.repeat(64),
        duration: 40,
        width: 640,
        height: 360,
        segments_observed: segments,
        alignment: {
          matched: true,
          offset_seconds: 0,
          rate: 1,
          crop: { left: 0, right: 0, top: 0, bottom: 0 },
          mirrored: true,
          brightness_contrast: 'normalised per frame',
          confidence: 0.99,
          locks: 1,
          frames_aligned: 1000,
        },
      },
    ],
    original: {
      job_id: 'fedcba9876543210fedcba98',
      name: 'film.mp4',
      sha256: 'b'.repeat(64),
      segment_duration: 1,
      segment_count: segments,
    },
    reference_sha256: 'c'.repeat(64),
    software: { version: '0.1.0', commit: 'd'.repeat(40) },
    bound: {
      autographs_scored: 100,
      jobs_traced: 1,
      false_accusation_probability: 1e-6,
      per_autograph_probability: 1e-8,
      threshold: 5.5,
      max_innocent_score: 2.1,
      segments_observed: segments,
      segment_count: segments,
      method: 'Chernoff and union bounds.',
    },
    accused: [
      {
        autograph_tag: HOSTILE,
        score: 9.25,
        threshold: 5.5,
        segments_observed: segments,
        innocent_probability: 2.5e-15,
        any_innocent_probability: 2.5e-13,
        codeword_symbols: Array.from({ length: segments }, (_, i) => (i % 3 === 0 ? -1 : 1)),
        access_stats: [
          {
            ip_address: '5.9.119.0',
            ip_country: 'Germany',
            ip_type: 'DCH',
            user_agent: `Mozilla ${HOSTILE}`,
            accept_language: 'N/A',
            first_accessed_at: Date.UTC(2026, 10, 1),
            percentage_obtained: '100%',
            highest_resolution: '360p',
            streaming_only: 'no',
          },
        ],
      },
    ],
    soft_bits: Array.from({ length: segments }, (_, i) => (i % 3 === 0 ? -0.6 : 0.6)),
    score_histogram: { start: -3, width: 0.25, counts: [1, 4, 10, 20, 30, 20, 10, 4, 1] },
  };
}

describe('renderEvidenceHtml', () => {
  it('states the facts, escaping every user-supplied text', () => {
    const html = renderEvidenceHtml(evidence());
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    for (const fact of ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64), 'd'.repeat(40)]) {
      expect(html).toContain(fact);
    }
    expect(html).toContain('yes: the copy is flipped left to right');
    expect(html).toContain('1,234,567 bytes');
    expect(html).toContain('2.50e-13');
    expect(html).toContain('threshold 5.5');
    // Self-contained: no external reference of any kind.
    expect(html).not.toMatch(/(src|href)=|url\(|@import/);
    expect(html.match(/<svg /g)).toHaveLength(2);
  });

  it('is the same for the same facts', () => {
    expect(renderEvidenceHtml(evidence())).toBe(renderEvidenceHtml(evidence()));
  });
});
