// The training-series chart: one metric over the steps of a training run, the curve as logged and the curve
// recomputed by the user's metric file. Pure functions (no DOM), so the geometry and the SVG text are
// unit-tested under Node (test/unit/seriesChart.test.ts); the webview only inserts the string.
//
// The SVG uses classes and presentation attributes only: the view's CSP forbids inline style (docs/architecture.md,
// "The extension and the webview"). Every text that comes from the series (metric names, error messages) is escaped.
import { formatCompact } from '../../src/shared/format';
import { SeriesStepView, isSpeedMetric } from '../../src/shared/seriesProtocol';

export interface ChartSize {
  width: number;
  height: number;
}

export const DEFAULT_SIZE: ChartSize = { width: 560, height: 240 };
const MARGIN = { left: 56, right: 16, top: 28, bottom: 34 };

export interface ChartPoint {
  dir: string;
  label: string;
  x: number;
  value: number;
  px: number;
  py: number;
}

export interface Tick {
  value: number;
  /** Pixel position along its axis. */
  at: number;
  label: string;
}

export interface ChartModel {
  metric: string;
  size: ChartSize;
  plot: { left: number; top: number; right: number; bottom: number };
  xDomain: [number, number];
  yDomain: [number, number];
  xTicks: Tick[];
  yTicks: Tick[];
  xLabel: string;
  /** Runs of consecutive steps that have a value: a step without one breaks the line. */
  logged: ChartPoint[][];
  recomputed: ChartPoint[][];
  /** Steps whose rerun failed, at their x. */
  errors: { dir: string; label: string; px: number; message: string }[];
  /** Steps flagged (another sample count: another dataset?), at their x. */
  flags: { dir: string; label: string; px: number; text: string }[];
  /** One click zone per step, spanning half the distance to each neighbour. */
  columns: { dir: string; label: string; px: number; from: number; to: number; tooltip: string }[];
}

