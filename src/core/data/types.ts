// The shape every dataset reader returns: a read-only table of plain JS rows.

export type Row = Record<string, unknown>;

export type DatasetFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet' | 'arrow';

export interface Dataset {
  /** The file actually read (for errors); the split folder when an Arrow dataset has several shards. */
  source: string;
  format: DatasetFormat;
  split?: string;
  columns: string[];
  numRows: number;
  /** Plain JS values: string, number, boolean, null, arrays, objects (bigint only for int64 beyond 2^53). */
  row(i: number): Row;
  /** Class names from `datasets` ClassLabel features (dataset_info.json or Parquet/Arrow metadata), by column. */
  classNames?: Record<string, string[]>;
}

/** Readers may record where each row starts in the file, so errors can name a line as well as a row. */
export interface DatasetWithLines extends Dataset {
  rowLine?(i: number): number | undefined;
}

/** "row 12" or "row 12 (line 14)": rows are 0-based like `dataset[i]`, lines 1-based like an editor. */
export function rowLabel(ds: Dataset, i: number): string {
  const line = (ds as DatasetWithLines).rowLine?.(i);
  return line === undefined ? `row ${i}` : `row ${i} (line ${line})`;
}
