// CSV and TSV datasets as `datasets.load_dataset("csv", ...)` (pandas.read_csv; TSV with delimiter="\t") reads
// them: a header row, RFC 4180 quoting, and column types inferred from the whole column (all integers ->
// numbers, and so on). Cells of list/struct columns hold JSON text, or Python literals as pandas' to_csv writes
// them; both are parsed back. Missing values follow pandas' defaults in every column (the NA set below): the
// README's "Datasets" section states the rule for users.
import { EvalpredError } from '../errors';
import { pythonLiteralToJson } from './pythonLiteral';
import { readText } from './readFile';
import { rowsDataset } from './table';
import { DatasetWithLines, Row } from './types';

interface CsvRecord {
  cells: string[];
  /** 1-based line where the record starts (records may span lines inside quotes). */
  line: number;
}

/** Splits text into records; newlines, delimiters and doubled quotes inside quotes are kept as data. */
export function parseCsvRecords(text: string, file: string, delimiter = ','): CsvRecord[] {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let atCellStart = true;
  let rowHasContent = false;
  const endRecord = () => {
    cells.push(cell);
    // pandas skips blank lines (skip_blank_lines=True).
    if (rowHasContent || cells.length > 1) records.push({ cells, line: recordLine });
    cells = [];
    cell = '';
    atCellStart = true;
    rowHasContent = false;
  };
  while (i < text.length) {
    const ch = text[i];
    if (atCellStart && ch === '"') {
      const openLine = line;
      i++;
      for (;;) {
        if (i >= text.length) {
          throw new EvalpredError(
            `${file}, line ${openLine}: a quoted field opened here is never closed (a missing closing '"'), so the rest of the file would be one cell.`,
            { file, line: openLine },
          );
        }
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        cell += c;
        i++;
      }
      atCellStart = false;
      rowHasContent = true;
      continue;
    }
    if (ch === delimiter) {
      cells.push(cell);
      cell = '';
      atCellStart = true;
      rowHasContent = true;
      i++;
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      cell += ch;
      atCellStart = false;
      rowHasContent = true;
      i++;
    }
  }
  if (rowHasContent || cells.length > 0) endRecord();
  return records;
}

/** pandas' header handling: empty names become "Unnamed: i", repeated names get ".1", ".2". */
function headerNames(cells: string[]): string[] {
  const seen = new Map<string, number>();
  return cells.map((raw, i) => {
    let name = raw === '' ? `Unnamed: ${i}` : raw;
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    if (count > 0) {
      name = `${name}.${count}`;
      seen.set(name, 1);
    }
    return name;
  });
}

// pandas' default NA spellings (keep_default_na): a cell spelled exactly so is missing in any column, text
// included — "NA" in a text column is None after datasets.load_dataset("csv"), so it is null here too.
const NA = new Set(['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null']);
const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|Inf|INF|infinity|Infinity)$/;
const TRUE = new Set(['True', 'TRUE', 'true']);
const FALSE = new Set(['False', 'FALSE', 'false']);

type Converter = (cell: string) => unknown;

/** The whole column decides its type, as in pandas: one non-numeric cell keeps the column as text. */
function inferColumn(values: string[]): Converter {
  const present = values.filter((v) => !NA.has(v.trim()));
  const trimmed = present.map((v) => v.trim());
  const missing = (v: string) => NA.has(v.trim());
  if (present.length > 0 && trimmed.every((v) => INT.test(v))) {
    return (v) => (missing(v) ? null : parseInteger(v.trim()));
  }
  if (present.length > 0 && trimmed.every((v) => FLOAT.test(v))) {
    return (v) => (missing(v) ? null : Number(v.trim().replace(/^([+-]?)inf(inity)?$/i, '$1Infinity')));
  }
  if (present.length > 0 && trimmed.every((v) => TRUE.has(v) || FALSE.has(v))) {
    return (v) => (missing(v) ? null : TRUE.has(v.trim()));
  }
  if (values.every((v) => NA.has(v))) return () => null;
  // List and struct columns: every present cell is JSON text for a list or an object.
  const nonEmpty = values.filter((v) => !NA.has(v));
  const parsed = new Map<string, unknown>();
  const allJson = nonEmpty.every((v) => {
    const t = v.trim();
    if (!(t.startsWith('[') && t.endsWith(']')) && !(t.startsWith('{') && t.endsWith('}'))) return false;
    try {
      parsed.set(v, JSON.parse(t));
      return true;
    } catch {
      const json = pythonLiteralToJson(t);
      if (json === undefined) return false;
      try {
        parsed.set(v, JSON.parse(json));
        return true;
      } catch {
        return false;
      }
    }
  });
  if (allJson) return (v) => (NA.has(v) ? null : parsed.get(v));
  // Text stays byte for byte (trailing spaces included); a cell that is exactly an NA spelling is missing.
  return (v) => (NA.has(v) ? null : v);
}

function parseInteger(s: string): number | bigint {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

export function readCsv(file: string): DatasetWithLines {
  return readDelimited(file, ',', 'CSV');
}

/** Tab-separated values, as load_dataset("csv", delimiter="\t") reads them (quoting still applies). */
export function readTsv(file: string): DatasetWithLines {
  return readDelimited(file, '\t', 'TSV');
}

function readDelimited(file: string, delimiter: string, kind: 'CSV' | 'TSV'): DatasetWithLines {
  const records = parseCsvRecords(readText(file), file, delimiter);
  if (records.length === 0) {
    throw new EvalpredError(`${file}: the ${kind} file is empty (no header row and no rows).`, { file });
  }
  const columns = headerNames(records[0].cells);
  const body = records.slice(1);
  const sep = kind === 'CSV' ? 'commas' : 'tabs';
  for (const r of body) {
    if (r.cells.length !== columns.length) {
      throw new EvalpredError(
        `${file}, line ${r.line}: expected ${columns.length} fields (as in the header: ${columns.join(', ')}), found ${r.cells.length}. ` +
          `Fields holding ${sep}, quotes or newlines must be quoted ("..."), with quotes inside doubled ("").`,
        { file, line: r.line },
      );
    }
  }
  const convert = columns.map((_, c) => inferColumn(body.map((r) => r.cells[c])));
  const rows: Row[] = body.map((r) => Object.fromEntries(columns.map((name, c) => [name, convert[c](r.cells[c])])));
  return rowsDataset({ source: file, format: kind === 'CSV' ? 'csv' : 'tsv', rows, columns, lines: body.map((r) => r.line) });
}
