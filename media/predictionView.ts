// The prediction view inside the webview: vanilla DOM, no framework. It asks the host for windows of rows
// (a virtualised table: fixed row height, only visible rows in the DOM), renders cards, the confusion matrix,
// metrics and lints, and keeps filter/sort/scroll in the webview state. Dataset text is untrusted: it only
// ever reaches the DOM through textContent.
import type {
  ConfusionView,
  FromWebview,
  LintView,
  MetricsEntry,
  Overview,
  RawArray,
  RowDetail,
  RowQuery,
  RowView,
  SortKey,
  TensorCard,
  ToWebview,
} from '../src/shared/protocol';
import { formatCompact, formatDelta } from '../src/shared/format';
import { countLine, headerSort, summaryLine } from './format';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  query: RowQuery;
  /** Row-space scroll offset in pixels. */
  offset: number;
  selected: number;
  /** The host's own restore data (init's hostState: the cache folder), kept for the panel serializer. */
  [host: string]: unknown;
}

const vscode = acquireVsCodeApi();
const ROW_H = 24;
const BLOCK = 100;
/** Browsers cap element heights (~33M px in Chrome); above this the scrollbar maps onto rows proportionally. */
const MAX_SCROLL_PX = 8_000_000;
const CACHE_LIMIT = 6000;

// ------------------------------------------------------------------------------------------------ helpers

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function post(m: FromWebview): void {
  vscode.postMessage(m);
}

/** Words of `a` not in the longest common subsequence with `b` (the words that differ), as flags. */
export function diffWords(a: string[], b: string[]): boolean[] {
  const n = a.length;
  const m = b.length;
  if (n * m > 250_000) return a.map((w, i) => w !== b[i]);
  const dp: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const differs = new Array<boolean>(n).fill(true);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      differs[i] = false;
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
    else j++;
  }
  return differs;
}

/** Text with the words that are not in `other` wrapped in <mark class="diff"> (built with textContent only). */
function diffText(parent: HTMLElement, text: string, other: string): void {
  const words = text.split(/\s+/).filter(Boolean);
  const flags = diffWords(words, other.split(/\s+/).filter(Boolean));
  words.forEach((w, k) => {
    if (k) parent.append(' ');
    if (flags[k]) parent.append(el('mark', 'diff', w));
    else parent.append(w);
  });
}

// ------------------------------------------------------------------------------------------------ state

const saved = (vscode.getState() as SavedState | undefined) ?? undefined;
let hostState: Record<string, unknown> = {};
for (const [k, v] of Object.entries(saved ?? {})) if (!['query', 'offset', 'selected'].includes(k)) hostState[k] = v;
let query: RowQuery = saved?.query ?? { filter: {}, sort: { key: 'index', descending: false } };
let overview: Overview | undefined;
let total = 0;
let selected = saved?.selected ?? 0;
let pendingOffset: number | undefined = saved?.offset;
let generation = 0;
let nextRequestId = 1;
const rowCache = new Map<number, RowView>();
const pendingBlocks = new Map<number, number>(); // block -> requestId
const requests = new Map<number, { gen: number; block: number }>();
let detailRequest = 0;
let openAfterLoad: number | undefined;
let summaryAsked = false;

function saveState(): void {
  const s: SavedState = { ...hostState, query, offset, selected };
  vscode.setState(s);
}

// ------------------------------------------------------------------------------------------------ layout

const app = el('div', 'app');
const header = el('header', 'top');
const titleEl = el('h1', 'title', 'Predictions');
const summaryEl = el('span', 'summary');
header.append(titleEl, summaryEl);
const lintsEl = el('section', 'lints');
lintsEl.setAttribute('aria-label', 'Warnings');
const cardsEl = el('section', 'cards');
cardsEl.setAttribute('aria-label', 'Tensors');
const sideBySide = el('div', 'side-by-side');
const confusionEl = el('section', 'confusion panel');
const metricsEl = el('section', 'metrics panel');
sideBySide.append(confusionEl, metricsEl);

