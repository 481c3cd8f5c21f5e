// Dotted paths into rows ('answers.text[0]', 'meta.lang') and text templates ('{question} {context}').
import { EvalpredError } from '../errors';
import { didYouMean, listNames } from './suggest';
import { Dataset, Row, rowLabel } from './types';

type Step = { key: string } | { index: number };

const cache = new Map<string, Step[]>();

/** 'answers.text[0]' -> [key answers, key text, index 0]. Bad syntax (such as 'a[x]') gives undefined. */
export function parsePath(p: string): Step[] | undefined {
  const hit = cache.get(p);
  if (hit) return hit;
  const steps: Step[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|(\.)/gy;
  let expectKey = true;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < p.length) {
    re.lastIndex = pos;
    m = re.exec(p);
    if (!m) return undefined;
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectKey) return undefined;
      steps.push({ key: m[1] });
      expectKey = false;
    } else if (m[2] !== undefined) {
      if (steps.length === 0) return undefined;
      steps.push({ index: Number(m[2]) });
    } else {
      if (expectKey) return undefined;
      expectKey = true;
    }
  }
  if (expectKey || steps.length === 0) return undefined;
  if (cache.size < 1000) cache.set(p, steps);
  return steps;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a dotted path, or undefined when any step is missing. A column whose name contains dots wins. */
export function getField(row: Row, p: string): unknown {
  if (Object.prototype.hasOwnProperty.call(row, p)) return row[p];
  const steps = parsePath(p);
  if (!steps) return undefined;
  let v: unknown = row;
  for (const s of steps) {
    if ('key' in s) {
      if (!isRecord(v) || !Object.prototype.hasOwnProperty.call(v, s.key)) return undefined;
      v = v[s.key];
    } else {
      if (!Array.isArray(v) || s.index >= v.length) return undefined;
      v = v[s.index];
    }
  }
  return v;
}

function showPath(steps: Step[], n: number): string {
  return steps.slice(0, n).reduce((acc, s, k) => ('key' in s ? (k === 0 ? s.key : `${acc}.${s.key}`) : `${acc}[${s.index}]`), '');
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (isRecord(v)) return 'a struct';
  return `a ${typeof v}`;
}

/**
 * The value at `p` in row `i` (null when the cell is null); an EvalpredError naming the file, row and
 * column when the path does not exist, listing the columns (or struct fields) that do.
 */
export function requireField(ds: Dataset, i: number, p: string): unknown {
  const row = ds.row(i);
  if (Object.prototype.hasOwnProperty.call(row, p)) return row[p];
  const steps = parsePath(p);
  const at = `${ds.source}, ${rowLabel(ds, i)}`;
  const place = { file: ds.source, row: i, column: p };
  if (!steps) {
    throw new EvalpredError(
      `"${p}" is not a valid field path: use a column name, dots for struct fields and [n] for list items (such as answers.text[0]). ` +
        `The columns of ${ds.source} are ${listNames(ds.columns)}.`,
      place,
    );
  }
  const first = (steps[0] as { key: string }).key;
  if (!ds.columns.includes(first)) {
    throw new EvalpredError(`${ds.source}: there is no column "${first}"; the columns are ${listNames(ds.columns)}.${didYouMean(first, ds.columns)}`, place);
  }
  let v: unknown = row;
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k];
    const here = showPath(steps, k);
    if ('key' in s) {
      if (k > 0 && !isRecord(v)) {
        throw new EvalpredError(`${at}: "${here}" is ${kind(v)}, not a struct, so "${showPath(steps, k + 1)}" does not exist.`, place);
      }
      const obj = v as Record<string, unknown>;
      if (!Object.prototype.hasOwnProperty.call(obj, s.key)) {
        const keys = Object.keys(obj);
        throw new EvalpredError(
          `${at}: "${here}" has no field "${s.key}"; its fields are ${listNames(keys)}.${didYouMean(s.key, keys)}`,
          place,
        );
      }
      v = obj[s.key];
    } else {
      if (!Array.isArray(v)) {
        throw new EvalpredError(`${at}: "${here}" is ${kind(v)}, not a list, so "${showPath(steps, k + 1)}" does not exist.`, place);
      }
      if (s.index >= v.length) {
        throw new EvalpredError(
          `${at}: "${here}" has ${v.length} item${v.length === 1 ? '' : 's'}, so "${showPath(steps, k + 1)}" does not exist.`,
          place,
        );
      }
      v = v[s.index];
    }
  }
  return v;
}

/**
 * Fills `{field.path}` placeholders from row `i`; `{{` and `}}` stand for literal braces (as in Python's
 * str.format). Lists and structs are inserted as JSON; a null field is an error rather than the text "null".
 */
export function renderTemplate(template: string, ds: Dataset, i: number): string {
  let out = '';
  let k = 0;
  const bad = (why: string, at: number) =>
    new EvalpredError(`Text template ${JSON.stringify(template)}, character ${at + 1}: ${why} Write {{ and }} for literal braces.`, {
      file: ds.source,
      row: i,
    });
  while (k < template.length) {
    const ch = template[k];
    if (ch === '{') {
      if (template[k + 1] === '{') {
        out += '{';
        k += 2;
        continue;
      }
      const end = template.indexOf('}', k + 1);
      if (end < 0) throw bad('a "{" is never closed by "}".', k);
      const field = template.slice(k + 1, end).trim();
      if (field === '' || field.includes('{')) throw bad(`"{${template.slice(k + 1, end)}}" does not name a field.`, k);
      out += fieldText(requireField(ds, i, field), ds, i, field);
      k = end + 1;
    } else if (ch === '}') {
      if (template[k + 1] !== '}') throw bad('a "}" has no matching "{".', k);
      out += '}';
      k += 2;
    } else {
      out += ch;
      k++;
    }
  }
  return out;
}

function fieldText(v: unknown, ds: Dataset, i: number, field: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) {
    throw new EvalpredError(`${ds.source}, ${rowLabel(ds, i)}: field "${field}" used in the text template is empty (null).`, {
      file: ds.source,
      row: i,
      column: field,
    });
  }
  return JSON.stringify(v);
}

/**
 * Row `i`'s input text as summaries show it: the template filled, else the text column's value (a list of
 * words joined by spaces, as token-classification datasets hold them).
 */
export function rowInputText(ds: Dataset, i: number, columns: { text?: string; template?: string }): string {
  const v = columns.template ? renderTemplate(columns.template, ds, i) : getField(ds.row(i), columns.text ?? '');
  return Array.isArray(v) ? v.join(' ') : String(v);
}
