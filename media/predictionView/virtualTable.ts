// The virtualised table: fixed row height, a fixed pool of row elements reused as it scrolls (only the visible
// rows are in the DOM), rows fetched from the host in blocks and kept in an LRU cache (rowCache.ts). Above
// ~8M px of rows the scrollbar maps onto rows proportionally and wheel/keyboard move a row-space offset, so a
// wheel notch moves as many rows on a million-row table as on a small one. What a row shows is the caller's
// (`fill`); which rows exist is the host's (`fetch`).
import { el } from '../common/dom';
import { RowCache } from './rowCache';

/** One line of a row; a row is this tall unless it holds several lines (setRowLines). */
export const LINE_H = 24;
const BLOCK = 100;
/** Browsers cap element heights (~33M px in Chrome); above this the scrollbar maps onto rows proportionally. */
const MAX_SCROLL_PX = 8_000_000;
/** 60 blocks of 100: a few screens either side of every recent position. */
const CACHE_BLOCKS = 60;

/** One pooled row element and what it shows now. */
export interface RowEl<T> {
  root: HTMLDivElement;
  cells: HTMLDivElement[];
  pos: number;
  shown: T | null | undefined;
}

export interface VirtualTableOptions<T> {
  /** Cell class names, one per column (`c0`, `c1`, ...: the styles and tests address cells by them). */
  cellClasses: string[];
  fetch(start: number, count: number): Promise<{ total: number; rows: T[] }>;
  /** Fill a pooled row with `row` (null: not loaded yet). */
  fill(r: RowEl<T>, row: T | null): void;
  /** Every answer, also "no rows": the count line must leave "loading…". */
  onAnswer(total: number, rows: number): void;
  /** Click, Enter or Space on a row. */
  onOpen(pos: number): void;
  onEscape(): void;
  onError(message: string): void;
  /** Selection or scroll position changed (the caller saves its state). */
  onMoved(): void;
  /** Right-click on a cell: the row position and the column number. */
  onContextMenu?(pos: number, column: number, e: MouseEvent): void;
}

export class VirtualTable<T> {
  readonly viewport = el('div', 'viewport');
  private readonly layer = el('div', 'layer');
  private readonly spacer = el('div', 'spacer');
  private readonly pool: RowEl<T>[] = [];
  private readonly cache = new RowCache<T>(BLOCK, CACHE_BLOCKS);
  private readonly pendingBlocks = new Set<number>();
  private cellClasses: string[];
  private hiddenCells: boolean[] = [];
  /** Bumped by every new query: answers to an older one are dropped. */
  private generation = 0;
  private openAfterLoad: number | undefined;
  total = 0;
  selected = 0;
  /** Row-space scroll offset in pixels (row k starts at k * this.rowH); see setOffset. */
  offset = 0;
  /** The scrollTop we set ourselves; a scroll event at any other value came from the scrollbar. */
  private ownScrollTop = -1;
  /** Applied when the first answer arrives (a restored scroll position). */
  pendingOffset: number | undefined;
  /** Pixels per row: LINE_H times the lines a row holds (num_return_sequences rows hold one line per sequence). */
  private rowH = LINE_H;

  constructor(private readonly o: VirtualTableOptions<T>) {
    this.cellClasses = o.cellClasses;
    const vp = this.viewport;
    vp.tabIndex = 0;
    vp.setAttribute('role', 'grid');
    vp.setAttribute('aria-label', 'Samples');
    vp.append(this.layer, this.spacer);
    let scrollSaveTimer: ReturnType<typeof setTimeout> | undefined;
    vp.addEventListener(
      'scroll',
      () => {
        if (Math.abs(vp.scrollTop - this.ownScrollTop) > 0.5) this.offset = this.offsetFromScrollTop();
        this.ownScrollTop = -1;
        this.render();
        clearTimeout(scrollSaveTimer);
        scrollSaveTimer = setTimeout(() => o.onMoved(), 150);
      },
      { passive: true },
    );
    vp.addEventListener(
      'wheel',
      (e) => {
        if (!this.scaled() || e.ctrlKey) return; // native scrolling is exact when rows are not scaled
        e.preventDefault();
        const unit = e.deltaMode === 1 ? LINE_H : e.deltaMode === 2 ? vp.clientHeight : 1;
        this.setOffset(this.offset + e.deltaY * unit);
        this.render();
      },
      { passive: false },
    );
    new ResizeObserver(() => {
      this.layout();
      this.render();
    }).observe(vp);
    vp.addEventListener('keydown', (e) => {
      const page = Math.max(1, Math.floor(vp.clientHeight / this.rowH) - 1);
      const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
      if (e.key in moves) this.select(this.selected + moves[e.key]);
      else if (e.key === 'Home') this.select(0);
      else if (e.key === 'End') this.select(this.total - 1);
      else if (e.key === 'Enter' || e.key === ' ') this.open(this.selected);
      else if (e.key === 'Escape') o.onEscape();
      else return;
      e.preventDefault();
    });
  }