const tableSection = el('section', 'table-section');
const toolbar = el('div', 'toolbar');
const wrongOnly = el('input');
wrongOnly.type = 'checkbox';
wrongOnly.id = 'wrongOnly';
const wrongLabel = el('label', 'check', 'Wrong only');
wrongLabel.htmlFor = 'wrongOnly';
wrongLabel.prepend(wrongOnly);
const goldSelect = el('select');
goldSelect.id = 'goldFilter';
goldSelect.title = 'Gold label';
const predSelect = el('select');
predSelect.id = 'predFilter';
predSelect.title = 'Predicted label';
const searchInput = el('input');
searchInput.type = 'search';
searchInput.id = 'search';
searchInput.placeholder = 'Search text';
const sortSelect = el('select');
sortSelect.id = 'sort';
sortSelect.title = 'Sort';
for (const [v, t] of [
  ['index:asc', 'Index'],
  ['confidence:asc', 'Confidence ↑'],
  ['confidence:desc', 'Confidence ↓'],
  ['loss:desc', 'Loss ↓'],
  ['loss:asc', 'Loss ↑'],
]) {
  const o = el('option', undefined, t);
  o.value = v;
  sortSelect.append(o);
}
const clearBtn = el('button', 'clear', 'Clear filters');
clearBtn.type = 'button';
const countEl = el('span', 'count');
countEl.setAttribute('aria-live', 'polite');
const gLabel = el('label', undefined, 'Gold ');
gLabel.append(goldSelect);
const pLabel = el('label', undefined, 'Predicted ');
pLabel.append(predSelect);
toolbar.append(wrongLabel, gLabel, pLabel, searchInput, sortSelect, clearBtn, countEl);

const COLUMNS = ['#', 'Text', 'Prediction', 'Label', '', 'Confidence', 'Loss'];
/** Header cells that sort the table on click (the sort select offers the same). */
const SORTABLE: Record<number, SortKey> = { 0: 'index', 5: 'confidence', 6: 'loss' };
const thead = el('div', 'thead');
thead.setAttribute('role', 'row');
const headCells = COLUMNS.map((c, k) => {
  const cell = el('div', 'cell', c);
  cell.setAttribute('role', 'columnheader');
  const key = SORTABLE[k];
  if (key) {
    cell.classList.add('sortable');
    cell.tabIndex = 0;
    const go = () => applyQuery({ ...query, sort: headerSort(query.sort, key) });
    cell.addEventListener('click', go);
    cell.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        go();
      }
    });
  }
  thead.append(cell);
  return cell;
});
const viewport = el('div', 'viewport');
viewport.tabIndex = 0;
viewport.setAttribute('role', 'grid');
viewport.setAttribute('aria-label', 'Samples');
const layer = el('div', 'layer');
const spacer = el('div', 'spacer');
viewport.append(layer, spacer);
tableSection.append(toolbar, thead, viewport);

const detailEl = el('section', 'detail panel');
detailEl.hidden = true;
detailEl.setAttribute('aria-label', 'Sample detail');
const notesEl = el('section', 'notes');

app.append(header, lintsEl, cardsEl, sideBySide, tableSection, detailEl, notesEl);
document.body.append(app);

// A fixed pool of row elements, reused as the table scrolls.
interface RowEl {
  root: HTMLDivElement;
  cells: HTMLDivElement[];
  pos: number;
  shown: RowView | null | undefined;
}
const pool: RowEl[] = [];

function ensurePool(n: number): void {
  while (pool.length < n) {
    const root = el('div', 'row');
    root.setAttribute('role', 'row');
    const cells = COLUMNS.map((_, k) => {
      const c = el('div', `cell c${k}`);
      c.setAttribute('role', 'gridcell');
      return c;
    });
    root.append(...cells);
    const r: RowEl = { root, cells, pos: -1, shown: undefined };
    root.addEventListener('click', () => {
      if (r.pos < 0) return;
      select(r.pos);
      openDetail(r.pos);
      viewport.focus();
    });
    layer.append(root);
    pool.push(r);
  }
  while (pool.length > n) pool.pop()!.root.remove();
}

// ------------------------------------------------------------------------------------------------ virtual table

function virtualHeight(): number {
  return Math.min(total * ROW_H, MAX_SCROLL_PX);
}

function scaled(): boolean {
  return virtualHeight() < total * ROW_H;
}

/** Largest row-space offset: the last row sits at the bottom of the viewport. */
function maxOffset(): number {
  return Math.max(0, total * ROW_H - viewport.clientHeight);
}

