// The table's header row: column titles, and sorting on a click (or Enter / Space) on a sortable title; the
// current sort shows as an arrow and as aria-sort.
import type { RowQuery, SortKey } from '../../src/shared/protocol';
import { el, onActivate } from '../common/dom';
import { headerSort } from '../format';
import type { Column } from './columns';

export class TableHeader {
  readonly root = el('div', 'thead');
  private cells: HTMLDivElement[] = [];
  private columns: Column[] = [];

  constructor(
    private readonly onSort: (sort: RowQuery['sort']) => void,
    private readonly current: () => RowQuery['sort'],
  ) {
    this.root.setAttribute('role', 'row');
  }

  setColumns(columns: Column[], hidden: boolean[]): void {
    const { onSort, current } = this;
    this.columns = columns;
    this.root.textContent = '';
    this.cells = columns.map((c, k) => {
      const cell = el('div', 'cell', c.title);
      cell.setAttribute('role', 'columnheader');
      const key = c.sortKey;
      if (key) {
        cell.classList.add('sortable');
        cell.tabIndex = 0;
        onActivate(cell, () => onSort(headerSort(current(), key)));
      }
      cell.dataset.column = c.id;
      if (c.hint) cell.title = c.hint;
      cell.hidden = !!hidden[k];
      this.root.append(cell);
      return cell;
    });
  }

  setHidden(hidden: boolean[]): void {
    this.cells.forEach((c, k) => (c.hidden = !!hidden[k]));
  }

  sync(sort: { key: SortKey; descending: boolean }): void {
    this.cells.forEach((cell, k) => {
      const key = this.columns[k].sortKey;
      if (!key) return;
      const on = sort.key === key;
      cell.setAttribute('aria-sort', on ? (sort.descending ? 'descending' : 'ascending') : 'none');
      cell.textContent = this.columns[k].title + (on && key !== 'index' ? (sort.descending ? ' ↓' : ' ↑') : '');
    });
  }
}
