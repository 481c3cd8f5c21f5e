// The tokenized-features cache on disk (docs/cache-format.md#tokenized-features): one file per key,
// `<dir>/<first 16 hex digits of the key>.features`, checked at open against the SHA-256 its header records
// (read a block at a time), then read a few batches' rows at a time (no parsing of the arrays). Written like the
// prediction cache: into a temp file beside it, then renamed into place; a file at that name that evalpred did
// not write (no magic, or not a regular file) is never replaced.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { messageOf } from '../errors';
import { readFully } from '../tensor/fileBacking';
import { FeatureChunk, TOKEN_ARRAYS, chunkRows } from './tokenFeatures';

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
const ARRAY_OF: Record<Dtype, { new (n: number): Typed; BYTES_PER_ELEMENT: number }> = {
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

/** The header of a features file from its first bytes (`size`: the file's), or null when they are not one (another tool's file, an older format, or truncated). */
function decodeHeader(fd: number, file: string, size: number): { header: FeaturesHeader; dataAt: number } | null {
  if (size < MAGIC.length + 4) return null;
  const head = readAt(fd, file, 0, MAGIC.length + 4);
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const len = head.readUInt32LE(MAGIC.length);
  if (MAGIC.length + 4 + len > size) return null;
  try {
    const h = JSON.parse(readAt(fd, file, MAGIC.length + 4, len).toString('utf8')) as FeaturesHeader;
    if (h.format !== FEATURES_FORMAT || typeof h.key !== 'string' || typeof h.sha256 !== 'string' || !Number.isInteger(h.rows) || h.rows < 0 || !Array.isArray(h.arrays)) return null;
    for (const a of h.arrays) {
      if (!a || typeof a.name !== 'string' || !ARRAY_NAME.test(a.name) || !(a.dtype in ARRAY_OF) || DTYPE_OF[a.name.split('.').pop()!] !== a.dtype || !Number.isInteger(a.length) || a.length < 0) return null;
    }
    return { header: h, dataAt: align8(MAGIC.length + 4 + len) };
  } catch {
    return null;
  }
}

/** `length` bytes of the file from `position` (positional reads: the descriptor has no offset to share). */
function readAt(fd: number, file: string, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  readFully(fd, b, position, file);
  return b;
}

/** `length` elements of type T from the file at `position`, read straight into a fresh (so aligned) array. */
function readArray<A extends Typed>(fd: number, file: string, T: { new (n: number): A; BYTES_PER_ELEMENT: number }, position: number, length: number): A {
  const out = new T(length);
  readFully(fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), position, file);
  return out;
}

/** Rows a reader takes from the file at once unless told (about 8 batches of 32). */
const ROWS_PER_READ = 256;

/** Bytes read at a time when a file is checked at open (its SHA-256 and its starts). */
const CHECK_BLOCK = 4 << 20;

/** Where each array is: its byte offset in the file and its entry. */
type Placed = ArrayEntry & { at: number };

const closer = new FinalizationRegistry<number>((fd) => {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
});

/**
 * A features file found valid (docs/cache-format.md#tokenized-features): its header and the place of each array
 * are kept, the arrays themselves are read with positional reads when the loop asks for rows (a few batches'
 * at a time), so memory stays those rows' tokens however large the dataset. The file stays open: a later run
 * replacing it (a rename) does not change what this one reads, the bytes whose SHA-256 was checked at open.
 */
export class CachedFeatures {
  private open = true;

  constructor(
    private readonly fd: number,
    private readonly file: string,
    /** The rows served: the first `rows` of the file's (a run over fewer rows sees only those). */
    readonly rows: number,
    /** Items served (rows, or the windows of those rows). */
    readonly items: number,
    private readonly arrays: ReadonlyMap<string, Placed>,
    readonly itemRows: Int32Array | undefined,
  ) {
    closer.register(this, fd, this);
  }

