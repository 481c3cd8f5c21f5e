// "Columns": a menu of checkboxes that shows or hides each column of the table. Which are hidden is kept in
// the webview state by the caller.
import type { ColumnId } from '../../src/shared/protocol';
import { button, el } from '../common/dom';
import { Column, columnLabel } from './columns';

export class ColumnMenu {
  readonly root = el('span', 'column-menu');
  private readonly toggle: HTMLButtonElement;
  private readonly menu = el('div', 'menu');

  constructor(private readonly onChange: (hidden: Set<ColumnId>) => void) {
    this.toggle = button('columns', 'Columns', () => this.open(this.menu.hidden));
    this.toggle.id = 'columnsButton';
    this.toggle.setAttribute('aria-haspopup', 'true');
    this.menu.hidden = true;
    this.menu.id = 'columnsMenu';
    this.menu.setAttribute('role', 'menu');
    this.root.append(this.toggle, this.menu);
    document.addEventListener('click', (e) => {
      if (!this.root.contains(e.target as Node)) this.open(false);
    });
    this.menu.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        this.open(false);
        this.toggle.focus();
      }
    });
  }

  private open(on: boolean): void {
    this.menu.hidden = !on;
    this.toggle.setAttribute('aria-expanded', String(on));
  }

  render(columns: Column[], hidden: Set<ColumnId>): void {
    this.menu.textContent = '';
    for (const c of columns) {
      const box = el('input');
      box.type = 'checkbox';
      box.checked = !hidden.has(c.id);
      box.dataset.column = c.id;
      const label = el('label', 'check', columnLabel(c));
      label.prepend(box);
      box.addEventListener('change', () => {
        const next = new Set(hidden);
        if (box.checked) next.delete(c.id);
        else next.add(c.id);
        hidden = next;
        this.onChange(next);
      });
      this.menu.append(label);
    }
  }
}
