// An in-memory dataset over an array of rows, shared by the jsonl, json, csv and parquet readers.
import { EvalpredError } from '../errors';
import { Dataset, DatasetFormat, DatasetWithLines, Row } from './types';

export interface RowsTableInit {
  source: string;
  format: DatasetFormat;
  rows: Row[];
  /** Column order; defaults to the keys in order of first appearance. */
  columns?: string[];
  /** 1-based line where each row starts (text formats). */
  lines?: number[];
  classNames?: Record<string, string[]>;
}

/** Keys in order of first appearance over all rows (jsonl rows may differ in their keys). */
export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

export function rowsDataset(init: RowsTableInit): DatasetWithLines {
  const { source, format, rows, lines } = init;
  const columns = init.columns ?? columnsOf(rows);
  if (rows.length === 0) {
    throw new EvalpredError(`${source}: the dataset has 0 rows, so there is nothing to evaluate.`, { file: source });
  }
  const ds: DatasetWithLines = {
    source,
    format,
    columns,
    numRows: rows.length,
    row(i: number): Row {
      checkIndex(ds, i);
      const r = rows[i];
      // Like `datasets`, a key missing from one jsonl row reads as null rather than being absent.
      const out: Row = {};
      for (const c of columns) out[c] = c in r ? r[c] : null;
      return out;
    },
  };
  if (lines) ds.rowLine = (i) => lines[i];
  if (init.classNames && Object.keys(init.classNames).length > 0) ds.classNames = init.classNames;
  return ds;
}

export function checkIndex(ds: Dataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.numRows) {
    throw new EvalpredError(`${ds.source}: row ${i} does not exist; the dataset has ${ds.numRows} rows (0 to ${ds.numRows - 1}).`, {
      file: ds.source,
      row: i,
    });
  }
}

/** int64 values become numbers when exactly representable; larger ones stay bigint rather than silently rounding. */
export function plainBigint(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Deep conversion of reader output (bigints, typed arrays) into plain JS values. */
export function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return plainBigint(v);
  if (v === null || v === undefined) return v ?? null;
  if (typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Date || v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, toPlain);
  const out: Row = {};
  for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
  return out;
}