  /** The loaded row at position `pos`, if its block is held. */
  rowAt(pos: number): T | undefined {
    return this.cache.get(pos);
  }

  /** A new query: forget every row (unless `keepRows`: the first window is already on its way), maybe go back to the top. */
  reset(keepScroll: boolean, keepRows: boolean): void {
    if (!keepRows) {
      this.generation++;
      this.cache.clear();
      this.pendingBlocks.clear();
      this.total = 0;
    }
    this.selected = keepScroll ? this.selected : 0;
    if (!keepScroll) this.setOffset(0);
    this.layout();
    this.render();
  }

  // ---------------------------------------------------------------------------------------------- geometry

  private virtualHeight(): number {
    return Math.min(this.total * this.rowH, MAX_SCROLL_PX);
  }

  private scaled(): boolean {
    return this.virtualHeight() < this.total * this.rowH;
  }

  /** Largest row-space offset: the last row sits at the bottom of the viewport. */
  private maxOffset(): number {
    return Math.max(0, this.total * this.rowH - this.viewport.clientHeight);
  }

  private offsetFromScrollTop(): number {
    const vp = this.viewport;
    const maxScroll = this.virtualHeight() - vp.clientHeight;
    if (!this.scaled() || maxScroll <= 0) return vp.scrollTop;
    return (vp.scrollTop / maxScroll) * this.maxOffset();
  }

  setOffset(px: number): void {
    const vp = this.viewport;
    this.offset = Math.max(0, Math.min(this.maxOffset(), px));
    const maxScroll = this.virtualHeight() - vp.clientHeight;
    vp.scrollTop = this.scaled() && this.maxOffset() > 0 ? (this.offset / this.maxOffset()) * maxScroll : this.offset;
    this.ownScrollTop = vp.scrollTop;
    if (!this.scaled()) this.offset = vp.scrollTop;
  }

  /** First visible row position and the pixel shift of the first row. */
  private visibleStart(): { first: number; shift: number } {
    const first = Math.floor(this.offset / this.rowH);
    return { first, shift: this.offset - first * this.rowH };
  }

  layout(): void {
    const h = this.viewport.clientHeight;
    this.layer.style.height = `${h}px`;
    // The layer is sticky and takes h pixels of the flow itself.
    this.spacer.style.height = `${Math.max(0, this.virtualHeight() - h)}px`;
    this.ensurePool(Math.ceil(h / this.rowH) + 1);
    this.setOffset(this.offset); // keep scrollTop consistent with the new height (and clamp the offset)
  }

  private ensurePool(n: number): void {
    const pool = this.pool;
    while (pool.length < n) {
      const root = el('div', 'row');
      root.setAttribute('role', 'row');
      const cells = this.cellClasses.map((cls, k) => {
        const c = el('div', `cell ${cls}`);
        c.setAttribute('role', 'gridcell');
        c.hidden = !!this.hiddenCells[k];
        return c;
      });
      root.append(...cells);
      const r: RowEl<T> = { root, cells, pos: -1, shown: undefined };
      root.addEventListener('click', () => {
        if (r.pos < 0) return;
        this.select(r.pos);
        this.open(r.pos);
        this.viewport.focus();
      });
      root.addEventListener('contextmenu', (e) => {
        if (r.pos < 0 || !this.o.onContextMenu) return;
        e.preventDefault();
        this.select(r.pos);
        const column = cells.findIndex((c) => c.contains(e.target as Node));
        this.o.onContextMenu(r.pos, column, e);
      });
      this.layer.append(root);
      pool.push(r);
    }
    while (pool.length > n) pool.pop()!.root.remove();
  }

