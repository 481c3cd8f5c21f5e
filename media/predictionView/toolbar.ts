// The filter and sort controls above the table: wrong only, gold and predicted label, text search (debounced),
// the sort select, clear, and the count of matching samples. Each change hands a new query to `apply`.
import type { Overview, RowQuery, SortKey } from '../../src/shared/protocol';
import { el } from '../common/dom';
import { withFilter } from './state';

const SORTS: [string, string][] = [
  ['index:asc', 'Index'],
  ['confidence:asc', 'Confidence ↑'],
  ['confidence:desc', 'Confidence ↓'],
  ['loss:desc', 'Loss ↓'],
  ['loss:asc', 'Loss ↑'],
];

export class Toolbar {
  readonly root = el('div', 'toolbar');
  private readonly wrongOnly = el('input');
  private readonly goldSelect = el('select');
  private readonly predSelect = el('select');
  private readonly searchInput = el('input');
  private readonly sortSelect = el('select');
  private readonly gLabel = el('label', undefined, 'Gold ');
  private readonly pLabel = el('label', undefined, 'Predicted ');
  readonly count = el('span', 'count');
  /** What a copy or an export did ("Copied row 12", "Exported 40 rows to …"). */
  readonly status = el('span', 'status');

  constructor(
    private readonly current: () => RowQuery,
    apply: (q: RowQuery) => void,
  ) {
    const { wrongOnly, goldSelect, predSelect, searchInput, sortSelect } = this;
    wrongOnly.type = 'checkbox';
    wrongOnly.id = 'wrongOnly';
    const wrongLabel = el('label', 'check', 'Wrong only');
    wrongLabel.htmlFor = 'wrongOnly';
    wrongLabel.prepend(wrongOnly);
    goldSelect.id = 'goldFilter';
    goldSelect.title = 'Gold label';
    predSelect.id = 'predFilter';
    predSelect.title = 'Predicted label';
    searchInput.type = 'search';
    searchInput.id = 'search';
    searchInput.placeholder = 'Search text';
    sortSelect.id = 'sort';
    sortSelect.title = 'Sort';
    for (const [v, t] of SORTS) {
      const o = el('option', undefined, t);
      o.value = v;
      sortSelect.append(o);
    }
    const clearBtn = el('button', 'clear', 'Clear filters');
    clearBtn.type = 'button';
    this.count.setAttribute('aria-live', 'polite');
    this.gLabel.append(goldSelect);
    this.pLabel.append(predSelect);
    this.status.setAttribute('role', 'status');
    this.root.append(wrongLabel, this.gLabel, this.pLabel, searchInput, sortSelect, clearBtn, this.status, this.count);

    wrongOnly.addEventListener('change', () => apply(withFilter(current(), { wrongOnly: wrongOnly.checked })));
    goldSelect.addEventListener('change', () => apply(withFilter(current(), { gold: goldSelect.value || undefined })));
    predSelect.addEventListener('change', () => apply(withFilter(current(), { predicted: predSelect.value || undefined })));
    let searchTimer: ReturnType<typeof setTimeout> | undefined;
    searchInput.addEventListener('input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => apply(withFilter(current(), { search: searchInput.value.trim() || undefined })), 200);
    });
    sortSelect.addEventListener('change', () => {
      const cut = sortSelect.value.lastIndexOf(':');
      const key = sortSelect.value.slice(0, cut) as SortKey;
      apply({ ...current(), sort: { key, descending: sortSelect.value.slice(cut + 1) === 'desc' } });
    });
    clearBtn.addEventListener('click', () => apply({ ...current(), filter: {} }));
  }

  /** The label filters offer the run's label names; generative and QA tasks have none to filter on. */
  setLabels(o: Overview): void {
    for (const s of [this.goldSelect, this.predSelect]) {
      s.textContent = '';
      const any = el('option', undefined, 'any');
      any.value = '';
      s.append(any);
      for (const l of o.labels) {
        const opt = el('option', undefined, l);
        opt.value = l;
        s.append(opt);
      }
    }
    this.gLabel.hidden = this.pLabel.hidden = o.labels.length === 0;
    // num_return_sequences: a sample is wrong when its best sequence is; the search matches every sequence
    const wrong = this.wrongOnly.parentElement!;
    wrong.title = o.sequencesPerSample ? 'samples whose best sequence (#1) is wrong' : '';
    this.searchInput.title = o.sequencesPerSample ? 'Matches the text, the label and every sequence' : '';
  }

  /** Tools of the table (Columns, Export) go before the status and the count. */
  addTools(...tools: HTMLElement[]): void {
    for (const t of tools) this.root.insertBefore(t, this.status);
  }

  /** The sort select also offers the per-sample metrics: best first (↓) and worst first (↑). */
  setScoreSorts(scores: { key: string; title: string }[]): void {
    for (const o of Array.from(this.sortSelect.querySelectorAll('option[data-score]'))) o.remove();
    for (const s of scores) {
      for (const [dir, arrow] of [
        ['desc', '↓'],
        ['asc', '↑'],
      ]) {
        const o = el('option', undefined, `${s.title} ${arrow}`);
        o.value = `${s.key}:${dir}`;
        o.dataset.score = '';
        this.sortSelect.append(o);
      }
    }
  }

  /** Show the current query in the controls. */
  sync(): void {
    const query = this.current();
    this.wrongOnly.checked = !!query.filter.wrongOnly;
    this.goldSelect.value = query.filter.gold ?? '';
    this.predSelect.value = query.filter.predicted ?? '';
    if (this.searchInput.value.trim() !== (query.filter.search ?? '')) this.searchInput.value = query.filter.search ?? '';
    this.sortSelect.value = `${query.sort.key}:${query.sort.descending ? 'desc' : 'asc'}`;
    if (!this.sortSelect.value) this.sortSelect.value = 'index:asc';
  }
}
