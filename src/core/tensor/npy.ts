// NumPy .npy read/write (format versions 1.0/2.0/3.0 in, 1.0 out unless the header needs 2.0), byte-exact
// with numpy.save so a cache folder is indistinguishable from one NumPy wrote.
// Spec: numpy/lib/format.py. Header = magic "\x93NUMPY", major, minor, header length (u16 for 1.0, u32
// after), then a Python dict literal padded with spaces and '\n' so the data starts at a multiple of 64.
import fs from 'node:fs';
import { EvalpredError, messageOf } from '../errors';
import { DType, DTYPES, NPY_DESCRS, TensorData } from './dtype';
import { byteSwap, fileBacking, readFully } from './fileBacking';
import { Tensor } from './tensor';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy >= 1.23 leaves room to grow the first axis in place
/** numpy refuses headers longer than this in np.load (literal_eval safety); we do the same. */
const MAX_HEADER_SIZE = 10000;
/** NumPy's NPY_MAXDIMS (64 since NumPy 2.0). */
const MAX_NDIM = 64;

export interface NpyHeader {
  dtype: DType;
  bigEndian: boolean;
  shape: number[];
  /** Byte offset of the array data from the start of the file. */
  dataOffset: number;
  /** Bytes of array data the header promises. */
  dataBytes: number;
  version: string;
}

// ---------------------------------------------------------------------------------------------- reading

/** Parse a whole .npy file held in memory. `source` names the file in errors. */
export function parseNpy(bytes: Uint8Array, source: string): Tensor {
  const h = parseNpyHeader(bytes, source);
  checkLength(h, bytes.length, source);
  const data = new DTYPES[h.dtype].ctor(h.dataBytes / DTYPES[h.dtype].itemSize);
  // Copy into a fresh, aligned buffer: fs Buffers are often slices of a pool at odd offsets.
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes.subarray(h.dataOffset, h.dataOffset + h.dataBytes));
  if (h.bigEndian) byteSwap(data, DTYPES[h.dtype].itemSize);
  return new Tensor(h.dtype, h.shape, data);
}

/**
 * Open a file for reading only if it is a regular file. O_NONBLOCK makes opening a FIFO return at once
 * (a blocking open would wait forever for a writer); fstat on the open descriptor then refuses anything
 * that is not a regular file, so a file swapped after an earlier check is refused too.
 */
export function openRegularFile(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new EvalpredError(`cannot open ${file}: ${messageOf(e)}`, { file }, { cause: e });
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new EvalpredError(`${file} is ${fileKind(st)}, not a regular file; evalpred reads arrays only from regular files`, { file });
  }
  return { fd, size: st.size };
}

/**
 * A whole regular file (see openRegularFile), read up to its size at open time. `tooLarge` is thrown for a
 * file over `maxBytes` before anything is read.
 */
export function readRegularFile(file: string, maxBytes = Infinity, tooLarge?: (size: number) => Error): Buffer {
  const { fd, size } = openRegularFile(file);
  try {
    if (size > maxBytes) throw tooLarge?.(size) ?? new EvalpredError(`${file} is ${size} bytes, more than the ${maxBytes} allowed`, { file });
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}

/** "a FIFO (named pipe)", "a folder", ... for messages about files that are not regular files. */
export function fileKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** The header of a .npy file and the file's size, without reading the data. */
export function readNpyHeaderFile(file: string): { header: NpyHeader; size: number } {
  const { fd, size } = openRegularFile(file);
  try {
    return { header: readHeaderFd(fd, size, file), size };
  } finally {
    fs.closeSync(fd);
  }
}

function readHeaderFd(fd: number, size: number, file: string): NpyHeader {
  // The header is at most 12 + MAX_HEADER_SIZE bytes (plus padding); read generously once.
  const head = Buffer.alloc(Math.min(size, 12 + MAX_HEADER_SIZE + ARRAY_ALIGN));
  readFully(fd, head, 0, file);
  return parseNpyHeader(head, file);
}

/**
 * Read a .npy file straight into an aligned typed array (no intermediate copy of the data). With `expect`
 * (a header checked earlier), the file must still declare the same dtype and shape.
 */
export function readNpyFile(file: string, expect?: NpyHeader): Tensor {
  const { fd, size } = openRegularFile(file);
  try {
    const h = checkedHeader(fd, size, file, expect);
    const data = new DTYPES[h.dtype].ctor(h.dataBytes / DTYPES[h.dtype].itemSize);
    readFully(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), h.dataOffset, file);
    if (h.bigEndian) byteSwap(data, DTYPES[h.dtype].itemSize);
    return new Tensor(h.dtype, h.shape, data);
  } finally {
    fs.closeSync(fd);
  }
}