/**
 * Row-space offset in pixels (row k starts at k * ROW_H). Without scaling it is scrollTop; with scaling the
 * scrollbar maps proportionally and wheel/keyboard move `offset` directly, so a wheel notch moves the same
 * number of rows on a million-row table as on a small one.
 */
let offset = 0;
/** The scrollTop we set ourselves; a scroll event at any other value came from the scrollbar. */
let ownScrollTop = -1;

function offsetFromScrollTop(): number {
  const maxScroll = virtualHeight() - viewport.clientHeight;
  if (!scaled() || maxScroll <= 0) return viewport.scrollTop;
  return (viewport.scrollTop / maxScroll) * maxOffset();
}

function setOffset(px: number): void {
  offset = Math.max(0, Math.min(maxOffset(), px));
  const maxScroll = virtualHeight() - viewport.clientHeight;
  viewport.scrollTop = scaled() && maxOffset() > 0 ? (offset / maxOffset()) * maxScroll : offset;
  ownScrollTop = viewport.scrollTop;
  if (!scaled()) offset = viewport.scrollTop;
}

/** First visible row position and the pixel shift of the first row. */
function visibleStart(): { first: number; shift: number } {
  const first = Math.floor(offset / ROW_H);
  return { first, shift: offset - first * ROW_H };
}

function layout(): void {
  const h = viewport.clientHeight;
  layer.style.height = `${h}px`;
  // The layer is sticky and takes h pixels of the flow itself.
  spacer.style.height = `${Math.max(0, virtualHeight() - h)}px`;
  ensurePool(Math.ceil(h / ROW_H) + 1);
  setOffset(offset); // keep scrollTop consistent with the new height (and clamp the offset)
}

function render(): void {
  const { first, shift } = visibleStart();
  const visible = pool.length;
  requestBlocks(first, first + visible);
  for (let k = 0; k < visible; k++) {
    const r = pool[k];
    const pos = first + k;
    r.root.style.transform = `translateY(${k * ROW_H - shift}px)`;
    if (pos >= total) {
      r.root.hidden = true;
      r.pos = -1;
      continue;
    }
    r.root.hidden = false;
    const row = rowCache.get(pos) ?? null;
    const sel = pos === selected;
    r.root.classList.toggle('selected', sel);
    r.root.setAttribute('aria-selected', String(sel));
    r.root.setAttribute('aria-rowindex', String(pos + 1));
    if (r.pos === pos && r.shown === row) continue;
    r.pos = pos;
    r.shown = row;
    fillRow(r, row);
  }
}

function fillRow(r: RowEl, row: RowView | null): void {
  const [ci, ct, cp, cl, cc, cconf, closs] = r.cells;
  r.root.classList.toggle('wrong', row?.correct === false);
  r.root.classList.toggle('loading', !row);
  if (!row) {
    ci.textContent = String(r.pos);
    for (const c of [ct, cp, cl, cc, cconf, closs]) c.textContent = '';
    ct.textContent = '…';
    return;
  }
  ci.textContent = String(row.index);
  ct.textContent = '';
  if (row.tokens && overview?.task === 'token-classification') {
    for (const t of row.tokens) {
      const s = el('span', `tok tag-${t.predId % 8}${t.pred === 'O' ? ' tag-o' : ''}${t.gold !== undefined && t.gold !== t.pred ? ' tok-wrong' : ''}`, t.token);
      s.title = t.gold !== undefined ? `predicted ${t.pred}, gold ${t.gold}` : `predicted ${t.pred}`;
      ct.append(s, ' ');
    }
  } else ct.textContent = row.text;
  ct.title = row.text;
  cp.textContent = '';
  if (overview && ['question-answering', 'seq2seq-lm', 'causal-lm'].includes(overview.task) && row.label !== undefined) diffText(cp, row.prediction, row.label);
  else cp.textContent = row.prediction;
  cp.title = row.prediction;
  cl.textContent = row.label ?? '';
  cl.title = row.label ?? '';
  cc.textContent = row.correct === undefined ? '' : row.correct ? '✓' : '✗';
  cc.setAttribute('aria-label', row.correct === undefined ? '' : row.correct ? 'correct' : 'wrong');
  cconf.textContent = row.confidence === undefined ? '' : row.confidence.toFixed(3);
  closs.textContent = row.loss === undefined ? '' : row.loss.toFixed(3);
}

