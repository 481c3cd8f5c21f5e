// NumPy .npz reading: a ZIP archive of .npy members (np.savez stores them, np.savez_compressed deflates
// them). We read the central directory (authoritative sizes; numpy forces zip64 local headers) by position
// from the open file, never the whole archive, and hand out each member as a stream (stored bytes, or
// inflated as they are read), so a member is never held in memory whole. The caller (npyStream.ts) checks
// the member's length and CRC-32 as the bytes pass. Members that are not .npy files are ignored, as np.load
// does not treat them as arrays either.
import fs from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { EvalpredError } from '../errors';
import { openRegularFile } from './npy';

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
/** Entries an archive may list: a cache holds at most 100,000 arrays (core/cache/manifest.ts). */
const MAX_ENTRIES = 200_000;
/** Bytes of central directory read at once (200,000 entries with long names fit). */
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;

export interface NpzMember {
  /** The name in the archive, e.g. `predictions.npy`. */
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  /** Uncompressed size the central directory declares. */
  size: number;
  localOffset: number;
}

export interface NpzArchive {
  file: string;
  /** The `.npy` members, in archive order. */
  members: NpzMember[];
  close(): void;
}

// openNpz returns a plain object; memberStream needs its descriptor. Kept here rather than on the object so
// callers cannot reach the descriptor and close it under a running stream.
const FDS = new WeakMap<NpzArchive, number>();

/** Open a .npz (a regular file only: a FIFO would block) and read its central directory. Close it when done. */
export function openNpz(file: string, source = file): NpzArchive {
  const { fd, size } = openRegularFile(file);
  let members: NpzMember[];
  try {
    members = centralDirectory(fd, size, source).filter((e) => !e.name.endsWith('/') && e.name.endsWith('.npy'));
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  let open = true;
  const archive: NpzArchive = {
    file: source,
    members,
    close: () => {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
  FDS.set(archive, fd);
  return archive;
}

/** A member's error: names the archive and the member. */
export function memberError(archive: NpzArchive, m: NpzMember, why: string): EvalpredError {
  return new EvalpredError(`${archive.file}: member ${m.name} is corrupt: ${why}`, { file: archive.file, tensor: m.name });
}

/**
 * The member's uncompressed bytes as a stream, read from the archive as they are consumed. The stream does
 * not check the length or CRC (the consumer does, as bytes pass, so it can stop at the declared size).
 */
export function memberStream(archive: NpzArchive, m: NpzMember): Readable {
  const fd = FDS.get(archive);
  if (fd === undefined) throw new Error('memberStream: archive not opened with openNpz');
  const fail = (why: string): never => {
    throw memberError(archive, m, why);
  };
  if (m.flags & 1) fail('it is encrypted');
  const local = Buffer.alloc(30);
  if (fs.readSync(fd, local, 0, 30, m.localOffset) !== 30 || local.readUInt32LE(0) !== SIG_LOCAL) fail(`no local file header at byte ${m.localOffset}`);
  const start = m.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const archiveSize = fs.fstatSync(fd).size;
  if (start + m.compressedSize > archiveSize) {
    fail(`its ${m.compressedSize} bytes of data run past the end of the archive (${archiveSize} bytes); the file is truncated`);
  }
  if (m.method !== 0 && m.method !== 8) fail(`compression method ${m.method} is not supported (only stored and deflated members are)`);
  const raw = m.compressedSize === 0 ? Readable.from([]) : fs.createReadStream('', { fd, start, end: start + m.compressedSize - 1, autoClose: false, highWaterMark: 256 * 1024 });
  if (m.method === 0) return raw;
  const inflate = zlib.createInflateRaw();
  // pipeline passes a read error on to the inflate stream (and so to the consumer) and closes both on abort.
  return pipeline(raw, inflate, () => {}) as unknown as Readable;
}

/** The central directory, read by position (the end record is in the last 22 + 65,535 bytes). */
function centralDirectory(fd: number, fileSize: number, source: string): NpzMember[] {
  const fail = (why: string): never => {
    throw new EvalpredError(`${source} is not a readable .npz (ZIP) archive: ${why}`, { file: source });
  };
  const readAt = (pos: number, len: number): Buffer => {
    const b = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const n = fs.readSync(fd, b, done, len - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return b.subarray(0, done);
  };
  const tailStart = Math.max(0, fileSize - 22 - 0xffff - 20);
  const tail = readAt(tailStart, fileSize - tailStart);
  let eocd = -1;
  for (let p = tail.length - 22; p >= 0; p--) {
    if (tail.readUInt32LE(p) === SIG_EOCD) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) {
    fail(
      fileSize >= 4 && readAt(0, 4).readUInt32LE(0) === SIG_LOCAL
        ? 'no end-of-central-directory record; the file is truncated'
        : `no ZIP end-of-central-directory record (the file is ${fileSize} bytes and does not look like a ZIP archive)`,
    );
  }
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== SIG_EOCD64_LOCATOR) fail('a zip64 archive without its zip64 locator');
    const e64 = big(tail, loc + 8);
    const rec = e64 + 56 <= fileSize ? readAt(e64, 56) : Buffer.alloc(0);
    if (rec.length < 56 || rec.readUInt32LE(0) !== SIG_EOCD64) fail('the zip64 end-of-central-directory record is missing');
    count = big(rec, 32);
    cdSize = big(rec, 40);
    cdOffset = big(rec, 48);
  }
  if (cdOffset + cdSize > fileSize) fail(`the central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the file; it is truncated`);
  if (count > MAX_ENTRIES) fail(`it lists ${count} members, more than the ${MAX_ENTRIES} evalpred reads`);
  if (cdSize > MAX_DIRECTORY_BYTES) fail(`its central directory is ${cdSize} bytes, more than the ${MAX_DIRECTORY_BYTES} evalpred reads`);
  const buf = readAt(cdOffset, cdSize);
  const entries: NpzMember[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== SIG_CENTRAL) fail(`central directory entry ${k} is damaged`);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const e: NpzMember = {
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      flags: buf.readUInt16LE(p + 8),
      method: buf.readUInt16LE(p + 10),
      crc: buf.readUInt32LE(p + 16),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      localOffset: buf.readUInt32LE(p + 42),
    };
    // zip64 extra field (id 1): 8-byte values, present only for the fields that are 0xffffffff, in this order.
    let x = p + 46 + nameLen;
    const xEnd = Math.min(x + extraLen, buf.length);
    while (x + 4 <= xEnd) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        if (e.size === 0xffffffff && q + 8 <= xEnd) (e.size = big(buf, q)), (q += 8);
        if (e.compressedSize === 0xffffffff && q + 8 <= xEnd) (e.compressedSize = big(buf, q)), (q += 8);
        if (e.localOffset === 0xffffffff && q + 8 <= xEnd) e.localOffset = big(buf, q);
      }
      x += 4 + len;
    }
    entries.push(e);
    p = p + 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function big(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
}

let CRC_TABLE: Uint32Array | undefined;

/**
 * CRC-32 (ZIP polynomial), continued from `prev` over `data`. zlib.crc32 (native) where Node has it (20.15+,
 * 22.2+); our table otherwise.
 */
export function crc32(data: Uint8Array, prev = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(data, prev);
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
