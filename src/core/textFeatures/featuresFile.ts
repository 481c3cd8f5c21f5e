// The tokenized-features cache on disk (docs/cache-format.md#tokenized-features): one file per key,
// `<dir>/<first 16 hex digits of the key>.features`, read in one go, checked against the SHA-256 its header
// records, and viewed in place (no parsing of the arrays). Written like the prediction cache: into a temp file beside it, then renamed into place; a file
// at that name that evalpred did not write (no magic, or not a regular file) is never replaced.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { messageOf } from '../errors';
import { FeatureChunk, TOKEN_ARRAYS, headOf } from './tokenFeatures';

export const FEATURES_FORMAT = 'evalpred-features/2';
const MAGIC = Buffer.from('EVALPRED-FEATURES\n', 'latin1');

/**
 * What one run's tokenization left: named tables of tokenized items (sequence classification: "inputs";
 * seq2seq: "inputs" and "targets"), covering dataset rows 0 .. rows-1. An item is a row, or with `itemRows`
 * one of run_qa's windows of the row itemRows[i] (nondecreasing), for every table alike.
 */
export interface FeatureSet {
  rows: number;
  tables: Record<string, FeatureChunk>;
  itemRows?: Int32Array;
}

type Dtype = 'uint32' | 'int32' | 'uint8' | 'int8';
type Typed = Uint32Array | Int32Array | Uint8Array | Int8Array;
const ARRAY_OF: Record<Dtype, { new (b: ArrayBufferLike, o: number, n: number): Typed; BYTES_PER_ELEMENT: number }> = {
  uint32: Uint32Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
};
const DTYPE_OF: Record<string, Dtype> = { starts: 'uint32', ids: 'int32', typeIds: 'uint8', wordIds: 'int32', sequenceIds: 'int8', offsets: 'uint32', itemRows: 'int32' };

const ARRAY_NAME = /^(?:[a-z]+\.(?:starts|ids|typeIds|wordIds|sequenceIds|offsets)|itemRows)$/;

interface ArrayEntry {
  /** "<table>.<field>" (field: starts or one of TOKEN_ARRAYS), or "itemRows". */
  name: string;
  dtype: Dtype;
  length: number;
}

interface FeaturesHeader {
  format: string;
  key: string;
  rows: number;
  arrays: ArrayEntry[];
  /** SHA-256 of every byte after the header: a flipped byte would otherwise feed the model wrong tokens unnoticed. */
  sha256: string;
}

export function featuresFileFor(dir: string, key: string): string {
  return path.join(dir, `${key.slice(0, 16)}.features`);
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The set's arrays in file order: each table's starts then its token arrays, then itemRows. */
function arraysOf(set: FeatureSet): [string, Typed][] {
  const out: [string, Typed][] = [];
  for (const [table, c] of Object.entries(set.tables)) {
    out.push([`${table}.starts`, c.starts]);
    for (const [field] of TOKEN_ARRAYS) {
      const a = c[field];
      if (a) out.push([`${table}.${field}`, a]);
    }
  }
  if (set.itemRows) out.push(['itemRows', set.itemRows]);
  return out;
}

/** Serialise: magic, uint32 header length, header JSON (naming each array), then the arrays, each 8-aligned. */
function encodeFile(key: string, set: FeatureSet): Buffer {
  const arrays = arraysOf(set);
  // the data first (its places relative to its own start), then the header that describes and hashes it
  let at = 0;
  const places = arrays.map(([, a]) => {
    const p = at;
    at = align8(at + a.byteLength);
    return p;
  });
  const data = Buffer.alloc(arrays.length ? places[places.length - 1] + arrays[arrays.length - 1][1].byteLength : 0);
  arrays.forEach(([, a], i) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(data, places[i]));
  const header: FeaturesHeader = {
    format: FEATURES_FORMAT,
    key,
    rows: set.rows,
    arrays: arrays.map(([name, a]) => ({ name, dtype: DTYPE_OF[name.split('.').pop()!], length: a.length })),
    sha256: crypto.createHash('sha256').update(data).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataAt = align8(MAGIC.length + 4 + json.length);
  const buf = Buffer.alloc(dataAt + data.length);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(json.length, MAGIC.length);
  json.copy(buf, MAGIC.length + 4);
  data.copy(buf, dataAt);
  return buf;
}

/** The header of a features file, or null when the bytes are not one (another tool's file, an older format, or truncated). */
function decodeHeader(buf: Buffer): { header: FeaturesHeader; dataAt: number } | null {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const len = buf.readUInt32LE(MAGIC.length);
  if (MAGIC.length + 4 + len > buf.length) return null;
  try {
    const h = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + len)) as FeaturesHeader;
    if (h.format !== FEATURES_FORMAT || typeof h.key !== 'string' || typeof h.sha256 !== 'string' || !Number.isInteger(h.rows) || h.rows < 0 || !Array.isArray(h.arrays)) return null;
    for (const a of h.arrays) {
      if (!a || typeof a.name !== 'string' || !ARRAY_NAME.test(a.name) || !(a.dtype in ARRAY_OF) || DTYPE_OF[a.name.split('.').pop()!] !== a.dtype || !Number.isInteger(a.length) || a.length < 0) return null;
    }
    return { header: h, dataAt: align8(MAGIC.length + 4 + len) };
  } catch {
    return null;
  }
}