function requestBlocks(from: number, to: number): void {
  const lo = Math.max(0, Math.floor(from / BLOCK) - 1);
  const hi = Math.floor(Math.min(Math.max(total, 1), to) / BLOCK) + 1;
  for (let b = lo; b <= hi; b++) {
    if (b * BLOCK >= total && !(b === 0 && total === 0)) continue;
    if (pendingBlocks.has(b) || rowCache.has(b * BLOCK)) continue;
    const requestId = nextRequestId++;
    pendingBlocks.set(b, requestId);
    requests.set(requestId, { gen: generation, block: b });
    post({ type: 'getRows', requestId, query, start: b * BLOCK, count: BLOCK });
  }
}

function onRows(m: Extract<ToWebview, { type: 'rows' }>): void {
  const req = requests.get(m.requestId);
  requests.delete(m.requestId);
  if (!req || req.gen !== generation) return; // an answer to an older query
  pendingBlocks.delete(req.block);
  if (rowCache.size > CACHE_LIMIT) rowCache.clear();
  m.rows.forEach((r, k) => rowCache.set(m.start + k, r));
  // Always, also when the answer is "no rows" (total stays 0): the count must leave "loading…".
  countEl.textContent = countLine(m.total, overview?.numSamples ?? m.total);
  if (m.total !== total) {
    total = m.total;
    viewport.setAttribute('aria-rowcount', String(total));
    layout();
  }
  if (pendingOffset !== undefined) {
    setOffset(pendingOffset);
    pendingOffset = undefined;
  }
  render();
  // For bench/webviewScroll.ts: when the first rows reached the screen, on the page's clock.
  if (!summaryAsked) {
    summaryAsked = true;
    if (m.rows.length) performance.mark('evalpred-first-rows');
    // After a frame, so the rows are painted before the host spends time on the summary.
    requestAnimationFrame(() => setTimeout(() => post({ type: 'getSummary' }), 0));
  }
  if (openAfterLoad !== undefined && rowCache.has(openAfterLoad)) {
    const p = openAfterLoad;
    openAfterLoad = undefined;
    openDetail(p);
  }
}

/** A new filter or sort: forget every row, go back to the top, ask again. */
function applyQuery(q: RowQuery, keepScroll = false, keepRequests = false): void {
  query = q;
  // keepRequests: the first window was asked for together with `ready` (see the end of this file).
  if (!keepRequests) {
    generation++;
    rowCache.clear();
    pendingBlocks.clear();
    total = 0;
  }
  selected = keepScroll ? selected : 0;
  if (!keepScroll) setOffset(0);
  syncControls();
  if (!total) countEl.textContent = 'loading…';
  layout();
  render();
  saveState();
}

function select(pos: number): void {
  if (total === 0) return;
  selected = Math.max(0, Math.min(total - 1, pos));
  const { first } = visibleStart();
  const h = viewport.clientHeight;
  if (selected < first + (visibleStart().shift > 0 ? 1 : 0)) setOffset(selected * ROW_H);
  else if (selected * ROW_H + ROW_H > offset + h) setOffset((selected + 1) * ROW_H - h);
  render();
  saveState();
}

// ------------------------------------------------------------------------------------------------ controls

function syncControls(): void {
  wrongOnly.checked = !!query.filter.wrongOnly;
  goldSelect.value = query.filter.gold ?? '';
  predSelect.value = query.filter.predicted ?? '';
  if (searchInput.value.trim() !== (query.filter.search ?? '')) searchInput.value = query.filter.search ?? '';
  sortSelect.value = `${query.sort.key}:${query.sort.descending ? 'desc' : 'asc'}`;
  if (!sortSelect.value) sortSelect.value = 'index:asc';
  headCells.forEach((cell, k) => {
    const key = SORTABLE[k];
    if (!key) return;
    const on = query.sort.key === key;
    cell.setAttribute('aria-sort', on ? (query.sort.descending ? 'descending' : 'ascending') : 'none');
    cell.textContent = COLUMNS[k] + (on && key !== 'index' ? (query.sort.descending ? ' ↓' : ' ↑') : '');
  });
  for (const cell of Array.from(confusionEl.querySelectorAll<HTMLButtonElement>('button.cm-cell'))) {
    cell.classList.toggle('active', cell.dataset.gold === query.filter.gold && cell.dataset.pred === query.filter.predicted);
  }
}

