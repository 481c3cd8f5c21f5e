// The metrics of the latest compute_metrics run, each with its change from the run before.
import { formatCompact, formatDelta } from '../../../src/shared/format';
import type { MetricsEntry } from '../../../src/shared/protocol';
import { el } from '../../common/dom';

export class MetricsPanel {
  readonly root = el('section', 'metrics panel');

  render(history: MetricsEntry[]): void {
    const root = this.root;
    root.textContent = '';
    root.append(el('h2', undefined, 'Metrics'));
    const last = history[history.length - 1];
    if (!last) {
      root.append(el('div', 'hint', 'No metrics yet: run compute_metrics to see them here, with the change from each rerun.'));
      return;
    }
    const t = el('table', 'metrics-table');
    for (const [k, v] of Object.entries(last.metrics)) {
      const tr = el('tr');
      const d = last.deltas[k];
      const dc = el('td', `delta ${d === undefined || d === 0 ? '' : d > 0 ? 'up' : 'down'}`, d === undefined ? '' : formatDelta(d));
      tr.append(el('th', undefined, k), el('td', 'value', formatCompact(v)), dc);
      t.append(tr);
    }
    root.append(t, el('div', 'hint', `run ${history.length} · ${new Date(last.time).toLocaleTimeString()}`));
  }
}
