// The confusion matrix of a classification run; a cell click filters the table to its (gold, predicted)
// pair, a second click clears that filter.
import type { ConfusionView, RowFilter } from '../../../src/shared/protocol';
import { el } from '../../common/dom';

export class ConfusionPanel {
  readonly root = el('section', 'confusion panel');

  /** `toggle` gets the pair of the clicked cell. */
  constructor(private readonly toggle: (gold: string, predicted: string) => void) {}

  render(cm: ConfusionView | undefined): void {
    const root = this.root;
    root.textContent = '';
    root.hidden = !cm;
    if (!cm) return;
    root.append(el('h2', undefined, 'Confusion matrix'), el('div', 'hint', 'rows: gold · columns: predicted · click a cell to filter'));
    const table = el('table', 'cm');
    const head = el('tr');
    head.append(el('th', 'corner', 'gold \\ pred'));
    for (const l of cm.labels) head.append(el('th', 'cm-col', l));
    table.append(head);
    const peak = Math.max(1, ...cm.counts.flat());
    cm.counts.forEach((row, g) => {
      const tr = el('tr');
      tr.append(el('th', 'cm-row', cm.labels[g]));
      row.forEach((n, p) => {
        const td = el('td');
        const b = el('button', `cm-cell${g === p ? ' diag' : ''}`, n.toLocaleString('en-US'));
        b.type = 'button';
        b.dataset.gold = cm.labels[g];
        b.dataset.pred = cm.labels[p];
        b.title = `gold ${cm.labels[g]}, predicted ${cm.labels[p]}: ${n}`;
        b.style.setProperty('--v', String(n / peak));
        b.addEventListener('click', () => this.toggle(cm.labels[g], cm.labels[p]));
        td.append(b);
        tr.append(td);
      });
      table.append(tr);
    });
    root.append(table);
  }

  /** Highlight the cell the table is filtered on. */
  sync(filter: RowFilter): void {
    for (const cell of Array.from(this.root.querySelectorAll<HTMLButtonElement>('button.cm-cell'))) {
      cell.classList.toggle('active', cell.dataset.gold === filter.gold && cell.dataset.pred === filter.predicted);
    }
  }
}