function withFilter(patch: Partial<RowQuery['filter']>): RowQuery {
  const filter = { ...query.filter, ...patch };
  for (const k of Object.keys(filter) as (keyof typeof filter)[]) if (filter[k] === undefined || filter[k] === '' || filter[k] === false) delete filter[k];
  return { ...query, filter };
}

wrongOnly.addEventListener('change', () => applyQuery(withFilter({ wrongOnly: wrongOnly.checked })));
goldSelect.addEventListener('change', () => applyQuery(withFilter({ gold: goldSelect.value || undefined })));
predSelect.addEventListener('change', () => applyQuery(withFilter({ predicted: predSelect.value || undefined })));
let searchTimer: ReturnType<typeof setTimeout> | undefined;
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => applyQuery(withFilter({ search: searchInput.value.trim() || undefined })), 200);
});
sortSelect.addEventListener('change', () => {
  const [key, dir] = sortSelect.value.split(':');
  applyQuery({ ...query, sort: { key: key as SortKey, descending: dir === 'desc' } });
});
clearBtn.addEventListener('click', () => applyQuery({ ...query, filter: {} }));

let scrollSaveTimer: ReturnType<typeof setTimeout> | undefined;
viewport.addEventListener(
  'scroll',
  () => {
    if (Math.abs(viewport.scrollTop - ownScrollTop) > 0.5) offset = offsetFromScrollTop();
    ownScrollTop = -1;
    render();
    clearTimeout(scrollSaveTimer);
    scrollSaveTimer = setTimeout(saveState, 150);
  },
  { passive: true },
);
viewport.addEventListener(
  'wheel',
  (e) => {
    if (!scaled() || e.ctrlKey) return; // native scrolling is exact when rows are not scaled
    e.preventDefault();
    const unit = e.deltaMode === 1 ? ROW_H : e.deltaMode === 2 ? viewport.clientHeight : 1;
    setOffset(offset + e.deltaY * unit);
    render();
  },
  { passive: false },
);
new ResizeObserver(() => {
  layout();
  render();
}).observe(viewport);

viewport.addEventListener('keydown', (e) => {
  const page = Math.max(1, Math.floor(viewport.clientHeight / ROW_H) - 1);
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
  if (e.key in moves) select(selected + moves[e.key]);
  else if (e.key === 'Home') select(0);
  else if (e.key === 'End') select(total - 1);
  else if (e.key === 'Enter' || e.key === ' ') openDetail(selected);
  else if (e.key === 'Escape') closeDetail();
  else return;
  e.preventDefault();
});

// ------------------------------------------------------------------------------------------------ panels

