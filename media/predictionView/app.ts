// The prediction view: the header, lints, tensor cards, confusion matrix and metrics, the filterable
// virtualised table and a sample's detail, wired to the host through typed requests (media/common/host.ts).
// Filter, sort, scroll position and selection live in the webview state, so the view comes back as it was.
import type { ColumnId, CopyWhat, ExportFormat, Overview, ReplyMessage, RowQuery, RowView, SummaryResult, ToWebview, ViewRequests } from '../../src/shared/protocol';
import { button, el } from '../common/dom';
import { Host } from '../common/host';
import { countLine, sequenceLines, summaryLine } from '../format';
import { ColumnMenu } from './columnMenu';
import { Column, columnsFor, fillRow } from './columns';
import { ContextMenu } from './contextMenu';
import { CardsPanel } from './panels/cards';
import { ConfusionPanel } from './panels/confusion';
import { DetailPanel } from './panels/detail';
import { LintsPanel } from './panels/lints';
import { MetricsPanel } from './panels/metrics';
import { NotesPanel } from './panels/notes';
import { restoreState, stateToSave, withFilter } from './state';
import { TableHeader } from './tableHeader';
import { Toolbar } from './toolbar';
import { LINE_H, VirtualTable } from './virtualTable';

type HostEvent = Exclude<ToWebview, ReplyMessage>;

export class PredictionViewApp {
  private readonly host: Host<ViewRequests, { type: 'ready' }, HostEvent>;
  private query: RowQuery;
  private hostState: Record<string, unknown>;
  private overview: Overview | undefined;
  private inits = 0;
  private summaryAsked = false;
  /** Only the latest detail request is shown (a quick second click wins). */
  private detailSeq = 0;

  private readonly titleEl = el('h1', 'title', 'Predictions');
  private readonly summaryEl = el('span', 'summary');
  private readonly lints = new LintsPanel();
  private readonly cards = new CardsPanel();
  private readonly confusion = new ConfusionPanel((gold, predicted) => this.toggleCell(gold, predicted));
  private readonly metrics = new MetricsPanel();
  private readonly notes = new NotesPanel();
  private readonly toolbar: Toolbar;
  private readonly header: TableHeader;
  private readonly table: VirtualTable<RowView>;
  private readonly detail: DetailPanel;
  private readonly tableSection = el('section', 'table-section');
  private readonly columnMenu = new ColumnMenu((hidden) => this.setHidden(hidden));
  private readonly contextMenu = new ContextMenu((what, pos, column) => void this.copy(what, pos, column));
  private columns: Column[] = columnsFor(undefined);
  /** Lines per row: 1, or one per sequence under num_return_sequences (sequenceLines). */
  private rowLines = 1;
  /** Columns the user hid (kept in the webview state). */
  private hidden: Set<ColumnId>;
  /** Empty columns (Column.empty) the user showed in the Columns menu; the others stay hidden. */
  private readonly shownEmpty = new Set<ColumnId>();