  /** Whether the file holds `table`, with word ids, sequence ids and offsets when `aligned`. */
  has(table: string, aligned: boolean): boolean {
    return this.arrays.has(`${table}.starts`) && (!aligned || this.arrays.has(`${table}.wordIds`));
  }

  /** Items [start, end) of `table` as a chunk (firstRow = start), read from the file. */
  chunk(table: string, start: number, end: number): FeatureChunk {
    if (!this.open) throw new Error(`${this.file}: read after close`);
    if (!(start >= 0 && start <= end && end <= this.items) || !this.has(table, false)) {
      throw new Error(`${this.file}: items [${start}, ${end}) of "${table}" are not in the features file (${this.items} items)`);
    }
    const s = this.arrays.get(`${table}.starts`)!;
    const starts = readArray(this.fd, this.file, Uint32Array, s.at + 4 * start, end - start + 1);
    const a = starts[0];
    const n = starts[end - start] - a;
    for (let i = 0; i < starts.length; i++) starts[i] -= a;
    const get = <A extends Typed>(field: string, per: number): A | undefined => {
      const e = this.arrays.get(`${table}.${field}`);
      if (!e) return undefined;
      const T = ARRAY_OF[e.dtype] as unknown as { new (n: number): A; BYTES_PER_ELEMENT: number };
      return readArray(this.fd, this.file, T, e.at + per * a * T.BYTES_PER_ELEMENT, per * n);
    };
    const c: FeatureChunk = { firstRow: start, starts, ids: get<Int32Array>('ids', 1)!, typeIds: get<Uint8Array>('typeIds', 1)! };
    const wordIds = get<Int32Array>('wordIds', 1), sequenceIds = get<Int8Array>('sequenceIds', 1), offsets = get<Uint32Array>('offsets', 2);
    if (wordIds && sequenceIds && offsets) Object.assign(c, { wordIds, sequenceIds, offsets });
    return c;
  }

  /**
   * Rows of `table` for a loop going forward: each call's rows [start, end) come in a chunk of at least
   * `rowsPerRead` rows read at once, kept for the calls after it (one read per array serves several batches,
   * and memory stays those rows' tokens). A whole number of batches per read never reads a row twice.
   */
  reader(table: string, rowsPerRead = ROWS_PER_READ): (start: number, end: number) => FeatureChunk {
    let held: FeatureChunk | null = null;
    return (start, end) => {
      if (!held || start < held.firstRow || end > held.firstRow + chunkRows(held)) {
        held = this.chunk(table, start, Math.max(end, Math.min(this.items, start + rowsPerRead)));
      }
      return held;
    };
  }

  /** Every table whole (run_qa's windows, which the loop counts before its first batch). */
  whole(): FeatureSet {
    const tables = Object.create(null) as Record<string, FeatureChunk>; // a table name from the file is only ever a key here
    for (const name of this.arrays.keys()) {
      const [table, field] = name.split('.');
      if (field === 'starts') tables[table] = this.chunk(table, 0, this.items);
    }
    return this.itemRows ? { rows: this.rows, tables, itemRows: this.itemRows } : { rows: this.rows, tables };
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closer.unregister(this);
    fs.closeSync(this.fd);
  }
}

/**
 * The features file for the first `rows` rows under `key`, checked whole (sizes, SHA-256 read a block at a time,
 * starts and itemRows in order), or null (no file, another key, fewer rows, or a damaged file). The caller owns
 * the result: close() it when done (it is also closed once garbage collected).
 */
export function openFeatures(dir: string, key: string, rows: number): CachedFeatures | null {
  const file = featuresFileFor(dir, key);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  let opened: CachedFeatures | null = null;
  try {
    opened = checkedFeatures(fd, file, key, rows);
    return opened;
  } catch {
    return null;
  } finally {
    if (!opened) fs.closeSync(fd);
  }
}