function renderOverview(o: Overview): void {
  titleEl.textContent = o.title;
  summaryEl.textContent = summaryLine(o.task, o.numSamples);
  document.body.dataset.task = o.task;
  for (const s of [goldSelect, predSelect]) {
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
  // Generative and QA tasks have no label names to filter on.
  gLabel.hidden = pLabel.hidden = o.labels.length === 0;
  renderLints(o.lints);
  renderCards(o.cards, o.structure);
  renderConfusion(o.confusion);
  renderMetrics(o.metrics);
  notesEl.textContent = '';
  if (o.notes.length) {
    notesEl.append(el('h2', undefined, 'Notes'));
    const ul = el('ul');
    for (const n of o.notes) ul.append(el('li', undefined, n));
    notesEl.append(ul);
  }
  syncControls();
}

function renderLints(lints: LintView[]): void {
  lintsEl.textContent = '';
  for (const l of lints) {
    const box = el('div', `lint ${l.severity}`);
    box.setAttribute('role', l.severity === 'warning' ? 'alert' : 'note');
    const head = el('div', 'lint-message');
    head.append(el('span', 'lint-icon', l.severity === 'warning' ? '⚠' : 'ℹ'), el('span', undefined, l.message));
    if (l.line !== undefined) head.append(el('span', 'lint-line', ` (metric file, line ${l.line})`));
    const fix = el('div', 'lint-fix');
    fix.append(el('strong', undefined, 'Fix: '), el('span', undefined, l.fix));
    box.append(head, fix);
    box.dataset.lint = l.id;
    lintsEl.append(box);
  }
}

function renderCards(cards: TensorCard[], structure: string[]): void {
  cardsEl.textContent = '';
  const st = el('div', 'structure');
  for (const s of structure) st.append(el('code', undefined, s));
  cardsEl.append(st);
  const grid = el('div', 'card-grid');
  for (const c of cards) {
    const card = el('div', 'card');
    card.dataset.path = c.path;
    card.append(el('div', 'card-name', c.path), el('div', 'card-type', `${c.dtype}[${c.shape.join(', ')}]`));
    const stats = el('dl', 'card-stats');
    const add = (k: string, v: string, warn = false) => {
      stats.append(el('dt', undefined, k), el('dd', warn ? 'warn' : undefined, v));
    };
    add('min', formatCompact(c.min));
    add('max', formatCompact(c.max));
    add('mean', formatCompact(c.mean));
    add('NaN', String(c.nanCount), c.nanCount > 0);
    add('-100', String(c.minus100Count), c.minus100Count > 0);
    card.append(stats);
    const hist = el('div', 'hist');
    hist.setAttribute('aria-label', `histogram of ${c.path}`);
    const peak = Math.max(1, ...c.histogram.counts);
    c.histogram.counts.forEach((n, k) => {
      const bar = el('div', 'bar');
      bar.style.height = `${n ? Math.max(2, (n / peak) * 100) : 0}%`;
      bar.title = `[${formatCompact(c.histogram.edges[k])}, ${formatCompact(c.histogram.edges[k + 1])}): ${n}`;
      hist.append(bar);
    });
    card.append(hist);
    const axis = el('div', 'hist-axis');
    axis.append(el('span', undefined, formatCompact(c.histogram.edges[0])), el('span', undefined, formatCompact(c.histogram.edges[c.histogram.edges.length - 1])));
    card.append(axis);
    grid.append(card);
  }
  cardsEl.append(grid);
}

function renderConfusion(cm: ConfusionView | undefined): void {
  confusionEl.textContent = '';
  confusionEl.hidden = !cm;
  if (!cm) return;
  confusionEl.append(el('h2', undefined, 'Confusion matrix'), el('div', 'hint', 'rows: gold · columns: predicted · click a cell to filter'));
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
      b.addEventListener('click', () => {
        const same = query.filter.gold === cm.labels[g] && query.filter.predicted === cm.labels[p];
        applyQuery(withFilter(same ? { gold: undefined, predicted: undefined } : { gold: cm.labels[g], predicted: cm.labels[p], wrongOnly: false }));
      });
      td.append(b);
      tr.append(td);
    });
    table.append(tr);
  });
  confusionEl.append(table);
}