/** The header of an open .npy file, checked against the file's size and (with `expect`) against a header read earlier. */
function checkedHeader(fd: number, size: number, file: string, expect?: NpyHeader): NpyHeader {
  const h = readHeaderFd(fd, size, file);
  if (expect && (h.dtype !== expect.dtype || h.bigEndian !== expect.bigEndian || h.shape.join(',') !== expect.shape.join(','))) {
    throw new EvalpredError(`${file} changed while it was being read (it now holds a ${h.dtype} array of shape (${h.shape.join(', ')}))`, { file });
  }
  checkLength(h, size, file);
  return h;
}

/**
 * Open a .npy file as a file-backed tensor (docs/cache-format.md#arrays-larger-than-memory): the header is
 * checked now (with `expect`, it must still declare the same dtype and shape), the data is read on demand.
 */
export function openNpyFile(file: string, expect?: NpyHeader): Tensor {
  const { fd, size } = openRegularFile(file);
  try {
    const h = checkedHeader(fd, size, file, expect);
    return new Tensor(h.dtype, h.shape, fileBacking(fd, file, h.dataOffset, h.dtype, h.bigEndian));
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** fs.writeSync takes lengths below 2^31: larger arrays are written in pieces of this size (reads: fileBacking.ts). */
const IO_PIECE = 1 << 30;

function checkLength(h: NpyHeader, available: number, source: string): void {
  const need = h.dataOffset + h.dataBytes;
  if (available < need) {
    throw new EvalpredError(
      `${source} is truncated: its header promises a ${h.dtype} array of shape (${h.shape.join(', ')}), ` +
        `${h.dataBytes} bytes of data after a ${h.dataOffset}-byte header (${need} bytes in all), ` +
        `but the file has only ${available} bytes. It was probably cut off while being written or copied.`,
      { file: source },
    );
  }
}

/** Decode the magic, version and header dict; `bytes` needs to hold at least the header. */
export function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  const fail = (why: string): never => {
    throw new EvalpredError(`${source} is not a readable .npy file: ${why}`, { file: source });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const shown = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
    fail(`it does not start with the NumPy magic "\\x93NUMPY" (found ${JSON.stringify(shown)}${bytes.length < 10 ? `, and it is only ${bytes.length} bytes long` : ''})`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  const version = `${major}.${minor}`;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(`the file ends inside its format ${version} preamble (${bytes.length} bytes)`);
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
    start = 12;
  } else {
    return fail(`format version ${version} is not one NumPy writes (1.0, 2.0 or 3.0)`);
  }
  if (headerLen > MAX_HEADER_SIZE) fail(`its header claims ${headerLen} bytes, more than the ${MAX_HEADER_SIZE} NumPy accepts`);
  if (bytes.length < start + headerLen) {
    fail(`truncated inside the header: the header promises ${headerLen} bytes after byte ${start}, but the file has only ${bytes.length} bytes`);
  }
  const text = Buffer.from(bytes.subarray(start, start + headerLen)).toString(major === 3 ? 'utf8' : 'latin1');
  let dict: unknown;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    return fail(`its header ${JSON.stringify(text.trim())} is not a Python dict literal (${messageOf(e)})`);
  }
  if (!isPlainObject(dict) || !('descr' in dict) || !('fortran_order' in dict) || !('shape' in dict)) {
    return fail(`its header ${JSON.stringify(text.trim())} lacks 'descr', 'fortran_order' or 'shape'`);
  }
  // np.load refuses any other key too; refusing them here keeps every reader of a cache in agreement.
  const extra = Object.keys(dict).filter((k) => k !== 'descr' && k !== 'fortran_order' && k !== 'shape');
  if (extra.length) fail(`its header has keys besides 'descr', 'fortran_order' and 'shape' (${extra.map((k) => `'${k}'`).join(', ')})`);
  const { descr, fortran_order: fortran, shape } = dict as { descr: unknown; fortran_order: unknown; shape: unknown };
  if (fortran !== false) {
    if (fortran === true) {
      fail(
        `the array is stored in Fortran (column-major) order, which evalpred does not read; ` +
          `save it with np.save(f, np.ascontiguousarray(arr)) instead`,
      );
    }
    fail(`'fortran_order' is ${String(fortran)}, not True or False`);
  }
  if (!Array.isArray(shape) || shape instanceof PyList || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    fail(`'shape' is ${JSON.stringify(shape)}, not a tuple of non-negative integers`);
  }
  const dims = shape as number[];
  if (dims.length > MAX_NDIM) fail(`'shape' has ${dims.length} dimensions, more than the ${MAX_NDIM} NumPy allows`);
  const { dtype, bigEndian } = dtypeOfDescr(descr, source);
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const dataBytes = count * DTYPES[dtype].itemSize;
  if (!Number.isSafeInteger(dataBytes)) fail(`shape (${(shape as number[]).join(', ')}) is too large`);
  return { dtype, bigEndian, shape: shape as number[], dataOffset: start + headerLen, dataBytes, version };
}

/** The descr string of a checked header, as numpy.save spells it ('<f4', '>i8', '|b1'). */
export function npyDescrOf(h: NpyHeader): string {
  const little = DTYPES[h.dtype].npyDescr;
  return h.bigEndian ? `>${little.slice(1)}` : little;
}

const KIND_NAMES: Record<string, string> = {
  O: 'Python objects (dtype=object)',
  S: 'byte strings',
  a: 'byte strings',
  U: 'unicode strings',
  V: 'raw void/structured records',
  c: 'complex numbers',
  M: 'datetime64 values',
  m: 'timedelta64 values',
};

function dtypeOfDescr(descr: unknown, source: string): { dtype: DType; bigEndian: boolean } {
  const refuse = (what: string, hint: string): never => {
    throw new EvalpredError(`${source}: the array holds ${what}, which evalpred cannot load. ${hint}`, { file: source });
  };
  const numericHint = 'Save a numeric array instead (float16/32/64, int8/16/32/64, uint8 or bool).';
  if (typeof descr !== 'string') {
    return refuse(`a structured dtype ${JSON.stringify(descr)}`, 'Save each field as its own array.');
  }
  const k = /^[<>|=]?([a-zA-Z?])/.exec(descr)?.[1];
  if (k && KIND_NAMES[k]) return refuse(`${KIND_NAMES[k]} (dtype '${descr}')`, numericHint);
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) return refuse(`an unknown dtype '${descr}'`, numericHint);
  const [, , kind, sizeText] = m;
  const size = sizeText ? Number(sizeText) : NaN;
  if (KIND_NAMES[kind]) return refuse(`${KIND_NAMES[kind]} (dtype '${descr}')`, numericHint);
  if (kind === 'u' && (size === 2 || size === 4 || size === 8)) {
    refuse(
      `uint${size * 8} values (dtype '${descr}'), an unsigned type evalpred does not support`,
      `Convert it first, e.g. arr.astype(np.int64) (or np.int32 when the values fit).`,
    );
  }
  if (kind === 'f' && size > 8) refuse(`float${size * 8} values (dtype '${descr}'), wider than evalpred reads`, 'Convert it first, e.g. arr.astype(np.float64).');
  // Only the exact spellings numpy.save writes ('<f4', '>i8', '|b1', ...): NPY_DESCRS in dtype.ts.
  const known = NPY_DESCRS.get(descr);
  if (!known) return refuse(`dtype '${descr}', which is not supported`, numericHint);
  return known;
}

