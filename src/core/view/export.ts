// The prediction view's table as text: CSV and JSON Lines of the (filtered, sorted) rows with the chosen
// columns, and the text a copy puts on the clipboard. Plain Node and no `vscode`, so the CLI can write the
// same files; the extension host only picks the file and writes what this yields.
import type { ColumnId, CopyWhat, ExportFormat, RowView } from '../../shared/protocol';
import type { SampleTable } from './samples';

/** The header of a column in CSV and the key of a field in JSON Lines. */
export function columnKey(c: ColumnId): string {
  return c.startsWith('score:') ? c.slice('score:'.length) : c;
}

/** A row's value in a column: strings, numbers, booleans, or null where the sample has none. */
export function cellValue(row: RowView, c: ColumnId, scoreNames: readonly string[]): string | number | boolean | null {
  switch (c) {
    case 'index':
      return row.index;
    case 'text':
      return row.text;
    case 'prediction':
      return row.prediction;
    case 'label':
      return row.label ?? null;
    case 'correct':
      return row.correct ?? null;
    case 'confidence':
      return row.confidence ?? null;
    case 'loss':
      return row.loss ?? null;
    default: {
      const v = row.scores?.[scoreNames.indexOf(columnKey(c))];
      return v === undefined || Number.isNaN(v) ? null : v;
    }
  }
}

/**
 * One CSV field as RFC 4180 writes it (and Python's csv module reads it): quoted when it holds a comma, a
 * quote, a line break or leading/trailing space, with quotes doubled; null is an empty field.
 */
export function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function jsonValue(v: string | number | boolean | null): string | number | boolean | null {
  // JSON has no NaN or infinities: they are written as null.
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/**
 * One row as a JSON object of the columns, keys in column order. With num_return_sequences (RowView.sequences)
 * and the prediction column, `sequences` follows `prediction`: each sequence, best first, with its correctness
 * and its values of the chosen metric columns.
 */
export function rowJson(row: RowView, columns: readonly ColumnId[], scoreNames: readonly string[]): string {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    out[columnKey(c)] = jsonValue(cellValue(row, c, scoreNames));
    if (c === 'prediction' && row.sequences) {
      out.sequences = row.sequences.map((s) => {
        const o: Record<string, unknown> = { prediction: s.prediction };
        if (columns.includes('correct')) o.correct = s.correct ?? null;
        for (const sc of columns.filter((x) => x.startsWith('score:'))) {
          const v = s.scores?.[scoreNames.indexOf(columnKey(sc))];
          o[columnKey(sc)] = v === undefined ? null : jsonValue(v);
        }
        return o;
      });
    }
  }
  return JSON.stringify(out);
}

/** CSV's cells of a row: the columns, and with num_return_sequences n the other sequences after `prediction`. */
function csvCells(row: RowView | undefined, columns: readonly ColumnId[], scoreNames: readonly string[], sequences: number): (string | number | boolean | null)[] {
  const out: (string | number | boolean | null)[] = [];
  for (const c of columns) {
    out.push(row ? cellValue(row, c, scoreNames) : columnKey(c));
    if (c === 'prediction') for (let j = 2; j <= sequences; j++) out.push(row ? row.sequences?.[j - 1]?.prediction ?? null : `prediction_${j}`);
  }
  return out;
}

/**
 * The lines of the export (each ends with "\n"): CSV with a header line, or one JSON object per sample.
 * `sequences` is the run's num_return_sequences: CSV then has prediction_2 … prediction_n after prediction.
 */
export function* exportLines(rows: Iterable<RowView>, columns: readonly ColumnId[], format: ExportFormat, scoreNames: readonly string[], sequences = 1): Generator<string> {
  if (format === 'csv') yield csvCells(undefined, columns, scoreNames, sequences).map(csvField).join(',') + '\r\n';
  for (const row of rows) {
    if (format === 'csv') yield csvCells(row, columns, scoreNames, sequences).map(csvField).join(',') + '\r\n';
    else yield rowJson(row, columns, scoreNames) + '\n';
  }
}

/** The table's rows in `order` (a filtered, sorted list of sample indices), built one at a time. */
export function* rowsInOrder(table: SampleTable, order: Int32Array): Generator<RowView> {
  for (let p = 0; p < order.length; p++) yield table.row(order[p]);
}

/** What "Copy cell" / "Copy row" / "Copy row as JSON" put on the clipboard. */
export function copyText(row: RowView, what: CopyWhat, columns: readonly ColumnId[], scoreNames: readonly string[]): string {
  if (what === 'row-json') return rowJson(row, columns, scoreNames);
  const text = (v: string | number | boolean | null) => (v === null ? '' : String(v));
  // A row as tab-separated values pastes into a spreadsheet as cells (the CSV's, other sequences included);
  // tabs and line breaks inside become spaces.
  if (what === 'row') return csvCells(row, columns, scoreNames, row.sequences?.length ?? 1).map((v) => text(v).replace(/[\t\r\n]+/g, ' ')).join('\t');
  // The prediction cell of a num_return_sequences row shows every sequence: a line each, best first.
  if (columns[0] === 'prediction' && row.sequences) return row.sequences.map((s) => s.prediction).join('\n');
  return text(cellValue(row, columns[0], scoreNames));
}

/** A file name for the export: the run's title and the filter, made safe for every file system. */
export function exportFileName(title: string, format: ExportFormat, filtered: boolean): string {
  const base = title.replace(/[^\w.-]+/g, '_').replace(/^[._]+|[._]+$/g, '').slice(0, 80) || 'predictions';
  return `${base}${filtered ? '-filtered' : ''}.${format}`;
}