function renderMetrics(history: MetricsEntry[]): void {
  metricsEl.textContent = '';
  metricsEl.append(el('h2', undefined, 'Metrics'));
  const last = history[history.length - 1];
  if (!last) {
    metricsEl.append(el('div', 'hint', 'No metrics yet: run compute_metrics to see them here, with the change from each rerun.'));
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
  metricsEl.append(t, el('div', 'hint', `run ${history.length} · ${new Date(last.time).toLocaleTimeString()}`));
}

// ------------------------------------------------------------------------------------------------ detail

function openDetail(pos: number): void {
  const row = rowCache.get(pos);
  if (!row) {
    openAfterLoad = pos;
    return;
  }
  detailRequest = nextRequestId++;
  post({ type: 'getDetail', requestId: detailRequest, index: row.index });
}

function closeDetail(): void {
  detailEl.hidden = true;
}

function typed(a: RawArray): ArrayLike<number | bigint> {
  switch (a.dtype) {
    case 'float32':
      return new Float32Array(a.buffer);
    case 'float64':
      return new Float64Array(a.buffer);
    case 'int32':
      return new Int32Array(a.buffer);
    case 'int64':
      return new BigInt64Array(a.buffer);
    case 'uint8':
      return new Uint8Array(a.buffer);
  }
}

/** Generative teacher-forced rows: each actual token beside the model's prediction at its position. */
function nextTokens(tokens: NonNullable<RowView['tokens']>): HTMLElement {
  const box = el('div', 'next-tokens');
  const causal = overview?.task === 'causal-lm';
  box.append(el('h3', undefined, causal ? 'Next-token predictions (logits at t predict the token at t + 1)' : 'Token predictions (teacher forcing)'));
  const table = el('table');
  const head = el('tr');
  head.append(el('th', undefined, 'position'), el('th', undefined, causal ? 'actual next token' : 'actual token'), el('th', undefined, 'predicted'));
  table.append(head);
  tokens.forEach((t, k) => {
    const tr = el('tr', t.gold !== undefined && t.gold !== t.pred ? 'tok-wrong-row' : undefined);
    tr.append(el('td', undefined, String(k)), el('td', undefined, t.token), el('td', undefined, t.pred));
    table.append(tr);
  });
  box.append(table);
  return box;
}

function renderDetail(d: RowDetail): void {
  detailEl.textContent = '';
  detailEl.hidden = false;
  const r = d.row;
  const head = el('div', 'detail-head');
  head.append(el('h2', undefined, `Sample ${r.index}`));
  const close = el('button', 'close', 'Close');
  close.type = 'button';
  close.addEventListener('click', () => {
    closeDetail();
    viewport.focus();
  });
  head.append(close);
  detailEl.append(head);
  const dl = el('dl', 'detail-fields');
  const field = (k: string, v: string | HTMLElement) => {
    const dd = el('dd');
    dd.append(v);
    dl.append(el('dt', undefined, k), dd);
  };
  field('text', r.text);
  const pred = el('span');
  if (r.label !== undefined) diffText(pred, r.prediction, r.label);
  else pred.textContent = r.prediction;
  field('prediction', pred);
  if (r.label !== undefined) {
    const lab = el('span');
    diffText(lab, r.label, r.prediction);
    field('label', lab);
  }
  if (r.correct !== undefined) field('correct', r.correct ? 'yes' : 'no');
  if (r.confidence !== undefined) field('confidence', formatCompact(r.confidence));
  if (r.loss !== undefined) field('loss', formatCompact(r.loss));
  detailEl.append(dl);
  if (r.tokens && overview?.task !== 'token-classification') detailEl.append(nextTokens(r.tokens));
  for (const a of d.arrays) {
    const box = el('div', 'raw');
    box.append(el('div', 'raw-name', `${a.path}  ${a.dtype}[${a.shape.join(', ')}]`));
    const values = typed(a);
    const inner = a.shape.length >= 2 ? a.shape[a.shape.length - 1] : values.length || 1;
    const lines: string[] = [];
    const limit = Math.min(values.length, 4000);
    for (let s = 0; s < limit; s += inner) {
      const parts: string[] = [];
      for (let k = s; k < Math.min(s + inner, limit); k++) {
        const v = values[k];
        parts.push(typeof v === 'bigint' ? v.toString() : a.dtype.startsWith('float') ? formatCompact(v) : String(v));
      }
      lines.push(parts.join(' '));
    }
    if (values.length > limit) lines.push(`… ${values.length - limit} more`);
    box.append(el('pre', 'raw-values', lines.join('\n')));
    detailEl.append(box);
  }
}

// ------------------------------------------------------------------------------------------------ messages

window.addEventListener('message', (event: MessageEvent) => {
  const m = event.data as ToWebview;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'init':
      overview = m.overview;
      if (m.hostState) hostState = { ...m.hostState };
      renderOverview(m.overview);
      applyQuery(query, true, true);
      return;
    case 'summary':
      if (overview) overview = { ...overview, cards: m.cards, confusion: m.confusion, lints: m.lints };
      renderLints(m.lints);
      renderCards(m.cards, overview?.structure ?? []);
      renderConfusion(m.confusion);
      syncControls();
      return;
    case 'rows':
      onRows(m);
      return;
    case 'detail':
      if (m.requestId === detailRequest) renderDetail(m.detail);
      return;
    case 'metrics':
      renderMetrics(m.history);
      return;
    case 'error': {
      const box = el('div', 'lint error');
      box.setAttribute('role', 'alert');
      box.textContent = m.message;
      lintsEl.prepend(box);
      if (m.requestId !== undefined) {
        const req = requests.get(m.requestId);
        if (req) pendingBlocks.delete(req.block);
      }
      return;
    }
  }
});

layout();
performance.mark('evalpred-ready');
// Ask for the first window before `ready`, so rows and the overview travel in parallel: one round trip
// fewer before the table shows anything.
requestBlocks(0, 1);
post({ type: 'ready' });