/** The metrics to chart, in first-seen order (logged keys first), without Trainer's speed fields. */
export function metricsOf(steps: SeriesStepView[]): string[] {
  const keys: string[] = [];
  for (const s of steps) for (const k of Object.keys(s.logged ?? {})) if (!keys.includes(k)) keys.push(k);
  for (const s of steps) for (const k of Object.keys(s.recomputed ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys.filter((k) => !isSpeedMetric(k));
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const step = niceStep((hi - lo) / count);
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let i = first; i * step <= hi + step * 1e-9; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

/** The y range: every value shown, widened to round numbers; a flat curve gets room around it. */
export function yDomainOf(values: number[]): [number, number] {
  if (!values.length) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / 5);
  return [Number((Math.floor(lo / step + 1e-9) * step).toPrecision(12)), Number((Math.ceil(hi / step - 1e-9) * step).toPrecision(12))];
}

const valueOf = (m: Record<string, number> | null, k: string): number | undefined => {
  const v = m?.[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

export function chartModel(allSteps: SeriesStepView[], metric: string, size: ChartSize = DEFAULT_SIZE, xLabel = 'step'): ChartModel {
  const steps = [...allSteps].sort((a, b) => a.x - b.x);
  const plot = { left: MARGIN.left, top: MARGIN.top, right: size.width - MARGIN.right, bottom: size.height - MARGIN.bottom };
  const xs = steps.map((s) => s.x);
  const xDomain: [number, number] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (xDomain[0] === xDomain[1]) xDomain[1] = xDomain[0] + 1;
  // A single step sits in the middle rather than on the left edge.
  const xMid = steps.length === 1;
  const px = (x: number) => (xMid ? (plot.left + plot.right) / 2 : plot.left + ((x - xDomain[0]) / (xDomain[1] - xDomain[0])) * (plot.right - plot.left));
  const values = steps.flatMap((s) => [valueOf(s.logged, metric), valueOf(s.recomputed, metric)]).filter((v): v is number => v !== undefined);
  const yDomain = yDomainOf(values);
  const py = (v: number) => plot.bottom - ((v - yDomain[0]) / (yDomain[1] - yDomain[0])) * (plot.bottom - plot.top);

  const runs = (pick: (s: SeriesStepView) => number | undefined): ChartPoint[][] => {
    const out: ChartPoint[][] = [];
    let run: ChartPoint[] = [];
    for (const s of steps) {
      const v = pick(s);
      if (v === undefined) {
        if (run.length) out.push(run);
        run = [];
        continue;
      }
      run.push({ dir: s.dir, label: s.label, x: s.x, value: v, px: px(s.x), py: py(v) });
    }
    if (run.length) out.push(run);
    return out;
  };

  const xTickValues = xMid ? xs : steps.length <= 8 ? xs : niceTicks(xDomain[0], xDomain[1], 6);
  const columns = steps.map((s, i) => {
    const at = px(s.x);
    const prev = i > 0 ? px(steps[i - 1].x) : plot.left - (steps.length > 1 ? (px(steps[1].x) - at) : plot.right - plot.left);
    const next = i < steps.length - 1 ? px(steps[i + 1].x) : plot.right + (steps.length > 1 ? at - px(steps[i - 1].x) : plot.right - plot.left);
    const lv = valueOf(s.logged, metric);
    const rv = s.error ? undefined : valueOf(s.recomputed, metric);
    const tooltip = `${s.label} · logged ${formatCompact(lv)} · recomputed ${s.error ? 'failed' : formatCompact(rv)}: click to open or debug this step`;
    return { dir: s.dir, label: s.label, px: at, from: Math.max(plot.left - 8, (prev + at) / 2), to: Math.min(plot.right + 8, (at + next) / 2), tooltip };
  });
  return {
    metric,
    size,
    plot,
    xDomain,
    yDomain,
    xLabel,
    xTicks: [...new Set(xTickValues)].map((v) => ({ value: v, at: px(v), label: formatCompact(v) })),
    yTicks: niceTicks(yDomain[0], yDomain[1], 5).map((v) => ({ value: v, at: py(v), label: formatCompact(v) })),
    logged: runs((s) => valueOf(s.logged, metric)),
    recomputed: runs((s) => (s.error ? undefined : valueOf(s.recomputed, metric))),
    errors: steps.filter((s) => s.error).map((s) => ({ dir: s.dir, label: s.label, px: px(s.x), message: s.error! })),
    flags: steps.flatMap((s) => (s.flags.length ? [{ dir: s.dir, label: s.label, px: px(s.x), text: s.flags.join('; ') }] : [])),
    columns,
  };
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const n = (v: number) => String(Math.round(v * 10) / 10);

function pathOf(run: ChartPoint[]): string {
  return run.map((p, i) => `${i ? 'L' : 'M'}${n(p.px)} ${n(p.py)}`).join(' ');
}

/** The chart as an SVG element's text: axes with ticks, the two curves with their points, error and flag marks, click zones. */
export function chartSvg(m: ChartModel): string {
  const { plot, size } = m;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${size.width}" height="${size.height}" viewBox="0 0 ${size.width} ${size.height}" role="img" aria-label="${escapeXml(`${m.metric} over ${m.xLabel}s: logged and recomputed`)}" data-metric="${escapeXml(m.metric)}">`);
  out.push(`<text class="title" x="${plot.left}" y="16">${escapeXml(m.metric)}</text>`);
  // legend, top right
  const lx = plot.right - 190;
  out.push(`<g class="legend"><line class="logged" x1="${lx}" y1="12" x2="${lx + 18}" y2="12"/><text x="${lx + 22}" y="16">logged</text>`);
  out.push(`<line class="recomputed" x1="${lx + 80}" y1="12" x2="${lx + 98}" y2="12"/><text x="${lx + 102}" y="16">recomputed</text></g>`);
  out.push('<g class="grid">');
  for (const t of m.yTicks) out.push(`<line x1="${plot.left}" y1="${n(t.at)}" x2="${plot.right}" y2="${n(t.at)}"/>`);
  out.push('</g>');
  out.push(`<g class="axis y"><line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}"/>`);
  for (const t of m.yTicks) out.push(`<text x="${plot.left - 6}" y="${n(t.at + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  out.push('</g>');
  out.push(`<g class="axis x"><line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}"/>`);
  for (const t of m.xTicks) out.push(`<line x1="${n(t.at)}" y1="${plot.bottom}" x2="${n(t.at)}" y2="${plot.bottom + 4}"/><text x="${n(t.at)}" y="${plot.bottom + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  out.push(`<text class="axis-label" x="${plot.right}" y="${size.height - 4}" text-anchor="end">${escapeXml(m.xLabel)}</text></g>`);
  for (const f of m.flags) {
    out.push(`<g class="flag" data-dir="${escapeXml(f.dir)}"><title>${escapeXml(`${f.label}: ${f.text}`)}</title><path d="M${n(f.px - 5)} ${plot.bottom + 1} L${n(f.px + 5)} ${plot.bottom + 1} L${n(f.px)} ${plot.bottom - 8} Z"/></g>`);
  }
  for (const e of m.errors) {
    out.push(`<g class="error" data-dir="${escapeXml(e.dir)}"><title>${escapeXml(`${e.label}: ${e.message}`)}</title>`);
    out.push(`<line x1="${n(e.px)}" y1="${plot.top}" x2="${n(e.px)}" y2="${plot.bottom}"/><text x="${n(e.px)}" y="${plot.top - 2}" text-anchor="middle">✕</text></g>`);
  }
  for (const series of ['logged', 'recomputed'] as const) {
    out.push(`<g class="series ${series}">`);
    for (const run of m[series]) out.push(`<path class="line" d="${pathOf(run)}"/>`);
    for (const run of m[series]) {
      for (const p of run) {
        out.push(`<circle class="point" cx="${n(p.px)}" cy="${n(p.py)}" r="3.5" data-dir="${escapeXml(p.dir)}" data-value="${p.value}"><title>${escapeXml(`${p.label}: ${series} ${formatCompact(p.value)}`)}</title></circle>`);
      }
    }
    out.push('</g>');
  }
  // Transparent columns on top take the clicks, so a step is easy to hit even where it has no point.
  out.push('<g class="hits">');
  for (const c of m.columns) {
    out.push(`<rect class="hit" x="${n(c.from)}" y="${plot.top}" width="${n(c.to - c.from)}" height="${plot.bottom - plot.top}" data-dir="${escapeXml(c.dir)}"><title>${escapeXml(c.tooltip)}</title></rect>`);
  }
  out.push('</g></svg>');
  return out.join('');
}
