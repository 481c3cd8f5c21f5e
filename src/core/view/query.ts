// Filtering and sorting the per-sample table into an order of sample indices, then cutting windows out
// of it. The last order is kept, so scrolling (many windows, one query) costs a subarray each time.
import type { RowQuery, RowView } from '../../shared/protocol';
import { SampleTable } from './samples';

export function queryKey(q: RowQuery): string {
  const f = q.filter ?? {};
  return JSON.stringify([!!f.wrongOnly, f.gold ?? null, f.predicted ?? null, (f.search ?? '').toLowerCase(), q.sort?.key ?? 'index', !!q.sort?.descending]);
}

/** Sample indices passing `q.filter`, in `q.sort` order (ties and missing values keep index order; missing last). */
export function computeOrder(table: SampleTable, q: RowQuery): Int32Array {
  const f = q.filter ?? {};
  const labelId = (name: string | undefined) => (name === undefined ? undefined : table.labels.indexOf(name));
  const gold = labelId(f.gold);
  const pred = labelId(f.predicted);
  const needle = (f.search ?? '').trim().toLowerCase();
  const keep: number[] = [];
  const n = table.n;
  const plain = !f.wrongOnly && gold === undefined && pred === undefined && !needle;
  let order: Int32Array;
  if (plain) {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    for (let i = 0; i < n; i++) {
      if (f.wrongOnly && table.correct[i] !== 0) continue;
      if (gold !== undefined && pred !== undefined) {
        if (!table.hasPair(i, gold, pred)) continue;
      } else {
        if (gold !== undefined && !table.hasGold(i, gold)) continue;
        if (pred !== undefined && !table.hasPredicted(i, pred)) continue;
      }
      if (needle && !matches(table, i, needle)) continue;
      keep.push(i);
    }
    order = Int32Array.from(keep);
  }
  const key = q.sort?.key ?? 'index';
  const desc = !!q.sort?.descending;
  if (key === 'index') return desc ? order.reverse() : order;
  const col = key === 'confidence' ? table.confidence : table.loss;
  const sign = desc ? -1 : 1;
  // Sort a copy of the keys with the indices (typed-array sort of packed pairs is much faster than a comparator
  // over 1M indices, but NaN handling is simpler this way and 1M rows still sorts in well under a second).
  const idx = Array.from(order);
  idx.sort((a, b) => {
    const x = col[a];
    const y = col[b];
    const xn = x !== x;
    const yn = y !== y;
    if (xn || yn) return xn && yn ? a - b : xn ? 1 : -1;
    return x === y ? a - b : (x < y ? -1 : 1) * sign;
  });
  return Int32Array.from(idx);
}

function matches(table: SampleTable, i: number, needle: string): boolean {
  if (table.text(i).toLowerCase().includes(needle)) return true;
  // Label names are cheap to test for classification; token/QA rows build their view only on demand.
  if (table.task === 'sequence-classification') {
    return table.name(table.predId[i]).toLowerCase().includes(needle) || table.name(table.goldId[i]).toLowerCase().includes(needle);
  }
  return false;
}

/** Caches the order of the last query. */
export class RowWindows {
  private key = '';
  private order: Int32Array | undefined;

  constructor(private readonly table: SampleTable) {}

  orderFor(q: RowQuery): Int32Array {
    const k = queryKey(q);
    if (!this.order || k !== this.key) {
      this.order = computeOrder(this.table, q);
      this.key = k;
    }
    return this.order;
  }

  window(q: RowQuery, start: number, count: number): { total: number; rows: RowView[] } {
    const order = this.orderFor(q);
    const s = Math.max(0, Math.min(order.length, start));
    const e = Math.min(order.length, s + Math.max(0, count));
    const rows: RowView[] = [];
    for (let p = s; p < e; p++) rows.push(this.table.row(order[p]));
    return { total: order.length, rows };
  }
}