// A tiny parser for the Python literals .npy headers hold: dicts, tuples, lists, strings, ints, booleans, None.
// Tuples become JS arrays, lists PyList arrays (np.load wants a tuple for 'shape').
class PyList extends Array<unknown> {}
const MAX_LITERAL_DEPTH = 32;

function parsePyLiteral(text: string): unknown {
  let i = 0;
  let depth = 0;
  const ws = () => {
    // Python's own whitespace only (not e.g. U+00A0, which /\s/ would take but literal_eval refuses).
    for (;;) {
      while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r' || text[i] === '\f')) i++;
      if (text[i] !== '#') return;
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++; // a comment, as literal_eval skips it
    }
  };
  const err = (what: string): never => {
    throw new Error(`${what} at character ${i}`);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      if (++depth > MAX_LITERAL_DEPTH) err('nested too deeply');
      const out: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          depth--;
          return out;
        }
        const k = value();
        if (typeof k !== 'string') err('dict key is not a string');
        ws();
        if (text[i] !== ':') err("expected ':'");
        i++;
        out[k as string] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') err("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: unknown[] = c === '[' ? new PyList() : [];
      if (++depth > MAX_LITERAL_DEPTH) err('nested too deeply');
      let comma = false;
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          depth--;
          // As in Python, "(5)" is the number 5; only "(5,)" is a one-element tuple.
          return c === '(' && out.length === 1 && !comma ? out[0] : out;
        }
        out.push(value());
        ws();
        comma = text[i] === ',';
        if (comma) i++;
        else if (text[i] !== close) err(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') {
          i++;
          const e = text[i];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        } else s += text[i];
        i++;
      }
      if (i >= text.length) err('unterminated string');
      i++;
      return s;
    }
    const m = /^(-?\d+)[lL]?|^(True|False|None)\b/.exec(text.slice(i));
    if (!m) return err(`unexpected ${JSON.stringify(text.slice(i, i + 10))}`);
    i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
  };
  const v = value();
  ws();
  if (i !== text.length) err('trailing text');
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------- writing