/** Whether the arrays of a decoded file hang together (every check cheap next to tokenizing again). */
function consistent(set: FeatureSet): boolean {
  const items = set.itemRows ? set.itemRows.length : set.rows;
  if (set.itemRows) {
    for (let i = 0; i < items; i++) {
      const r = set.itemRows[i];
      if (r < 0 || r >= set.rows || (i > 0 && r < set.itemRows[i - 1])) return false;
    }
  }
  for (const c of Object.values(set.tables)) {
    const { starts } = c;
    if (starts.length !== items + 1 || starts[0] !== 0 || starts[items] !== c.ids.length) return false;
    for (let r = 0; r < items; r++) if (starts[r + 1] < starts[r]) return false;
    if (c.typeIds.length !== c.ids.length) return false;
    const aligned = [c.wordIds, c.sequenceIds, c.offsets].filter(Boolean).length;
    if (aligned !== 0 && (aligned !== 3 || c.wordIds!.length !== c.ids.length || c.sequenceIds!.length !== c.ids.length || c.offsets!.length !== 2 * c.ids.length)) return false;
  }
  return true;
}

/** The items of the first `rows` rows: rows themselves, or the windows of those rows. */
function itemsFor(set: FeatureSet, rows: number): number {
  if (!set.itemRows) return rows;
  let n = 0;
  while (n < set.itemRows.length && set.itemRows[n] < rows) n++;
  return n;
}

/**
 * Features for the first `rows` rows under `key`, or null (no file, another key, fewer rows, or a damaged file).
 * The arrays are views into the file's bytes (a copy only when the buffer is misaligned).
 */
export function readFeatures(dir: string, key: string, rows: number): FeatureSet | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(featuresFileFor(dir, key));
  } catch {
    return null;
  }
  const d = decodeHeader(buf);
  if (!d || d.header.key !== key || d.header.rows < rows) return null;
  if (buf.byteOffset % 8 !== 0) buf = Buffer.from(buf); // Buffer.from copies into a fresh, aligned allocation
  // no prototype: a table name from the file is only ever a key of this map
  const set: FeatureSet = { rows: d.header.rows, tables: Object.create(null) as Record<string, FeatureChunk> };
  let at = d.dataAt, end = d.dataAt;
  for (const a of d.header.arrays) {
    const T = ARRAY_OF[a.dtype];
    const bytes = a.length * T.BYTES_PER_ELEMENT;
    if (at + bytes > buf.length) return null;
    const view = new T(buf.buffer, buf.byteOffset + at, a.length);
    end = at + bytes;
    at = align8(end);
    if (a.name === 'itemRows') {
      set.itemRows = view as Int32Array;
      continue;
    }
    const [table, field] = a.name.split('.');
    const c = (set.tables[table] ??= { firstRow: 0 } as FeatureChunk);
    (c as unknown as Record<string, Typed>)[field] = view;
  }
  // the last array ends the file: a longer or shorter file is not one evalpred finished writing
  if (end !== buf.length) return null;
  if (crypto.createHash('sha256').update(buf.subarray(d.dataAt)).digest('hex') !== d.header.sha256) return null;
  if (Object.values(set.tables).some((c) => !c.starts || !c.ids || !c.typeIds) || !consistent(set)) return null;
  // A run over fewer rows sees only those: the tail is not its business (and not in its tensors).
  if (rows === set.rows) return set;
  const items = itemsFor(set, rows);
  const tables = Object.fromEntries(Object.entries(set.tables).map(([name, c]) => [name, headOf(c, items)]));
  return set.itemRows ? { rows, tables, itemRows: set.itemRows.subarray(0, items) } : { rows, tables };
}

/**
 * Store `features` (rows from 0) under `key`, replacing only a features file evalpred wrote. Returns null when
 * written, else why not (the run goes on: the cache only saves time, docs/cache-format.md#tokenized-features).
 */
export function writeFeatures(dir: string, key: string, features: FeatureSet): string | null {
  const file = featuresFileFor(dir, key);
  try {
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st) {
      if (!st.isFile()) return `${file} exists and is not a regular file evalpred wrote; it was left alone`;
      const fd = fs.openSync(file, 'r');
      const head = Buffer.alloc(MAGIC.length);
      try {
        fs.readSync(fd, head, 0, MAGIC.length, 0);
      } finally {
        fs.closeSync(fd);
      }
      if (!head.equals(MAGIC)) return `${file} exists and was not written by evalpred; it was left alone`;
    }
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.partial-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      fs.writeFileSync(tmp, encodeFile(key, features), { flag: 'wx' });
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    return null;
  } catch (e) {
    return `could not write ${file}: ${messageOf(e)}`;
  }
}
