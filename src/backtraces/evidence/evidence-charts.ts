import { escapeHtml } from './html-escape.js';

/** Inline SVG charts of the evidence document: no script, no external asset. */

const WIDTH = 960;
const MARGIN = { left: 48, right: 16, top: 28, bottom: 36 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;

const AGREE = '#1b7f3b';
const DISAGREE = '#c62828';
const MUTED = '#9e9e9e';

/** Two decimals at most: the same input always writes the same text. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * The copy's soft bit per segment as bars around 0 (green where its sign is the accused
 * autograph's symbol, red where not), over a strip showing that symbol (dark: A, light: B).
 */
export function softBitChart(softBits: number[], symbols: number[], title: string): string {
  const height = 240;
  const strip = 14;
  const plotTop = MARGIN.top + strip + 8;
  const plotHeight = height - plotTop - MARGIN.bottom;
  const zero = plotTop + plotHeight / 2;
  const step = PLOT_WIDTH / Math.max(1, softBits.length);
  const x = (i: number): number => MARGIN.left + (i + 0.5) * step;
  const paths = { agree: '', disagree: '', a: '', b: '' };
  softBits.forEach((bit, i) => {
    const symbol = symbols[i] ?? 0;
    const left = n(MARGIN.left + i * step);
    paths[symbol > 0 ? 'a' : 'b'] +=
      `M${left} ${MARGIN.top}h${n(Math.max(step, 0.5))}v${strip}h${n(-Math.max(step, 0.5))}z`;
    if (bit === 0) return;
    const kind = Math.sign(bit) === symbol ? 'agree' : 'disagree';
    paths[kind] += `M${n(x(i))} ${n(zero)}V${n(zero - (bit * plotHeight) / 2)}`;
  });
  const barWidth = n(Math.max(0.5, Math.min(6, step * 0.7)));
  const axisLabels = [1, 0, -1]
    .map(
      (value) =>
        `<text x="${MARGIN.left - 6}" y="${n(zero - (value * plotHeight) / 2 + 4)}" text-anchor="end">${value}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}" font-family="sans-serif" font-size="11">
<title>${escapeHtml(title)}</title>
<path d="${paths.a}" fill="#37474f"/><path d="${paths.b}" fill="#cfd8dc"/>
<text x="${MARGIN.left - 6}" y="${MARGIN.top + 11}" text-anchor="end">code</text>
<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${n(zero)}" y2="${n(zero)}" stroke="#616161"/>
<path d="${paths.agree}" stroke="${AGREE}" stroke-width="${barWidth}"/>
<path d="${paths.disagree}" stroke="${DISAGREE}" stroke-width="${barWidth}"/>
${axisLabels}
<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${height - 8}" text-anchor="middle">segment of the original (1 … ${softBits.length}); green: soft bit agrees with the autograph's symbol, red: disagrees, none: not observed</text>
</svg>`;
}

export interface HistogramMark {
  label: string;
  score: number;
}

/**
 * Every autograph's score as a histogram (counts on a log scale, so one accused autograph shows
 * beside a million innocents), the threshold as a dashed line and each accused as a red marker.
 */
export function scoreHistogramChart(
  histogram: { start: number; width: number; counts: number[] },
  threshold: number | null,
  accused: HistogramMark[],
): string {
  const height = 260;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const end = histogram.start + histogram.width * histogram.counts.length;
  const low = Math.min(histogram.start, 0);
  const high = Math.max(end, (threshold ?? end) + 1, ...accused.map(({ score }) => score + 1));
  const x = (score: number): number => MARGIN.left + ((score - low) / (high - low)) * PLOT_WIDTH;
  const logMax = Math.log10(1 + Math.max(1, ...histogram.counts));
  const y = (count: number): number =>
    MARGIN.top + plotHeight - (Math.log10(1 + count) / logMax) * plotHeight;
  const bars = histogram.counts
    .map((count, bin) => {
      if (count === 0) return '';
      const left = x(histogram.start + bin * histogram.width);
      const width = x(histogram.start + (bin + 1) * histogram.width) - left;
      return `<rect x="${n(left)}" y="${n(y(count))}" width="${n(Math.max(1, width - 1))}" height="${n(MARGIN.top + plotHeight - y(count))}" fill="#78909c"><title>${count} autograph(s) scoring ${n(histogram.start + bin * histogram.width)} to ${n(histogram.start + (bin + 1) * histogram.width)}</title></rect>`;
    })
    .join('');
  const ticks: string[] = [];
  for (let tick = Math.ceil(low); tick <= high; tick += Math.max(1, Math.ceil((high - low) / 12))) {
    ticks.push(
      `<text x="${n(x(tick))}" y="${MARGIN.top + plotHeight + 14}" text-anchor="middle">${tick}</text>`,
    );
  }
  const thresholdLine =
    threshold === null
      ? ''
      : `<line x1="${n(x(threshold))}" x2="${n(x(threshold))}" y1="${MARGIN.top - 6}" y2="${MARGIN.top + plotHeight}" stroke="${DISAGREE}" stroke-dasharray="5 4"/><text x="${n(x(threshold) + 4)}" y="${MARGIN.top - 8}" fill="${DISAGREE}">threshold ${n(threshold)}</text>`;
  const marks = accused
    .map(({ label, score }, i) => {
      const at = x(score);
      const top = MARGIN.top + plotHeight - 4;
      return `<path d="M${n(at)} ${n(top)}l-6 -12h12z" fill="${DISAGREE}"/><text x="${n(at)}" y="${n(top - 16 - 12 * i)}" text-anchor="middle" fill="${DISAGREE}">${escapeHtml(label)} (${n(score)})</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="Histogram of every autograph's score" font-family="sans-serif" font-size="11">
<title>Histogram of every autograph's score</title>
<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}" stroke="#616161"/>
${bars}${ticks.join('')}${thresholdLine}${marks}
<text x="${MARGIN.left - 6}" y="${MARGIN.top + 4}" text-anchor="end" fill="${MUTED}">log</text>
<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${height - 6}" text-anchor="middle">normalised score (an innocent autograph scores about 0 ± 1); bar height: number of autographs, log scale</text>
</svg>`;
}
