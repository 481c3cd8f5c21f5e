// The top of the compare view: which two caches, the task and sample count, each run's metrics with the
// difference B - A, how many samples each gets right, and the notes.
import type { CompareOverview } from '../../src/shared/compareProtocol';
import { formatDelta } from '../../src/shared/format';
import { el } from '../common/dom';
import { compareMetricValue, correctLine, deltaClass } from '../format';

export class SummaryPanel {
  readonly root = el('section', 'compare-summary');

  render(o: CompareOverview): void {
    const root = this.root;
    root.textContent = '';
    const runs = el('dl', 'runs');
    for (const [k, dir] of [
      ['A', o.a],
      ['B', o.b],
    ]) {
      runs.append(el('dt', undefined, k), el('dd', 'run-dir', dir));
    }
    root.append(runs);
    const metrics = el('section', 'panel compare-metrics');
    metrics.append(el('h2', undefined, 'Metrics'));
    const t = el('table', 'metrics-table');
    const head = el('tr');
    for (const h of ['metric', 'A', 'B', 'B − A']) head.append(el('th', undefined, h));
    t.append(head);
    for (const m of o.metrics) {
      const tr = el('tr');
      tr.dataset.key = m.key;
      const d = m.delta;
      tr.append(
        el('th', undefined, m.key),
        el('td', 'value', compareMetricValue(m.a)),
        el('td', 'value', compareMetricValue(m.b)),
        el('td', `delta ${deltaClass(m.key, d)}`.trim(), d === undefined ? '' : formatDelta(d)),
      );
      t.append(tr);
    }
    metrics.append(t);
    const counts = el('section', 'panel compare-counts');
    counts.append(el('h2', undefined, 'Samples'));
    if (o.correct.known) {
      counts.append(el('div', 'correct-line', correctLine(o.correct)));
      const fx = el('div', 'fixed-count', `fixed (wrong in A, right in B): ${o.fixed.toLocaleString('en-US')}`);
      const br = el('div', 'broken-count', `broken (right in A, wrong in B): ${o.broken.toLocaleString('en-US')}`);
      counts.append(fx, br);
    } else counts.append(el('div', 'hint', 'No sample has a known correctness in both runs.'));
    const side = el('div', 'side-by-side');
    side.append(metrics, counts);
    root.append(side);
    if (o.notes.length) {
      const ul = el('ul', 'notes');
      for (const n of o.notes) ul.append(el('li', undefined, n));
      root.append(ul);
    }
  }
}
