// The tokenized-features cache on disk (docs/cache-format.md#tokenized-features): one file per key,
// `<dir>/<first 16 hex digits of the key>.features`, read in one go and viewed in place (no parsing of the
// arrays). Written like the prediction cache: into a temp file beside it, then renamed into place; a file
// at that name that evalpred did not write (no magic, or not a regular file) is never replaced.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { messageOf } from '../errors';
import { FeatureChunk, chunkRows } from './tokenFeatures';

export const FEATURES_FORMAT = 'evalpred-features/1';
const MAGIC = Buffer.from('EVALPRED-FEATURES\n', 'latin1');

interface FeaturesHeader {
  format: string;
  key: string;
  rows: number;
  tokens: number;
}

export function featuresFileFor(dir: string, key: string): string {
  return path.join(dir, `${key.slice(0, 16)}.features`);
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Serialise: magic, uint32 header length, header JSON, then starts (uint32), ids (int32), type ids (uint8), each 8-aligned. */
function encodeFile(key: string, f: FeatureChunk): Buffer {
  const rows = chunkRows(f);
  const header: FeaturesHeader = { format: FEATURES_FORMAT, key, rows, tokens: f.ids.length };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const startsAt = align8(MAGIC.length + 4 + json.length);
  const idsAt = align8(startsAt + f.starts.byteLength);
  const typesAt = align8(idsAt + f.ids.byteLength);
  const buf = Buffer.alloc(typesAt + f.typeIds.byteLength);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(json.length, MAGIC.length);
  json.copy(buf, MAGIC.length + 4);
  Buffer.from(f.starts.buffer, f.starts.byteOffset, f.starts.byteLength).copy(buf, startsAt);
  Buffer.from(f.ids.buffer, f.ids.byteOffset, f.ids.byteLength).copy(buf, idsAt);
  Buffer.from(f.typeIds.buffer, f.typeIds.byteOffset, f.typeIds.byteLength).copy(buf, typesAt);
  return buf;
}

/** The header of a features file, or null when the bytes are not one (another tool's file, or truncated). */
function decodeHeader(buf: Buffer): { header: FeaturesHeader; startsAt: number } | null {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const len = buf.readUInt32LE(MAGIC.length);
  if (MAGIC.length + 4 + len > buf.length) return null;
  try {
    const h = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + len)) as FeaturesHeader;
    if (h.format !== FEATURES_FORMAT || typeof h.key !== 'string' || !Number.isInteger(h.rows) || !Number.isInteger(h.tokens) || h.rows < 0 || h.tokens < 0) return null;
    return { header: h, startsAt: align8(MAGIC.length + 4 + len) };
  } catch {
    return null;
  }
}

/**
 * Features for the first `rows` rows under `key`, or null (no file, another key, fewer rows, or a damaged file).
 * The arrays are views into the file's bytes (a copy only when the buffer is misaligned).
 */
export function readFeatures(dir: string, key: string, rows: number): FeatureChunk | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(featuresFileFor(dir, key));
  } catch {
    return null;
  }
  const d = decodeHeader(buf);
  if (!d || d.header.key !== key || d.header.rows < rows) return null;
  const { header: h, startsAt } = d;
  const idsAt = align8(startsAt + (h.rows + 1) * 4);
  const typesAt = align8(idsAt + h.tokens * 4);
  if (typesAt + h.tokens !== buf.length) return null;
  if (buf.byteOffset % 8 !== 0) buf = Buffer.from(buf); // Buffer.from copies into a fresh, aligned allocation
  const starts = new Uint32Array(buf.buffer, buf.byteOffset + startsAt, h.rows + 1);
  if (starts[0] !== 0 || starts[h.rows] !== h.tokens) return null;
  for (let r = 0; r < h.rows; r++) if (starts[r + 1] < starts[r]) return null;
  const ids = new Int32Array(buf.buffer, buf.byteOffset + idsAt, h.tokens);
  const typeIds = new Uint8Array(buf.buffer, buf.byteOffset + typesAt, h.tokens);
  // A run over fewer rows sees only those: the tail is not its business (and not in its tensors).
  return { firstRow: 0, starts: starts.subarray(0, rows + 1), ids: ids.subarray(0, starts[rows]), typeIds: typeIds.subarray(0, starts[rows]) };
}

/**
 * Store `features` (rows from 0) under `key`, replacing only a features file evalpred wrote. Returns null when
 * written, else why not (the run goes on: the cache only saves time, docs/cache-format.md#tokenized-features).
 */
export function writeFeatures(dir: string, key: string, features: FeatureChunk): string | null {
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
