// NumPy .npz reading: a ZIP archive of .npy members (np.savez stores them, np.savez_compressed deflates
// them). We read the central directory (authoritative sizes; numpy forces zip64 local headers), check each
// member's CRC-32 and parse it with parseNpy. Members that are not .npy files are ignored, as np.load does
// not treat them as arrays either.
import zlib from 'node:zlib';
import { EvalpredError, isEvalpredError, messageOf } from '../errors';
import { parseNpy } from './npy';
import { Tensor } from './tensor';

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

interface Entry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The arrays of an .npz, by member name without `.npy`, in archive order. */
export function readNpz(bytes: Uint8Array, source: string, opts: { maxTotalBytes?: number; budgetNote?: string } = {}): Map<string, Tensor> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, Tensor>();
  const entries = centralDirectory(buf, source);
  // Before inflating anything: the members' declared sizes against what the caller can hold (a 1 MB archive of
  // zeros may declare gigabytes). Each member then inflates to at most its declared size (maxOutputLength).
  const total = entries.filter((e) => e.name.endsWith('.npy')).reduce((a, e) => a + e.size, 0);
  if (opts.maxTotalBytes !== undefined && total > opts.maxTotalBytes) {
    throw new EvalpredError(
      `${source}: its arrays declare ${total} bytes uncompressed, more than ${opts.maxTotalBytes} bytes${opts.budgetNote ? ` (${opts.budgetNote})` : ''}`,
      { file: source },
    );
  }
  for (const e of entries) {
    if (e.name.endsWith('/') || !e.name.endsWith('.npy')) continue;
    const member = `${source}[${e.name}]`;
    const fail = (why: string): never => {
      throw new EvalpredError(`${source}: member ${e.name} is corrupt: ${why}`, { file: source, tensor: e.name });
    };
    if (e.flags & 1) fail('it is encrypted');
    if (e.localOffset + 30 > buf.length || buf.readUInt32LE(e.localOffset) !== SIG_LOCAL) {
      fail(`no local file header at byte ${e.localOffset}`);
    }
    const start = e.localOffset + 30 + buf.readUInt16LE(e.localOffset + 26) + buf.readUInt16LE(e.localOffset + 28);
    if (start + e.compressedSize > buf.length) {
      fail(`its ${e.compressedSize} bytes of data run past the end of the archive (${buf.length} bytes); the file is truncated`);
    }
    const raw = buf.subarray(start, start + e.compressedSize);
    let data: Buffer;
    if (e.method === 0) data = raw;
    else if (e.method === 8) {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') fail(`it decompresses to more than the ${e.size} bytes the directory declares`);
        return fail(`its deflate stream does not decompress (${messageOf(err)})`);
      }
    } else return fail(`compression method ${e.method} is not supported (only stored and deflated members are)`);
    if (data.length !== e.size) fail(`it holds ${data.length} bytes, but the directory says ${e.size}`);
    const crc = crc32(data);
    if (crc !== e.crc) fail(`CRC-32 mismatch (data ${hex(crc)}, directory ${hex(e.crc)})`);
    try {
      out.set(e.name.slice(0, -4), parseNpy(data, member));
    } catch (err) {
      if (isEvalpredError(err)) throw err;
      fail(messageOf(err));
    }
  }
  return out;
}

function centralDirectory(buf: Buffer, source: string): Entry[] {
  const fail = (why: string): never => {
    throw new EvalpredError(`${source} is not a readable .npz (ZIP) archive: ${why}`, { file: source });
  };
  // The end-of-central-directory record is the last 22 bytes plus an optional comment of up to 65535.
  let eocd = -1;
  for (let p = buf.length - 22; p >= Math.max(0, buf.length - 22 - 0xffff); p--) {
    if (buf.readUInt32LE(p) === SIG_EOCD) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) {
    fail(
      buf.length >= 4 && buf.readUInt32LE(0) === SIG_LOCAL
        ? 'no end-of-central-directory record; the file is truncated'
        : `no ZIP end-of-central-directory record (the file is ${buf.length} bytes and does not look like a ZIP archive)`,
    );
  }
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== SIG_EOCD64_LOCATOR) fail('a zip64 archive without its zip64 locator');
    const e64 = big(buf, loc + 8);
    if (e64 + 56 > buf.length || buf.readUInt32LE(e64) !== SIG_EOCD64) fail('the zip64 end-of-central-directory record is missing');
    count = big(buf, e64 + 32);
    cdSize = big(buf, e64 + 40);
    cdOffset = big(buf, e64 + 48);
  }
  if (cdOffset + cdSize > buf.length) fail(`the central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the file; it is truncated`);
  const entries: Entry[] = [];
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== SIG_CENTRAL) fail(`central directory entry ${k} is damaged`);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const e: Entry = {
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
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        if (e.size === 0xffffffff) (e.size = big(buf, q)), (q += 8);
        if (e.compressedSize === 0xffffffff) (e.compressedSize = big(buf, q)), (q += 8);
        if (e.localOffset === 0xffffffff) e.localOffset = big(buf, q);
      }
      x += 4 + len;
    }
    entries.push(e);
    p = xEnd + commentLen;
  }
  return entries;
}

function big(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

let CRC_TABLE: Uint32Array | undefined;

/** CRC-32 (ZIP polynomial). zlib.crc32 only exists from Node 20.15/22.2, so keep our own. */
export function crc32(data: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
