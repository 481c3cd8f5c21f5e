// File-backed tensors: an .npy file's data read on demand (rows, chunks, elements), so an array larger than
// memory, or than one typed array, can be shown, paged and reduced (docs/cache-format.md#arrays-larger-than-memory).
// The file stays open for the tensor's life: a cache replaced by a later run (renamed aside, then deleted)
// still reads as the array this tensor was made from.
import fs from 'node:fs';
import { EvalpredError } from '../errors';
import { DType, DTYPES, TensorData } from './dtype';
import type { TensorBacking } from './tensor';

/** Reads of at most this many bytes at a time (fs.readSync takes a length below 2^31). */
const MAX_READ = 1 << 30;

const closer = new FinalizationRegistry<number>((fd) => {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
});

class NpyFileBacking implements TensorBacking {
  constructor(
    private readonly fd: number,
    readonly file: string,
    readonly offset: number,
    readonly bigEndian: boolean,
    private readonly dtype: DType,
  ) {}

  read(start: number, end: number): TensorData {
    const item = DTYPES[this.dtype].itemSize;
    const out = new DTYPES[this.dtype].ctor(Math.max(0, end - start));
    readFully(this.fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), this.offset + start * item, this.file);
    if (this.bigEndian) byteSwap(out, item);
    return out;
  }
}

/** Fill `into` from the descriptor at `position` (in pieces fs.readSync accepts); a short file is named as truncated. */
export function readFully(fd: number, into: Uint8Array, position: number, file: string): void {
  for (let done = 0; done < into.length; ) {
    const n = fs.readSync(fd, into, done, Math.min(MAX_READ, into.length - done), position + done);
    if (n === 0) throw new EvalpredError(`${file} is truncated: it ended after ${position + done} bytes while reading`, { file });
    done += n;
  }
}

/** Big-endian items to little-endian, in place. */
export function byteSwap(data: TensorData, itemSize: number): void {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength); // a view, not a copy
  if (itemSize === 2) b.swap16();
  else if (itemSize === 4) b.swap32();
  else if (itemSize === 8) b.swap64();
}

/**
 * A backing for the data of `file` from byte `offset` on, through an already opened descriptor, which it
 * now owns (closed when the backing is garbage collected).
 */
export function fileBacking(fd: number, file: string, offset: number, dtype: DType, bigEndian: boolean): TensorBacking {
  const b = new NpyFileBacking(fd, file, offset, bigEndian, dtype);
  closer.register(b, fd);
  return b;
}
