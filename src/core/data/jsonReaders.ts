// JSON Lines and JSON datasets, read as `datasets.load_dataset("json", ...)` reads them.
import { EvalpredError } from '../errors';
import { jsonErrorReason, jsonErrorWhere, readText } from './readFile';
import { rowsDataset } from './table';
import { DatasetWithLines, Row } from './types';

function isPlainObject(v: unknown): v is Row {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One JSON object per non-blank line. */
export function readJsonl(file: string, text = readText(file)): DatasetWithLines {
  const rows: Row[] = [];
  const lines: number[] = [];
  const all = text.split('\n');
  for (let n = 0; n < all.length; n++) {
    const line = all[n].endsWith('\r') ? all[n].slice(0, -1) : all[n];
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      const at = jsonErrorWhere(e, line);
      throw new EvalpredError(
        `${file}, line ${n + 1}${at ? `, column ${at.col}` : ''}: not valid JSON (${jsonErrorReason(e)}). ` +
          `A JSON Lines dataset holds one JSON object per line.`,
        { file, line: n + 1 },
        { cause: e },
      );
    }
    if (!isPlainObject(v)) {
      throw new EvalpredError(
        `${file}, line ${n + 1}: expected a JSON object ({"column": value, ...}) per line, found ${describe(v)}.`,
        { file, line: n + 1 },
      );
    }
    rows.push(v);
    lines.push(n + 1);
  }
  return rowsDataset({ source: file, format: 'jsonl', rows, lines });
}

/** A JSON array of row objects, or an object of equally long column arrays. */
export function readJson(file: string): DatasetWithLines {
  const text = readText(file);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    // `datasets` also accepts JSON Lines in a .json file; try that before reporting the JSON error.
    if (looksLikeJsonl(text)) {
      try {
        return readJsonl(file, text);
      } catch {
        /* report the original JSON error below */
      }
    }
    const at = jsonErrorWhere(e, text);
    throw new EvalpredError(
      `${file}${at ? `, line ${at.line}, column ${at.col}` : ''}: not valid JSON (${jsonErrorReason(e)}).`,
      { file, line: at?.line },
      { cause: e },
    );
  }
  if (Array.isArray(v)) {
    const bad = v.findIndex((r) => !isPlainObject(r));
    if (bad >= 0) {
      throw new EvalpredError(`${file}: expected an array of row objects, but item ${bad} is ${describe(v[bad])}.`, { file, row: bad });
    }
    return rowsDataset({ source: file, format: 'json', rows: v as Row[] });
  }
  if (isPlainObject(v)) {
    const columns = Object.keys(v);
    const notList = columns.find((c) => !Array.isArray(v[c]));
    if (columns.length === 0 || notList !== undefined) {
      throw new EvalpredError(
        `${file}: a JSON dataset is an array of rows ([{"col": ...}, ...]) or an object of columns ({"col": [...], ...})` +
          (notList !== undefined ? `; key "${notList}" holds ${describe(v[notList])}, not a list.` : '; this object is empty.'),
        { file, column: notList },
      );
    }
    const n = (v[columns[0]] as unknown[]).length;
    const uneven = columns.find((c) => (v[c] as unknown[]).length !== n);
    if (uneven !== undefined) {
      throw new EvalpredError(
        `${file}: the columns have different lengths ("${columns[0]}" has ${n} values, "${uneven}" has ${(v[uneven] as unknown[]).length}).`,
        { file, column: uneven },
      );
    }
    const rows: Row[] = Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map((c) => [c, (v[c] as unknown[])[i]])));
    return rowsDataset({ source: file, format: 'json', rows, columns });
  }
  throw new EvalpredError(`${file}: expected a JSON array of rows or an object of columns, found ${describe(v)}.`, { file });
}

function looksLikeJsonl(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 1 && lines.every((l) => l.trimStart().startsWith('{'));
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `a ${typeof v}`;
}