  /** Show the rows at the current offset, asking for the blocks around them that are not held. */
  render(): void {
    const { first, shift } = this.visibleStart();
    const visible = this.pool.length;
    this.requestBlocks(first, first + visible);
    this.cache.touch(first, first + visible);
    for (let k = 0; k < visible; k++) {
      const r = this.pool[k];
      const pos = first + k;
      r.root.style.transform = `translateY(${k * this.rowH - shift}px)`;
      if (pos >= this.total) {
        r.root.hidden = true;
        r.pos = -1;
        continue;
      }
      r.root.hidden = false;
      const row = this.cache.get(pos) ?? null;
      const sel = pos === this.selected;
      r.root.classList.toggle('selected', sel);
      r.root.setAttribute('aria-selected', String(sel));
      r.root.setAttribute('aria-rowindex', String(pos + 1));
      if (r.pos === pos && r.shown === row) continue;
      r.pos = pos;
      r.shown = row;
      this.o.fill(r, row);
    }
  }

  /** New columns (the overview named the task's per-sample metrics): the pooled rows are built again. */
  setColumns(cellClasses: string[]): void {
    this.cellClasses = cellClasses;
    for (const r of this.pool.splice(0)) r.root.remove();
    this.layout();
    this.render();
  }

  /** Rows of `lines` lines each (the view's --row-h must say the same); keeps the first visible row in place. */
  setRowLines(lines: number): void {
    const h = LINE_H * Math.max(1, lines);
    if (h === this.rowH) return;
    const first = this.offset / this.rowH;
    this.rowH = h;
    this.layout();
    this.setOffset(first * h);
    this.refill();
  }

  /** Hide the cells of the flagged columns (the Columns menu). */
  setHidden(hidden: boolean[]): void {
    this.hiddenCells = hidden;
    for (const r of this.pool) r.cells.forEach((c, k) => (c.hidden = !!hidden[k]));
  }

  /** Fill every pooled row again. */
  refill(): void {
    for (const r of this.pool) r.shown = undefined;
    this.render();
  }

  // ---------------------------------------------------------------------------------------------- fetching

  requestBlocks(from: number, to: number): void {
    const lo = Math.max(0, Math.floor(from / BLOCK) - 1);
    const hi = Math.floor(Math.min(Math.max(this.total, 1), to) / BLOCK) + 1;
    for (let b = lo; b <= hi; b++) {
      if (b * BLOCK >= this.total && !(b === 0 && this.total === 0)) continue;
      if (this.pendingBlocks.has(b) || this.cache.hasBlock(b)) continue;
      this.pendingBlocks.add(b);
      const gen = this.generation;
      this.o.fetch(b * BLOCK, BLOCK).then(
        (answer) => {
          if (gen !== this.generation) return; // an answer to an older query
          this.pendingBlocks.delete(b);
          this.onRows(b * BLOCK, answer.total, answer.rows);
        },
        (e: Error) => {
          if (gen === this.generation) this.pendingBlocks.delete(b);
          this.o.onError(e.message);
        },
      );
    }
  }

  private onRows(start: number, total: number, rows: T[]): void {
    this.cache.put(start, rows);
    if (total !== this.total) {
      this.total = total;
      this.viewport.setAttribute('aria-rowcount', String(total));
      this.layout();
    }
    if (this.pendingOffset !== undefined) {
      this.setOffset(this.pendingOffset);
      this.pendingOffset = undefined;
    }
    this.render();
    this.o.onAnswer(total, rows.length);
    if (this.openAfterLoad !== undefined && this.cache.get(this.openAfterLoad) !== undefined) {
      const p = this.openAfterLoad;
      this.openAfterLoad = undefined;
      this.o.onOpen(p);
    }
  }

  // ---------------------------------------------------------------------------------------------- selection

  select(pos: number): void {
    if (this.total === 0) return;
    this.selected = Math.max(0, Math.min(this.total - 1, pos));
    const { first, shift } = this.visibleStart();
    const h = this.viewport.clientHeight;
    if (this.selected < first + (shift > 0 ? 1 : 0)) this.setOffset(this.selected * this.rowH);
    else if (this.selected * this.rowH + this.rowH > this.offset + h) this.setOffset((this.selected + 1) * this.rowH - h);
    this.render();
    this.o.onMoved();
  }

  /** Open a row now, or once its block arrives. */
  open(pos: number): void {
    if (this.cache.get(pos) === undefined) {
      this.openAfterLoad = pos;
      return;
    }
    this.o.onOpen(pos);
  }
}
