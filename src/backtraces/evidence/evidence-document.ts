import type { EvidenceDto } from '../dto/evidence.dto.js';
import { scoreHistogramChart, softBitChart } from './evidence-charts.js';
import { escapeHtml } from './html-escape.js';

/** A probability as 1.23e-15, the way the JSON has it (no rounding to 0). */
function probability(value: number): string {
  return value === 0 ? '0' : value.toExponential(2);
}

function time(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

function bytes(size: number): string {
  return `${size.toLocaleString('en-US')} bytes`;
}

/** A two-column table of facts; every value escaped. */
function facts(rows: [string, string | number | null][]): string {
  const body = rows
    .map(
      ([name, value]) =>
        `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value ?? 'unknown')}</td></tr>`,
    )
    .join('\n');
  return `<table class="facts">\n${body}\n</table>`;
}

const STYLE = `
body { font-family: Georgia, 'Times New Roman', serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #212121; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; border-bottom: 1px solid #bdbdbd; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; } th, td { text-align: left; padding: 3px 8px; vertical-align: top; }
table.facts th { width: 32%; font-weight: normal; color: #555; } table.list th { border-bottom: 1px solid #9e9e9e; }
td { overflow-wrap: anywhere; } .verdict { font-size: 1.1em; padding: 0.6em 0.8em; background: #f5f5f5; border-left: 4px solid #c62828; }
.verdict.none { border-left-color: #1b7f3b; } .muted { color: #757575; font-size: 0.9em; }
section.accused { page-break-inside: avoid; } svg { display: block; margin: 0.5em 0; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } }
`;

/** One copy: what it is and what alignment found in it. */
function copySection(copy: EvidenceDto['suspect_copies'][number], index: number): string {
  const { alignment } = copy;
  const crop = alignment.crop;
  return `<h2>Suspect copy ${index + 1}</h2>
${facts([
  ['File name', copy.name],
  ['Size', bytes(copy.size)],
  ['SHA-256', copy.sha256],
  ['Duration', `${copy.duration.toFixed(2)} s`],
  ['Resolution', `${copy.width} × ${copy.height}`],
  ['Matched the original', alignment.matched ? 'yes' : 'no'],
  ['Offset', `the copy starts at ${alignment.offset_seconds.toFixed(3)} s of the original`],
  ['Rate', `${alignment.rate} (1 = same speed)`],
  [
    'Crop',
    `left ${crop.left}, right ${crop.right}, top ${crop.top}, bottom ${crop.bottom} (share of the picture)`,
  ],
  ['Mirrored', alignment.mirrored ? 'yes: the copy is flipped left to right' : 'no'],
  ['Brightness and contrast', alignment.brightness_contrast],
  ['Signature correlation at lock', alignment.confidence],
  ['Locks', alignment.locks],
  ['Segments of the original covered', copy.segments_observed],
])}`;
}

/** The evidence document: one self-contained, printable HTML page (inline CSS and SVG only). */
export function renderEvidenceHtml(evidence: EvidenceDto): string {
  const { original, bound } = evidence;
  const accusedNames = evidence.accused.map(({ autograph_tag }) => autograph_tag);
  const verdict =
    evidence.accused.length === 0
      ? '<p class="verdict none">No autograph scored above the threshold: this copy accuses nobody.</p>'
      : `<p class="verdict">Accused: ${accusedNames.map((tag) => `<strong>${escapeHtml(tag)}</strong>`).join(', ')}. The probability that this backtrace accuses any innocent autograph of the job is at most ${probability(bound.false_accusation_probability)}.</p>`;
  const accused = evidence.accused
    .map((entry) => {
      const stats = entry.access_stats
        .map(
          (stat) =>
            `<tr><td>${escapeHtml(stat.ip_address)}</td><td>${escapeHtml(stat.ip_country)}</td><td>${escapeHtml(stat.ip_type)}</td><td>${escapeHtml(stat.user_agent)}</td><td>${escapeHtml(stat.accept_language)}</td><td>${escapeHtml(time(stat.first_accessed_at))}</td><td>${escapeHtml(stat.percentage_obtained)}</td><td>${escapeHtml(stat.highest_resolution)}</td><td>${escapeHtml(stat.streaming_only)}</td></tr>`,
        )
        .join('\n');
      return `<section class="accused">
<h2>Accused autograph “${escapeHtml(entry.autograph_tag)}”</h2>
${facts([
  ['Score', entry.score],
  ['Threshold', entry.threshold],
  ['Segments observed', entry.segments_observed],
  [
    'Probability that one innocent autograph scores this much',
    probability(entry.innocent_probability),
  ],
  [
    'Probability that any innocent autograph of the job scores this much',
    probability(entry.any_innocent_probability),
  ],
])}
${softBitChart(evidence.soft_bits, entry.codeword_symbols, `Soft bits of the copy against the codeword of ${entry.autograph_tag}`)}
<h3>How this autograph obtained the video</h3>
<table class="list"><tr><th>IP address</th><th>Country</th><th>IP type</th><th>User agent</th><th>Language</th><th>First access</th><th>Obtained</th><th>Highest resolution</th><th>Streaming only</th></tr>
${stats || '<tr><td colspan="9">No access recorded.</td></tr>'}
</table>
</section>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Evidence — backtrace ${escapeHtml(evidence.backtrace_id)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Forensic watermark evidence</h1>
<p class="muted">Backtrace ${escapeHtml(evidence.backtrace_id)} · traced ${escapeHtml(time(evidence.traced_at))} · document generated ${escapeHtml(time(evidence.generated_at))}</p>
${verdict}
${evidence.suspect_copies.map(copySection).join('\n')}
<h2>Original</h2>
${facts([
  ['Job', original.job_id],
  ['File name', original.name],
  ['SHA-256', original.sha256],
  ['Segments', `${original.segment_count} of ${original.segment_duration} s`],
  ['Detection reference SHA-256', evidence.reference_sha256],
  ['Software', `Autograph ${evidence.software.version}, commit ${evidence.software.commit}`],
])}
<h2>The bound</h2>
${facts([
  ['Autographs scored', bound.autographs_scored],
  ['Jobs of this original traced', bound.jobs_traced],
  [
    'Segments observed',
    `${bound.segments_observed} of ${bound.segment_count}${evidence.suspect_copies.length > 1 ? ', the copies combined' : ''}`,
  ],
  [
    'Bound on accusing any innocent in this backtrace',
    probability(bound.false_accusation_probability),
  ],
  ['Bound per innocent autograph', probability(bound.per_autograph_probability)],
  ['Threshold', bound.threshold ?? 'none: too little evidence to accuse anyone'],
  ['Best score below the threshold', bound.max_innocent_score],
])}
<p>${escapeHtml(bound.method)}</p>
${scoreHistogramChart(
  evidence.score_histogram,
  bound.threshold,
  evidence.accused.map(({ autograph_tag, score }) => ({ label: autograph_tag, score })),
)}
${accused}
</body>
</html>
`;
}
