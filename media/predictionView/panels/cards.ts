// One card per tensor of the EvalPrediction: its structure line, dtype and shape, min / max / mean, NaN and
// -100 counts, and a histogram.
import { formatCompact } from '../../../src/shared/format';
import type { TensorCard } from '../../../src/shared/protocol';
import { el } from '../../common/dom';

export class CardsPanel {
  readonly root = el('section', 'cards');

  constructor() {
    this.root.setAttribute('aria-label', 'Tensors');
  }

  render(cards: TensorCard[], structure: string[]): void {
    const root = this.root;
    root.textContent = '';
    const st = el('div', 'structure');
    for (const s of structure) st.append(el('code', undefined, s));
    root.append(st);
    const grid = el('div', 'card-grid');
    for (const c of cards) grid.append(card(c));
    root.append(grid);
  }
}

function card(c: TensorCard): HTMLElement {
  const box = el('div', 'card');
  box.dataset.path = c.path;
  box.append(el('div', 'card-name', c.path), el('div', 'card-type', `${c.dtype}[${c.shape.join(', ')}]`));
  const stats = el('dl', 'card-stats');
  const add = (k: string, v: string, warn = false) => {
    stats.append(el('dt', undefined, k), el('dd', warn ? 'warn' : undefined, v));
  };
  add('min', formatCompact(c.min));
  add('max', formatCompact(c.max));
  add('mean', formatCompact(c.mean));
  add('NaN', String(c.nanCount), c.nanCount > 0);
  add('-100', String(c.minus100Count), c.minus100Count > 0);
  box.append(stats);
  const hist = el('div', 'hist');
  hist.setAttribute('aria-label', `histogram of ${c.path}`);
  const peak = Math.max(1, ...c.histogram.counts);
  c.histogram.counts.forEach((n, k) => {
    const bar = el('div', 'bar');
    bar.style.height = `${n ? Math.max(2, (n / peak) * 100) : 0}%`;
    bar.title = `[${formatCompact(c.histogram.edges[k])}, ${formatCompact(c.histogram.edges[k + 1])}): ${n}`;
    hist.append(bar);
  });
  box.append(hist);
  const axis = el('div', 'hist-axis');
  axis.append(el('span', undefined, formatCompact(c.histogram.edges[0])), el('span', undefined, formatCompact(c.histogram.edges[c.histogram.edges.length - 1])));
  box.append(axis);
  return box;
}
