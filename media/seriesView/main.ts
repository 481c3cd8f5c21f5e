// The training-series view inside the webview: one chart per metric (logged vs recomputed, drawn by
// ./chart.ts as SVG text), the metric file in use, and the steps with their errors and flags. A click on a
// step asks the host to open or debug it. Vanilla DOM; text from the series reaches the DOM through
// textContent or chart.ts's escaping only.
import type { FromSeriesView, SeriesViewState, ToSeriesView } from '../../src/shared/seriesProtocol';
import { formatCompact } from '../../src/shared/format';
import { el } from '../common/dom';
import { Host } from '../common/host';
import { chartModel, chartSvg, metricsOf } from './chart';

// The series view makes no requests: the host sends the whole state as an event after each change.
const host = new Host<Record<string, never>, FromSeriesView, ToSeriesView>((m) => {
  if (m.type === 'state') {
    current = m.state;
    render(m.state);
  }
});
const post = (m: FromSeriesView) => host.send(m);

const root = el('main');
document.body.appendChild(root);
let current: SeriesViewState | undefined;

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

function chartWidth(): number {
  return Math.max(360, Math.min(760, (document.body.clientWidth || 800) - 40));
}

function render(st: SeriesViewState): void {
  root.replaceChildren();
  const top = el('div', 'top');
  top.append(el('h1', undefined, `Training series: ${st.title}`));
  const metric = el('div', 'metric-line');
  if (st.metricFile) {
    metric.append('Recomputed with ');
    const a = el('a', 'metric-file', basename(st.metricFile));
    a.href = '#';
    a.title = st.metricFile;
    a.addEventListener('click', (e) => {
      e.preventDefault();
      post({ type: 'openFile', file: st.metricFile!, line: null });
    });
    metric.append(a, ' (saving it recomputes the curve)');
  } else metric.append('No metric file chosen: the charts show the logged curve only.');
  const pick = el('button', 'pick', st.metricFile ? 'Change metric file…' : 'Choose metric file…');
  pick.addEventListener('click', () => post({ type: 'pickMetric' }));
  metric.append(' ', pick);
  if (st.metricFile) {
    const rerun = el('button', 'rerun', 'Rerun');
    rerun.disabled = st.status === 'running';
    rerun.addEventListener('click', () => post({ type: 'rerun' }));
    metric.append(' ', rerun);
  }
  const status = el('div', `status ${st.status}`, st.status === 'running' ? `Recomputing ${st.steps.length} steps…` : st.message);
  top.append(metric, status);
  root.append(top);

  const metrics = metricsOf(st.steps);
  const charts = el('div', 'charts');
  if (!metrics.length) charts.append(el('p', 'empty', 'No metric values in this series yet.'));
  for (const k of metrics) {
    const box = el('section', 'chart-box');
    box.dataset.metric = k;
    // chart.ts escapes every text it writes; nothing else goes into this string.
    box.innerHTML = chartSvg(chartModel(st.steps, k, { width: chartWidth(), height: 240 }, st.xLabel));
    charts.append(box);
  }
  charts.addEventListener('click', (e) => {
    const t = (e.target as Element).closest('[data-dir]');
    const dir = t?.getAttribute('data-dir');
    if (dir) post({ type: 'step', dir });
  });
  root.append(charts);

  const table = el('table', 'steps');
  const head = el('tr');
  for (const h of [st.xLabel, 'epoch', 'samples', ...metrics.flatMap((k) => [`${k} logged`, 'recomputed']), 'notes']) head.append(el('th', undefined, h));
  table.append(head);
  for (const s of st.steps) {
    const tr = el('tr');
    tr.dataset.dir = s.dir;
    tr.append(el('td', 'step', s.label), el('td', undefined, s.epoch === null ? '' : formatCompact(s.epoch)), el('td', undefined, s.numSamples === null ? '' : String(s.numSamples)));
    for (const k of metrics) tr.append(el('td', 'num logged', formatCompact(s.logged?.[k])), el('td', 'num recomputed', s.error ? '✕' : formatCompact(s.recomputed?.[k])));
    const notes = el('td', 'notes');
    for (const f of s.flags) notes.append(el('div', 'flag', `⚑ ${f}`));
    if (s.error) {
      const err = el('div', 'error');
      err.append(el('span', undefined, s.error.split('\n')[0] + ' '));
      if (s.errorAt) {
        const at = el('a', 'place', `${basename(s.errorAt.file)}${s.errorAt.line ? `:${s.errorAt.line}` : ''}`);
        at.href = '#';
        at.title = s.errorAt.file;
        const place = s.errorAt;
        at.addEventListener('click', (e) => {
          e.preventDefault();
          e.stopPropagation();
          post({ type: 'openFile', file: place.file, line: place.line });
        });
        err.append(at);
      }
      notes.append(err);
    }
    tr.append(notes);
    tr.addEventListener('click', () => post({ type: 'step', dir: s.dir }));
    table.append(tr);
  }
  root.append(el('h2', undefined, 'Steps'), table);
}

let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => current && render(current), 100);
});
post({ type: 'ready' });
