/**
 * The report's chart as standalone SVG, from plain numbers (pure). Panels stack vertically: line
 * panels (a curve per series, e.g. sessions Running over time) and grouped-bar panels (e.g.
 * p50/p95/p99 per run), each with axes, ticks, a legend and an optional target line.
 */

export interface LineSeries {
  label: string;
  points: [number, number][];
}

export interface LinePanel {
  kind: 'line';
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
}

export interface BarPanel {
  kind: 'bar';
  title: string;
  yLabel: string;
  /** Bar labels within a group (legend), e.g. p50, p95, p99. */
  keys: string[];
  groups: { label: string; values: number[] }[];
  /** A horizontal line, e.g. a target. */
  target?: { value: number; label: string };
  /** A logarithmic y axis (decades from 1), for values that span orders of magnitude. */
  log?: boolean;
}

export type Panel = LinePanel | BarPanel;

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const W = 860;
const H = 300;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** 1, 2 or 5 × 10^k steps giving about `count` ticks from 0 to at least `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : `${Number(v.toPrecision(3))}`;

function axes(title: string, yLabel: string, yTicks: number[], y: (v: number) => number): string[] {
  const out = [
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<text x="16" y="${(M.top + H - M.bottom) / 2}" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})" text-anchor="middle" font-size="12">${escapeXml(yLabel)}</text>`,
  ];
  for (const t of yTicks) {
    out.push(
      `<line x1="${M.left}" y1="${y(t).toFixed(1)}" x2="${W - M.right}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(t)}</text>`,
    );
  }
  return out;
}

function legend(labels: string[]): string[] {
  return labels.map((l, i) => {
    const x = M.left + 10 + i * 180;
    return `<rect x="${x}" y="${H - 18}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 16}" y="${H - 8}" font-size="12">${escapeXml(l)}</text>`;
  });
}

function linePanel(p: LinePanel): string[] {
  const xs = p.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = p.series.flatMap((s) => s.points.map(([, y]) => y));
  const xTicks = niceTicks(Math.max(1, ...xs), 8);
  const yTicks = niceTicks(Math.max(1, ...ys));
  const xMax = xTicks[xTicks.length - 1]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const x = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const out = axes(p.title, p.yLabel, yTicks, y);
  for (const t of xTicks)
    out.push(
      `<text x="${x(t).toFixed(1)}" y="${H - M.bottom + 15}" text-anchor="middle" font-size="11">${fmt(t)}</text>`,
    );
  out.push(
    `<text x="${W - M.right}" y="${H - M.bottom + 30}" text-anchor="end" font-size="12">${escapeXml(p.xLabel)}</text>`,
  );
  p.series.forEach((s, i) => {
    const pts = s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts}"/>`,
    );
  });
  out.push(...legend(p.series.map((s) => s.label)));
  return out;
}

/** Powers of ten from 1 to at least `max`. */
export function logTicks(max: number): number[] {
  const out = [1];
  while (out[out.length - 1]! < max) out.push(out[out.length - 1]! * 10);
  return out.length > 1 ? out : [1, 10];
}

function barPanel(p: BarPanel): string[] {
  const values = p.groups.flatMap((g) => g.values).filter(Number.isFinite);
  const top = Math.max(1, ...values, p.target?.value ?? 0);
  const yTicks = p.log ? logTicks(top) : niceTicks(top);
  const yMax = yTicks[yTicks.length - 1]!;
  const span = H - M.top - M.bottom;
  const y = p.log
    ? (v: number) => H - M.bottom - (Math.log10(Math.max(1, v)) / Math.log10(yMax)) * span
    : (v: number) => H - M.bottom - (v / yMax) * span;
  const out = axes(p.title, p.yLabel, yTicks, y);
  const groupW = (W - M.left - M.right) / Math.max(1, p.groups.length);
  const barW = Math.min(40, (groupW * 0.8) / Math.max(1, p.keys.length));
  p.groups.forEach((g, gi) => {
    const x0 = M.left + gi * groupW + (groupW - barW * p.keys.length) / 2;
    g.values.forEach((v, ki) => {
      if (!Number.isFinite(v)) return;
      const x = x0 + ki * barW;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(H - M.bottom - y(v)).toFixed(1)}" fill="${COLORS[ki % COLORS.length]}"><title>${escapeXml(`${g.label} ${p.keys[ki]}: ${fmt(v)}`)}</title></rect>`,
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${fmt(v)}</text>`,
      );
    });
    out.push(
      `<text x="${(M.left + gi * groupW + groupW / 2).toFixed(1)}" y="${H - M.bottom + 15}" text-anchor="middle" font-size="11">${escapeXml(g.label)}</text>`,
    );
  });
  if (p.target) {
    const ty = y(p.target.value).toFixed(1);
    out.push(
      `<line x1="${M.left}" y1="${ty}" x2="${W - M.right}" y2="${ty}" stroke="#000" stroke-dasharray="6 4"/>`,
      `<text x="${W - M.right - 4}" y="${Number(ty) - 4}" text-anchor="end" font-size="11">${escapeXml(p.target.label)}</text>`,
    );
  }
  out.push(...legend(p.keys));
  return out;
}

/** One SVG document with the panels stacked. */
export function renderChart(title: string, panels: Panel[]): string {
  const height = 40 + panels.length * H;
  const body = panels.flatMap((p, i) => [
    `<g transform="translate(0 ${40 + i * H})">`,
    ...(p.kind === 'line' ? linePanel(p) : barPanel(p)),
    '</g>',
  ]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