/** The header bytes numpy.save writes for this dtype and shape (version 1.0, or 2.0 when it does not fit). */
export function npyHeaderBytes(dtype: DType, shape: readonly number[]): Buffer {
  const shapeRepr = shape.length === 0 ? '()' : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DTYPES[dtype].npyDescr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = Buffer.byteLength(header, 'latin1') + 1;
  const padFor = (lenBytes: number) => ARRAY_ALIGN - ((MAGIC.length + 2 + lenBytes + hlen) % ARRAY_ALIGN);
  // numpy tries 1.0 first and falls back to 2.0 when the length does not fit an unsigned short.
  const lenBytes = hlen + padFor(2) <= 0xffff ? 2 : 4;
  const padlen = padFor(lenBytes);
  const out = Buffer.alloc(MAGIC.length + 2 + lenBytes + hlen + padlen, 0x20);
  out.set(MAGIC, 0);
  out[6] = lenBytes === 2 ? 1 : 2;
  out[7] = 0;
  if (lenBytes === 2) out.writeUInt16LE(hlen + padlen, 8);
  else out.writeUInt32LE(hlen + padlen, 8);
  out.write(header, 8 + lenBytes, 'latin1');
  out[out.length - 1] = 0x0a;
  return out;
}

/** The bytes numpy.save would write for `t` (C order, little-endian). */
export function encodeNpy(t: Tensor): Buffer {
  const header = npyHeaderBytes(t.dtype, t.shape);
  const d = t.data;
  const body = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.concat([header, body], header.length + body.length);
}

export function writeNpyFile(file: string, t: Tensor): void {
  const header = npyHeaderBytes(t.dtype, t.shape);
  const fd = fs.openSync(file, 'w');
  try {
    // No concatenation: a cache of a large logits tensor should not need twice its memory. A file-backed
    // tensor is copied chunk by chunk.
    writeFully(fd, header);
    writeTensorData(fd, t);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write `t`'s elements (C order, little-endian) at the descriptor's position; a file-backed tensor chunk by chunk. */
export function writeTensorData(fd: number, t: Tensor): void {
  if (t.inMemory || t.ndim === 0) {
    const d = t.data;
    writeFully(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  } else {
    for (const { rows } of t.chunks()) {
      const d = rows.data;
      writeFully(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
  }
}

/** writeFully on libuv's thread pool: the caller's thread goes on meanwhile; `bytes` must not change until it resolves. */
export async function writeFullyAsync(fd: number, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    done += await new Promise<number>((resolve, reject) =>
      fs.write(fd, bytes, done, Math.min(IO_PIECE, bytes.length - done), null, (e, n) => (e ? reject(e) : resolve(n))),
    );
  }
}

/** Write all of `bytes` at the descriptor's position, in pieces fs.writeSync accepts. */
export function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, Math.min(IO_PIECE, bytes.length - done));
}
