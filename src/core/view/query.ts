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
  const col = key === 'confidence' ? table.confidence : key === 'loss' ? table.loss : table.score(key.slice('score:'.length));
  if (!col) return order; // a metric this task does not have: index order
  return sortByColumn(order, col, desc);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A float's position in ascending order as an unsigned 32-bit number (float32 precision; NaN handled by the caller). */
function orderedBits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/**
 * `order` sorted by `col` (missing values last, ties in the order given: index order). An LSD radix sort of
 * float32 order bits, 4 passes of 8 bits: a comparator sort of 1,000,000 indices takes seconds, this takes
 * tens of milliseconds (bench/viewQuery.ts). Values equal to float32 precision keep index order.
 */
export function sortByColumn(order: Int32Array, col: Float64Array, descending: boolean): Int32Array {
  const n = order.length;
  let keys = new Uint32Array(n);
  for (let p = 0; p < n; p++) {
    const x = col[order[p]];
    keys[p] = x !== x ? 0xffffffff : descending ? 0xfffffffe - orderedBits(x) : orderedBits(x);
  }
  let idx = Int32Array.from(order);
  let keys2 = new Uint32Array(n);
  let idx2 = new Int32Array(n);
  const count = new Uint32Array(256);
  for (let shift = 0; shift < 32; shift += 8) {
    count.fill(0);
    for (let p = 0; p < n; p++) count[(keys[p] >>> shift) & 255]++;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let p = 0; p < n; p++) {
      const q = count[(keys[p] >>> shift) & 255]++;
      keys2[q] = keys[p];
      idx2[q] = idx[p];
    }
    [keys, keys2] = [keys2, keys];
    [idx, idx2] = [idx2, idx];
  }
  return idx;
}

function matches(table: SampleTable, i: number, needle: string): boolean {
  // Input text, predicted and gold label names / decoded texts, lower-cased (token tags are not searched).
  return table.searchText(i).includes(needle);
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