function checkedFeatures(fd: number, file: string, key: string, rows: number): CachedFeatures | null {
  const st = fs.fstatSync(fd);
  if (!st.isFile()) return null;
  const size = st.size;
  const d = decodeHeader(fd, file, size);
  if (!d || d.header.key !== key || d.header.rows < rows) return null;
  const arrays = new Map<string, Placed>();
  let at = d.dataAt, end = d.dataAt;
  for (const a of d.header.arrays) {
    const bytes = a.length * ARRAY_OF[a.dtype].BYTES_PER_ELEMENT;
    if (at + bytes > size || arrays.has(a.name)) return null;
    arrays.set(a.name, { ...a, at });
    end = at + bytes;
    at = align8(end);
  }
  // the last array ends the file: a longer or shorter file is not one evalpred finished writing
  if (end !== size) return null;
  const hash = crypto.createHash('sha256');
  for (let p = d.dataAt; p < size; p += CHECK_BLOCK) hash.update(readAt(fd, file, p, Math.min(CHECK_BLOCK, size - p)));
  if (hash.digest('hex') !== d.header.sha256) return null;
  const ir = arrays.get('itemRows');
  const itemRows = ir ? readArray(fd, file, Int32Array, ir.at, ir.length) : undefined;
  const all = itemRows ? itemRows.length : d.header.rows;
  if (!consistent(fd, file, arrays, all, d.header.rows, itemRows)) return null;
  // A run over fewer rows sees only those: the tail is not its business (and not in its tensors).
  const items = itemRows ? itemsFor(itemRows, rows) : rows;
  return new CachedFeatures(fd, file, rows, items, arrays, itemRows?.subarray(0, items));
}

/**
 * Whether the arrays hang together (every check cheap next to tokenizing again): sizes from the header, and
 * each table's starts (read a block at a time) from 0 to its token count, never decreasing.
 */
function consistent(fd: number, file: string, arrays: ReadonlyMap<string, Placed>, items: number, rows: number, itemRows: Int32Array | undefined): boolean {
  if (itemRows) {
    for (let i = 0; i < items; i++) {
      const r = itemRows[i];
      if (r < 0 || r >= rows || (i > 0 && r < itemRows[i - 1])) return false;
    }
  }
  const tables = [...arrays.keys()].filter((n) => n !== 'itemRows').map((n) => n.split('.')[0]);
  for (const table of new Set(tables)) {
    const len = (field: string) => arrays.get(`${table}.${field}`)?.length;
    const starts = arrays.get(`${table}.starts`);
    const ids = len('ids');
    if (!starts || ids === undefined || len('typeIds') !== ids || starts.length !== items + 1) return false;
    const aligned = ['wordIds', 'sequenceIds', 'offsets'].filter((f) => arrays.has(`${table}.${f}`)).length;
    if (aligned !== 0 && (aligned !== 3 || len('wordIds') !== ids || len('sequenceIds') !== ids || len('offsets') !== 2 * ids)) return false;
    let prev = 0;
    const step = CHECK_BLOCK / 4;
    for (let i = 0; i <= items; i += step) {
      const block = readArray(fd, file, Uint32Array, starts.at + 4 * i, Math.min(step, items + 1 - i));
      if (i === 0 && block[0] !== 0) return false;
      for (const v of block) {
        if (v < prev) return false;
        prev = v;
      }
    }
    if (prev !== ids) return false;
  }
  return true;
}

/** The items of the first `rows` rows: the windows of those rows (itemRows is nondecreasing). */
function itemsFor(itemRows: Int32Array, rows: number): number {
  let n = 0;
  while (n < itemRows.length && itemRows[n] < rows) n++;
  return n;
}

/**
 * Features for the first `rows` rows under `key`, every array read (openFeatures, then whole()), or null as
 * openFeatures gives it.
 */
export function readFeatures(dir: string, key: string, rows: number): FeatureSet | null {
  const f = openFeatures(dir, key, rows);
  if (!f) return null;
  try {
    return f.whole();
  } finally {
    f.close();
  }
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
