// The samples whose correctness changed, in sample order: a fixed / broken / all filter, a search box, and the
// list itself in pages (the host sends windows; "Show more" asks for the next). A row click opens its diff.
import type { ChangeFilter, ChangedSample } from '../../src/shared/compareProtocol';
import { button, el } from '../common/dom';

const PAGE = 200;

export interface ChangedQuery {
  change: ChangeFilter;
  search: string;
}

export class ChangedList {
  readonly root = el('section', 'changed');
  private readonly filter = el('select');
  private readonly search = el('input');
  private readonly count = el('span', 'count');
  private readonly list = el('div', 'changed-list');
  private readonly more = button('more', 'Show more', () => this.load(false));
  private rows: ChangedSample[] = [];
  private total = 0;
  private generation = 0;
  private selected: number | undefined;

  constructor(
    private readonly fetch: (q: ChangedQuery, start: number, count: number) => Promise<{ total: number; rows: ChangedSample[] }>,
    private readonly open: (s: ChangedSample) => void,
    private readonly onError: (message: string) => void,
    private readonly onQuery: (q: ChangedQuery) => void,
  ) {
    this.filter.id = 'changeFilter';
    this.filter.title = 'Which changes';
    for (const [v, t] of [
      ['all', 'Fixed and broken'],
      ['fixed', 'Fixed (wrong in A, right in B)'],
      ['broken', 'Broken (right in A, wrong in B)'],
    ]) {
      const o = el('option', undefined, t);
      o.value = v;
      this.filter.append(o);
    }
    this.search.type = 'search';
    this.search.id = 'changedSearch';
    this.search.placeholder = 'Search text, label, predictions';
    this.count.setAttribute('aria-live', 'polite');
    const bar = el('div', 'toolbar');
    bar.append(this.filter, this.search, this.count);
    const head = el('div', 'changed-row changed-head');
    for (const h of ['#', 'change', 'text', 'label', 'prediction A', 'prediction B']) head.append(el('div', 'cell', h));
    this.more.hidden = true;
    this.root.append(el('h2', undefined, 'Samples whose correctness changed'), bar, head, this.list, this.more);
    this.filter.addEventListener('change', () => this.load(true));
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.load(true), 200);
    });
  }

  query(): ChangedQuery {
    return { change: this.filter.value as ChangeFilter, search: this.search.value.trim() };
  }

  /** Show `q` in the controls (a restored state) without loading. */
  setQuery(q: ChangedQuery): void {
    this.filter.value = q.change;
    this.search.value = q.search;
  }

  /** From the top (a new filter) or the next page. */
  load(fresh: boolean): void {
    const q = this.query();
    if (fresh) {
      this.generation++;
      this.rows = [];
      this.list.textContent = '';
      this.count.textContent = 'loading…';
      this.onQuery(q);
    }
    const gen = this.generation;
    this.fetch(q, this.rows.length, PAGE).then(
      (r) => {
        if (gen !== this.generation) return;
        this.total = r.total;
        for (const s of r.rows) this.list.append(this.row(s));
        this.rows.push(...r.rows);
        this.count.textContent = r.total === 0 ? 'no sample matches' : `${r.total.toLocaleString('en-US')} sample${r.total === 1 ? '' : 's'}`;
        this.more.hidden = this.rows.length >= this.total;
      },
      (e: Error) => this.onError(e.message),
    );
  }

  private row(s: ChangedSample): HTMLElement {
    const r = el('div', `changed-row ${s.change}`);
    r.tabIndex = 0;
    r.dataset.index = String(s.index);
    r.setAttribute('role', 'button');
    r.append(
      el('div', 'cell c-index', String(s.index)),
      el('div', 'cell c-change', s.change),
      el('div', 'cell c-text', s.text),
      el('div', 'cell c-label', s.label ?? ''),
      el('div', 'cell c-pred-a', s.prediction_a),
      el('div', 'cell c-pred-b', s.prediction_b),
    );
    // num_return_sequences: the cell shows the best; its tooltip every sequence, ranked
    for (const [cls, seqs] of [['.c-pred-a', s.sequences_a], ['.c-pred-b', s.sequences_b]] as const) {
      if (seqs) r.querySelector<HTMLElement>(cls)!.title = seqs.map((p, j) => `#${j + 1} ${p}`).join('\n');
    }
    const go = () => {
      this.selected = s.index;
      for (const x of Array.from(this.list.children)) x.classList.toggle('selected', (x as HTMLElement).dataset.index === String(this.selected));
      this.open(s);
    };
    r.addEventListener('click', go);
    r.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        go();
      }
    });
    return r;
  }
}
