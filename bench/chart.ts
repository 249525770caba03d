/**
 * A hand-written SVG chart of suspect copies' soft bits, for bench:robustness: per panel one bar
 * per segment of the original, green when its sign agrees with the pirate's codeword bit, red
 * when it contradicts it, and grey bands over the segments the copy does not cover (soft bit 0).
 */

export interface SoftBitPanel {
  title: string;
  /** One line under the title (scores, counts). */
  subtitle: string;
  /** One value per segment of the original, in [-1, 1]; 0 = not observed. */
  softBits: Float32Array;
  /** The pirate's symbol per segment: +1 = variant A (codeword bit 1), -1 = variant B. */
  expected: (segment: number) => 1 | -1;
}

export interface SoftBitChart {
  title: string;
  panels: SoftBitPanel[];
  /** Seconds per segment, for the axis label. */
  segmentSeconds: number;
}

const WIDTH = 960;
const LEFT = 64;
const RIGHT = 16;
const HEADER = 58;
/** Per panel: title lines, plot, tick labels and axis label. */
const PANEL_TOP = 40;
const PLOT_HEIGHT = 150;
const PANEL_BOTTOM = 48;
const AGREE = '#2e8b57';
const DISAGREE = '#d62839';
const UNOBSERVED = '#e4e4e4';

/** Counts behind a panel, also useful in a report. */
export function softBitAgreement(panel: Pick<SoftBitPanel, 'softBits' | 'expected'>): {
  agree: number;
  disagree: number;
  unobserved: number;
  /** Mean |soft bit| over the observed segments (1 = every segment certain). */
  meanConfidence: number;
} {
  let agree = 0;
  let disagree = 0;
  let unobserved = 0;
  let confidence = 0;
  panel.softBits.forEach((value, segment) => {
    if (value === 0) {
      unobserved++;
      return;
    }
    confidence += Math.abs(value);
    if (Math.sign(value) === panel.expected(segment)) agree++;
    else disagree++;
  });
  const observed = agree + disagree;
  return { agree, disagree, unobserved, meanConfidence: observed > 0 ? confidence / observed : 0 };
}

export function softBitsSvg(chart: SoftBitChart): string {
  const panelHeight = PANEL_TOP + PLOT_HEIGHT + PANEL_BOTTOM;
  const height = HEADER + chart.panels.length * panelHeight;
  const legend = [
    [AGREE, "sign agrees with the pirate's codeword bit"],
    [DISAGREE, 'sign contradicts it'],
    [UNOBSERVED, 'segment not in the copy'],
  ]
    .map(([colour, text], index) => {
      const left = LEFT + index * 290;
      return (
        `<rect x="${left}" y="35" width="10" height="10" fill="${colour}"/>` +
        `<text x="${left + 15}" y="44">${escapeXml(text)}</text>`
      );
    })
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" fill="#222">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="20" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`,
    legend,
    ...chart.panels.map((panel, index) =>
      panelSvg(panel, HEADER + index * panelHeight, chart.segmentSeconds),
    ),
    '</svg>',
    '',
  ].join('\n');
}

function panelSvg(panel: SoftBitPanel, top: number, segmentSeconds: number): string {
  const count = panel.softBits.length;
  const plotTop = top + PANEL_TOP;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const barWidth = plotWidth / Math.max(1, count);
  const x = (segment: number): number => LEFT + segment * barWidth;
  const y = (value: number): number => plotTop + ((1 - value) / 2) * PLOT_HEIGHT;
  const n = (value: number): string => value.toFixed(1).replace(/\.0$/, '');

  // Unobserved runs as single bands; bars grouped into one path per colour (keeps the file small).
  const bands: string[] = [];
  const agreeBars: string[] = [];
  const disagreeBars: string[] = [];
  let widestRun = { start: 0, length: 0 };
  for (let segment = 0; segment < count;) {
    if (panel.softBits[segment] === 0) {
      const start = segment;
      while (segment < count && panel.softBits[segment] === 0) segment++;
      const length = segment - start;
      if (length > widestRun.length) widestRun = { start, length };
      bands.push(
        `<rect x="${n(x(start))}" y="${plotTop}" width="${n(length * barWidth)}" height="${PLOT_HEIGHT}"/>`,
      );
      continue;
    }
    const value = panel.softBits[segment];
    const bar = `M${n(x(segment) + barWidth * 0.1)} ${n(y(0))}V${n(y(value))}h${n(barWidth * 0.8)}V${n(y(0))}Z`;
    (Math.sign(value) === panel.expected(segment) ? agreeBars : disagreeBars).push(bar);
    segment++;
  }

  const grid: string[] = [];
  const labels: string[] = [];
  for (const value of [-1, -0.5, 0, 0.5, 1]) {
    grid.push(`M${LEFT} ${n(y(value))}h${plotWidth}`);
    labels.push(`<text x="${LEFT - 6}" y="${n(y(value) + 4)}" text-anchor="end">${value}</text>`);
  }
  const step = niceStep(count / 12);
  for (let segment = 0; segment <= count; segment += step) {
    grid.push(`M${n(x(segment))} ${plotTop + PLOT_HEIGHT}v5`);
    labels.push(
      `<text x="${n(x(segment))}" y="${plotTop + PLOT_HEIGHT + 18}" text-anchor="middle">${segment}</text>`,
    );
  }
  const bandLabel =
    widestRun.length * barWidth >= 90
      ? `<text x="${n(x(widestRun.start + widestRun.length / 2))}" y="${n(y(0) - 8)}" ` +
        `text-anchor="middle" fill="#777">not in the copy</text>`
      : '';

  return [
    `<text x="${LEFT}" y="${top + 14}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<text x="${LEFT}" y="${top + 30}" font-size="11">${escapeXml(panel.subtitle)}</text>`,
    `<g fill="${UNOBSERVED}">${bands.join('')}</g>`,
    bandLabel,
    `<path d="${grid.join('')}" stroke="#ccc" fill="none"/>`,
    `<path d="${agreeBars.join('')}" fill="${AGREE}"/>`,
    `<path d="${disagreeBars.join('')}" fill="${DISAGREE}"/>`,
    `<path d="M${LEFT} ${plotTop}V${plotTop + PLOT_HEIGHT}h${plotWidth}M${LEFT} ${n(y(0))}h${plotWidth}" stroke="#444" fill="none"/>`,
    labels.join(''),
    `<text x="${LEFT + plotWidth / 2}" y="${plotTop + PLOT_HEIGHT + 36}" text-anchor="middle">segment of the original (${segmentSeconds} s each)</text>`,
    `<text transform="translate(18 ${plotTop + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">soft bit (+1 = A)</text>`,
  ].join('\n');
}

/** 1, 2, 5, 10, 20, 50… at or above `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
