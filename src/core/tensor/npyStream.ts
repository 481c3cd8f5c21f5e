// A .npy file streamed from a source (an .npz member as it inflates, or a .npy file) straight into a new
// file, never whole in memory. The header is parsed from the first bytes and checked against what the
// container declares before any data is written; the running total is checked as bytes pass, so a member
// whose stream runs past its declared size stops there. The file written is canonical (docs/cache-format.md,
// "The .npy files"): numpy.save's version 1.0 header, little-endian data (big-endian input is swapped).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { messageOf } from '../errors';
import { DTYPES } from './dtype';
import { NpyHeader, npyHeaderBytes, parseNpyHeader } from './npy';
import { crc32 } from './npz';

export interface NpyStreamCheck {
  /** Names the stream in errors from the header parser, e.g. `dump.npz[predictions.npy]`. */
  source: string;
  /** The error for a stream that breaks its container's promises (names the archive and member). */
  fail: (why: string) => Error;
  /**
   * Exact bytes the stream must hold (an .npz member's declared size), header included; the header must
   * promise exactly this much. Without it the header decides, and bytes after the data are not read.
   */
  exactBytes?: number;
  /** CRC-32 the whole stream must have (an .npz member's); checked at the end. */
  crc?: number;
  /** Called once the header is known, before any data is written (e.g. to check free disk space). */
  onHeader?: (h: NpyHeader) => void;
}

export interface NpyStreamResult {
  /** The header as written: little-endian, version 1.0 (or 2.0 when needed). */
  header: NpyHeader;
  /** SHA-256 (hex) of the data as written (little-endian), for content keys. */
  digest: string;
}

/** The header's length once the first 12 bytes are known, or undefined while fewer have arrived. */
function headerEnd(head: Buffer): number | undefined {
  if (head.length < 12) return undefined;
  if (head[6] === 1) return 10 + head.readUInt16LE(8);
  if (head[6] === 2 || head[6] === 3) return 12 + head.readUInt32LE(8);
  return 12; // not a version we read: parseNpyHeader says so
}

/**
 * Stream `input` (the bytes of a .npy file) into `dest`, which must not exist (it is created exclusively, so
 * nothing is overwritten). On any failure the file this call created is removed and the error re-thrown.
 */
export async function writeNpyStream(input: AsyncIterable<Uint8Array>, dest: string, check: NpyStreamCheck): Promise<NpyStreamResult> {
  const fh = await fs.promises.open(dest, 'wx');
  let closed = false;
  const it = input[Symbol.asyncIterator]();
  try {
    let head: Buffer = Buffer.alloc(0);
    let h: NpyHeader | undefined;
    let total = 0;
    let crc = 0;
    let written = 0;
    let carry: Buffer = Buffer.alloc(0);
    const hash = crypto.createHash('sha256');
    const put = async (b: Uint8Array) => {
      for (let off = 0; off < b.length; ) off += (await fh.write(b, off, b.length - off)).bytesWritten;
    };
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await it.next();
      } catch (e) {
        // The source failed (a damaged deflate stream, a read error): that is the member's fault, say so.
        const code = String((e as NodeJS.ErrnoException).code ?? '');
        throw check.fail(code.startsWith('Z_') ? `its deflate stream does not decompress (${messageOf(e)})` : `it cannot be read (${messageOf(e)})`);
      }
      if (next.done) break;
      const piece = next.value;
      const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      total += chunk.length;
      if (check.exactBytes !== undefined && total > check.exactBytes) {
        throw check.fail(`it decompresses to more than the ${check.exactBytes} bytes the directory declares; evalpred stopped there`);
      }
      if (check.crc !== undefined) crc = crc32(chunk, crc);
      let body = chunk;
      if (!h) {
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        const end = headerEnd(head);
        if (end === undefined || head.length < end) {
          // A header over NumPy's limit is refused by the parser without waiting for all of it.
          if (end !== undefined && end > 12 + 10_000) parseNpyHeader(head, check.source);
          continue;
        }
        h = parseNpyHeader(head.subarray(0, end), check.source);
        const need = h.dataOffset + h.dataBytes;
        if (check.exactBytes !== undefined && need !== check.exactBytes) {
          throw check.fail(
            `its .npy header declares a ${h.dtype} array of shape (${h.shape.join(', ')}), ${h.dataBytes} bytes of data after a ` +
              `${h.dataOffset}-byte header (${need} bytes in all), but the archive directory says the member is ${check.exactBytes} bytes`,
          );
        }
        check.onHeader?.(h);
        await put(npyHeaderBytes(h.dtype, h.shape));
        body = head.subarray(end);
        head = Buffer.alloc(0);
      }
      const left = h.dataBytes - written;
      if (body.length > left) body = body.subarray(0, left); // only without exactBytes: trailing bytes are not ours
      written += body.length;
      const itemSize = DTYPES[h.dtype].itemSize;
      if (h.bigEndian && itemSize > 1) {
        // Swap whole items; a partial item waits for the next chunk.
        const all = carry.length ? Buffer.concat([carry, body]) : Buffer.from(body);
        const whole = all.length - (all.length % itemSize);
        carry = Buffer.from(all.subarray(whole));
        body = all.subarray(0, whole);
        if (itemSize === 2) body.swap16();
        else if (itemSize === 4) body.swap32();
        else body.swap64();
      }
      hash.update(body);
      await put(body);
      if (check.exactBytes === undefined && written === h.dataBytes) {
        await it.return?.(); // trailing bytes are not read; this closes the source
        break;
      }
    }
    if (!h) {
      parseNpyHeader(head, check.source); // throws: it names what is missing
      throw check.fail('it ends inside its .npy header');
    }
    if (written < h.dataBytes) {
      throw check.fail(
        check.exactBytes !== undefined
          ? `it holds ${total} bytes, but the directory says ${check.exactBytes}`
          : `it is truncated: its header promises a ${h.dtype} array of shape (${h.shape.join(', ')}), ${h.dataBytes} bytes of data, but only ${written} follow`,
      );
    }
    if (check.crc !== undefined && crc !== check.crc) throw check.fail(`CRC-32 mismatch (data ${hex(crc)}, directory ${hex(check.crc)})`);
    await fh.close();
    closed = true;
    const header = parseNpyHeader(npyHeaderBytes(h.dtype, h.shape), dest);
    return { header, digest: hash.digest('hex') };
  } catch (e) {
    // Stop the source (no more inflating or reading), then remove what we wrote.
    await Promise.resolve(it.return?.()).catch(() => {});
    if (!closed) await fh.close().catch(() => {});
    // Only the file this call created (opened with 'wx' above) is removed.
    fs.rmSync(dest, { force: true });
    throw e;
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

