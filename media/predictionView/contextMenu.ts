// The table's context menu (right-click on a cell, or Shift+F10 / the context-menu key on the selected row):
// copy the cell, the row as tab-separated values, or the row as JSON. The host does the copying.
import type { CopyWhat } from '../../src/shared/protocol';
import { el } from '../common/dom';

const ITEMS: [CopyWhat, string][] = [
  ['cell', 'Copy cell'],
  ['row', 'Copy row'],
  ['row-json', 'Copy row as JSON'],
];

export class ContextMenu {
  readonly root = el('div', 'context-menu');
  private target: { pos: number; column: number } | undefined;

  constructor(private readonly onPick: (what: CopyWhat, pos: number, column: number) => void) {
    this.root.hidden = true;
    this.root.setAttribute('role', 'menu');
    for (const [what, text] of ITEMS) {
      const b = el('button', 'menu-item', text);
      b.type = 'button';
      b.dataset.copy = what;
      b.setAttribute('role', 'menuitem');
      b.addEventListener('click', () => {
        const t = this.target;
        this.close();
        if (t) this.onPick(what, t.pos, t.column);
      });
      this.root.append(b);
    }
    document.addEventListener('click', (e) => {
      if (!this.root.contains(e.target as Node)) this.close();
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.root.hidden) this.close();
    });
  }

  /** Open at page coordinates for the cell (row position, column number; -1: no particular cell). */
  open(x: number, y: number, pos: number, column: number): void {
    this.target = { pos, column };
    (this.root.querySelector('[data-copy="cell"]') as HTMLButtonElement).disabled = column < 0;
    this.root.style.left = `${x}px`;
    this.root.style.top = `${y}px`;
    this.root.hidden = false;
    (this.root.querySelector('button:not([disabled])') as HTMLButtonElement | null)?.focus();
  }

  close(): void {
    this.root.hidden = true;
    this.target = undefined;
  }
}