  constructor() {
    this.host = new Host<ViewRequests, { type: 'ready' }, HostEvent>((m) => this.onEvent(m));
    const restored = restoreState(this.host.getState());
    this.query = restored.query;
    this.hostState = restored.hostState;
    this.toolbar = new Toolbar(
      () => this.query,
      (q) => this.applyQuery(q),
    );
    this.hidden = new Set(restored.hidden);
    this.header = new TableHeader(
      (sort) => this.applyQuery({ ...this.query, sort }),
      () => this.query.sort,
    );
    this.table = new VirtualTable<RowView>({
      cellClasses: this.columns.map((c) => c.cls),
      fetch: (start, count) => this.host.request('getRows', { query: this.query, start, count }),
      fill: (r, row) => fillRow(r, row, this.overview),
      onAnswer: (total, rows) => this.onAnswer(total, rows),
      onOpen: (pos) => this.openDetail(pos),
      onEscape: () => this.detail.close(),
      onError: (message) => this.lints.error(message),
      onMoved: () => this.save(),
      onContextMenu: (pos, column, e) => this.contextMenu.open(e.clientX, e.clientY, pos, column),
    });
    this.table.viewport.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'c') {
        e.preventDefault();
        void this.copy('row', this.table.selected, -1);
      } else if (e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10')) {
        e.preventDefault();
        const row = this.table.viewport.querySelector<HTMLElement>('.row.selected');
        const box = (row ?? this.table.viewport).getBoundingClientRect();
        this.contextMenu.open(box.left + 40, box.bottom, this.table.selected, -1);
      }
    });
    this.toolbar.addTools(
      this.columnMenu.root,
      button('export', 'Export CSV', () => void this.exportTable('csv')),
      button('export', 'Export JSONL', () => void this.exportTable('jsonl')),
    );
    this.table.selected = restored.selected;
    this.table.pendingOffset = restored.offset;
    // The restored offset counts rows of the saved height; the first rows may arrive before the overview says n.
    this.rowLines = restored.lines;
    this.detail = new DetailPanel(() => this.table.viewport.focus());
    this.layout();
  }

  private layout(): void {
    const header = el('header', 'top');
    header.append(this.titleEl, this.summaryEl);
    const sideBySide = el('div', 'side-by-side');
    sideBySide.append(this.confusion.root, this.metrics.root);
    const tableSection = this.tableSection;
    tableSection.append(this.toolbar.root, this.header.root, this.table.viewport);
    const app = el('div', 'app');
    app.append(header, this.lints.root, this.cards.root, sideBySide, tableSection, this.detail.root, this.notes.root, this.contextMenu.root);
    document.body.append(app);
    this.applyColumns();
    this.setRowLines(this.rowLines);
    this.table.layout();
  }

  /** Ask for the first window before `ready`, so rows and the overview travel in parallel: one round trip fewer. */
  start(): void {
    performance.mark('evalpred-ready');
    this.table.requestBlocks(0, 1);
    this.host.send({ type: 'ready' });
  }

  private onEvent(m: HostEvent): void {
    switch (m.type) {
      case 'init':
        this.overview = m.overview;
        if (m.hostState) this.hostState = { ...m.hostState };
        this.renderOverview(m.overview);
        // The first init keeps the window asked for with `ready`; a later one (the panel loaded another
        // evaluation) starts from fresh rows.
        this.applyQuery(this.query, true, this.inits++ === 0);
        return;
      case 'metrics':
        this.metrics.render(m.history);
        return;
      case 'error':
        this.lints.error(m.message);
        return;
    }
  }

  private renderOverview(o: Overview): void {
    this.titleEl.textContent = o.title;
    this.summaryEl.textContent = summaryLine(o.task, o.numSamples, o.sequencesPerSample);
    document.body.dataset.task = o.task;
    this.setRowLines(sequenceLines(o.sequencesPerSample ?? 1));
    this.toolbar.setLabels(o);
    const columns = columnsFor(o);
    const changed = columns.length !== this.columns.length || columns.some((c, k) => c.id !== this.columns[k].id);
    this.columns = columns;
    if (changed) this.table.setColumns(columns.map((c) => c.cls));
    this.applyColumns();
    this.toolbar.setScoreSorts(columns.filter((c) => c.id.startsWith('score:')).map((c) => ({ key: c.id, title: c.title })));
    this.lints.render(o.lints);
    this.cards.render(o.cards, o.structure);
    this.confusion.render(o.confusion);
    this.metrics.render(o.metrics);
    this.notes.render(o.notes);
    this.syncControls();
  }

  /** num_return_sequences: a row has a line per sequence (the table's rows and the styles' --row-h agree). */
  private setRowLines(lines: number): void {
    this.rowLines = lines;
    this.tableSection.classList.toggle('multi-line', lines > 1);
    this.tableSection.style.setProperty('--row-h', `${lines * LINE_H}px`);
    this.tableSection.style.setProperty('--lines', String(lines));
    this.table.setRowLines(lines);
  }

  private renderSummary(s: SummaryResult): void {
    if (this.overview) this.overview = { ...this.overview, cards: s.cards, confusion: s.confusion, lints: s.lints };
    this.lints.render(s.lints);
    this.cards.render(s.cards, this.overview?.structure ?? []);
    this.confusion.render(s.confusion);
    this.syncControls();
  }

  private syncControls(): void {
    this.toolbar.sync();
    this.header.sync(this.query.sort);
    this.confusion.sync(this.query.filter);
  }

  private onAnswer(total: number, rows: number): void {
    this.toolbar.count.textContent = countLine(total, this.overview?.numSamples ?? total);
    if (this.summaryAsked) return;
    this.summaryAsked = true;
    // For bench/webviewScroll.ts: when the first rows reached the screen, on the page's clock.
    if (rows) performance.mark('evalpred-first-rows');
    // After a frame, so the rows are painted before the host spends time on the summary.
    requestAnimationFrame(() =>
      setTimeout(() => {
        this.host.request('getSummary', {}).then(
          (s) => this.renderSummary(s),
          (e: Error) => this.lints.error(e.message),
        );
      }, 0),
    );
  }

  /** A new filter or sort: forget every row, go back to the top (unless `keepScroll`), ask again. */
  private applyQuery(q: RowQuery, keepScroll = false, keepRows = false): void {
    this.query = q;
    this.syncControls();
    if (!keepRows || !this.table.total) this.toolbar.count.textContent = 'loading…';
    this.table.reset(keepScroll, keepRows);
    this.save();
  }

  private toggleCell(gold: string, predicted: string): void {
    const same = this.query.filter.gold === gold && this.query.filter.predicted === predicted;
    this.applyQuery(withFilter(this.query, same ? { gold: undefined, predicted: undefined } : { gold, predicted, wrongOnly: false }));
  }

  private openDetail(pos: number): void {
    const row = this.table.rowAt(pos);
    if (!row) return;
    const seq = ++this.detailSeq;
    this.host.request('getDetail', { index: row.index }).then(
      (d) => {
        if (seq === this.detailSeq) this.detail.render(d, this.overview?.task, this.overview?.scoreColumns);
      },
      (e: Error) => this.lints.error(e.message),
    );
  }

  /** What is hidden now: the user's choices, and the empty columns the user has not asked to see. */
  private hiddenNow(): Set<ColumnId> {
    return new Set([...this.hidden, ...this.columns.filter((c) => c.empty && !this.shownEmpty.has(c.id)).map((c) => c.id)]);
  }

  /** Header, menu, grid tracks and cells for the current columns and the hidden set. */
  private applyColumns(): void {
    const hidden = this.hiddenNow();
    const flags = this.columns.map((c) => hidden.has(c.id));
    this.header.setColumns(this.columns, flags);
    this.header.sync(this.query.sort);
    this.columnMenu.render(this.columns, hidden);
    this.table.setHidden(flags);
    const tracks = this.columns.filter((_, k) => !flags[k]).map((c) => c.width);
    this.tableSection.style.setProperty('--cols', tracks.join(' ') || '1fr');
  }

  /** The Columns menu's new hidden set: empty columns are remembered as shown or not, the others as hidden. */
  private setHidden(next: Set<ColumnId>): void {
    const empty = new Set(this.columns.filter((c) => c.empty).map((c) => c.id));
    for (const id of empty) {
      if (next.has(id)) this.shownEmpty.delete(id);
      else this.shownEmpty.add(id);
    }
    this.hidden = new Set([...next].filter((id) => !empty.has(id) || this.hidden.has(id)));
    for (const id of empty) if (!next.has(id)) this.hidden.delete(id);
    const hidden = this.hiddenNow();
    const flags = this.columns.map((c) => hidden.has(c.id));
    this.header.setHidden(flags);
    this.table.setHidden(flags);
    const tracks = this.columns.filter((_, k) => !flags[k]).map((c) => c.width);
    this.tableSection.style.setProperty('--cols', tracks.join(' ') || '1fr');
    this.save();
  }

  private visibleColumns(): ColumnId[] {
    const hidden = this.hiddenNow();
    return this.columns.filter((c) => !hidden.has(c.id)).map((c) => c.id);
  }

  private async copy(what: CopyWhat, pos: number, column: number): Promise<void> {
    const row = this.table.rowAt(pos);
    const columns = what === 'cell' ? (this.columns[column] ? [this.columns[column].id] : []) : this.visibleColumns();
    if (!row || !columns.length) return;
    try {
      await this.host.request('copy', { index: row.index, what, columns });
      this.toolbar.status.textContent = what === 'cell' ? `Copied a cell of sample ${row.index}` : `Copied sample ${row.index}`;
    } catch (e) {
      this.lints.error((e as Error).message);
    }
  }

  private async exportTable(format: ExportFormat): Promise<void> {
    const columns = this.visibleColumns();
    if (!columns.length) {
      this.toolbar.status.textContent = 'Nothing to export: every column is hidden';
      return;
    }
    this.toolbar.status.textContent = `Exporting ${format.toUpperCase()}…`;
    try {
      const r = await this.host.request('exportTable', { query: this.query, format, columns });
      this.toolbar.status.textContent = r.file ? `Exported ${r.rows.toLocaleString('en-US')} rows to ${r.file}` : 'Export cancelled';
    } catch (e) {
      this.toolbar.status.textContent = '';
      this.lints.error((e as Error).message);
    }
  }

  private save(): void {
    this.host.setState(stateToSave(this.hostState, this.query, this.table.offset, this.table.selected, [...this.hidden], this.rowLines));
  }
}
