// Accumulation that streams to disk (docs/trainer-semantics.md#accumulation-across-batches): each batch's
// outputs are appended to spool files in the cache's temp folder as they come, and the final arrays are
// assembled by one streaming pass at the end, with Trainer's -100 padding across batches to the widest
// batch. Memory stays O(batch + MEMORY_BUDGET_BYTES) whatever N x seq x vocab is. The result is byte for byte what LoopContainer
// (accumulate.ts) builds in memory and the cache writer would save: the same checks, the same errors,
// the same file names (docs/cache-format.md#layout). Each spool file is removed once copied, so the disk
// holds little more than the final arrays. Batches stay in memory until a field holds more than
// MEMORY_BUDGET_BYTES: a file per batch costs ~0.5 ms, which on a small model's thousands of tiny batches
// was most of the accumulation time; only outputs that could outgrow memory pay for spooling.
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, describeWriteError, isEvalpredError } from '../errors';
import { DType, DTYPES, TensorData } from '../tensor/dtype';
import { npyHeaderBytes, openNpyFile, writeFully, writeFullyAsync, writeNpyFile, writeTensorData } from '../tensor/npy';
import { Tensor, TensorNode, walkTensors } from '../tensor/tensor';
import { PADDING_INDEX, concatNodes, concatPlan, nodeBytes, sameKind } from './accumulate';

/** What the loop does with one EvalPrediction field's batches: LoopContainer (memory) or SpoolContainer (disk). */
export interface Accumulator {
  add(node: TensorNode): void;
  /** Resolves once every batch added is on disk (a write still under way finished); throws its error if it failed. */
  settle(): Promise<void>;
  readonly count: number;
  /** null when nothing was added (Trainer leaves the field None). */
  result(): TensorNode | null;
}

/** One batch's array, spooled: its own file, data only. */
interface Spooled {
  file: string;
  dtype: DType;
  shape: number[];
}

type Skeleton = Spooled | { tuple: Skeleton[] } | { list: Skeleton[] };

const isLeaf = (s: Skeleton): s is Spooled => 'file' in s;
const kindOf = (s: Skeleton) => (isLeaf(s) ? 'tensor' : 'tuple' in s ? 'tuple' : 'list');

/** Bytes copied per read while assembling (a few rows more or less; never a whole batch of logits at once). */
const COPY_BYTES = 16 * 1024 * 1024;

/** The name (file stem) of a batch_inputs key's per-batch arrays: batch_inputs_<key>_b<i>.npy (docs/cache-format.md#batch-inputs). */
export function batchInputsFile(key: string): string {
  return `batch_inputs_${key}`;
}

/** Bytes of in-memory batches a field keeps before it spills them all and spools every later batch. */
export const MEMORY_BUDGET_BYTES = 64 * 1024 * 1024;

const allInMemory = (n: TensorNode): boolean =>
  n instanceof Tensor ? n.inMemory : ('tuple' in n ? n.tuple : n.list).every(allInMemory);

export class SpoolContainer implements Accumulator {
  private readonly batches: Skeleton[] = [];
  private readonly listed: TensorNode[] = [];
  /** Batches not spooled yet (all of them while the field stays under the budget), in order after `batches`. */
  private readonly held: TensorNode[] = [];
  private heldBytes = 0;
  private spilled = false;
  /** Bytes this field has written to its folder so far (spool files, per-batch list files). */
  diskBytes = 0;

  /**
   * @param name the field's cache name (`predictions`, `label_ids`, ...): final files are named after it.
   * @param dir the folder the final .npy files go to (a reserved cache write's temp folder).
   */
  constructor(
    readonly name: string,
    readonly doConcat: boolean,
    readonly dir: string,
    readonly budgetBytes: number = MEMORY_BUDGET_BYTES,
  ) {}

  get count(): number {
    return this.doConcat ? this.batches.length + this.held.length : this.listed.length;
  }

  add(node: TensorNode): void {
    const b = this.count;
    // eval_do_concat_batches=False: every batch is an entry of the list, written as it comes.
    if (!this.doConcat) {
      try {
        this.listed.push(writeNodeFiles(this.dir, node, `${this.name}_b${b}`));
      } catch (e) {
        throw this.failure(e, path.join(this.dir, `${this.name}_b${b}.npy`));
      }
      this.diskBytes += nodeBytes(node);
    }
    else if (this.spilled) this.batches.push(this.spool(node, `${this.name}-b${b}`));
    else {
      this.held.push(node);
      this.heldBytes += nodeBytes(node);
      // File-backed batches are already out of memory: keep them so by spooling from here on.
      if (this.heldBytes > this.budgetBytes || !allInMemory(node)) this.spill();
    }
  }

  private spill(): void {
    this.spilled = true;
    const first = this.batches.length;
    this.held.forEach((n, i) => this.batches.push(this.spool(n, `${this.name}-b${first + i}`)));
    this.held.length = 0;
    this.heldBytes = 0;
  }

  private spool(node: TensorNode, tag: string): Skeleton {
    if (node instanceof Tensor) {
      if (this.writeError) throw this.writeError;
      const file = path.join(this.dir, `spool-${tag}.bin`);
      let fd: number;
      try {
        fd = fs.openSync(file, 'wx');
      } catch (e) {
        throw this.failure(e, file);
      }
      this.diskBytes += node.nbytes;
      // One write at a time goes on the thread pool while the loop runs the next batch (a batch of full logits
      // takes as long to write as the model takes to compute it); while it is under way, the next is written here,
      // so no more than one batch waits in memory for the disk.
      if (!this.writing && node.inMemory && node.ndim > 0) {
        const d = node.data;
        this.writing = writeFullyAsync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
          .catch((e: unknown) => {
            this.writeError ??= this.failure(e, file);
          })
          .finally(() => {
            fs.closeSync(fd);
            this.writing = null;
          });
        return { file, dtype: node.dtype, shape: [...node.shape] };
      }
      try {
        writeTensorData(fd, node);
      } catch (e) {
        fs.closeSync(fd);
        fs.rmSync(file, { force: true }); // not among the batches yet: discard() would not find it
        throw this.failure(e, file);
      }
      fs.closeSync(fd);
      return { file, dtype: node.dtype, shape: [...node.shape] };
    }
    if ('tuple' in node) return { tuple: node.tuple.map((c, i) => this.spool(c, `${tag}-${i}`)) };
    return { list: node.list.map((c, i) => this.spool(c, `${tag}-l${i}`)) };
  }

  /** A file system error while writing `file`, in one paragraph naming it (the disk filled behind the run's own
   *  checks, a permission changed); errors that are already the run's own pass as they are. */
  private failure(e: unknown, file: string): Error {
    if (isEvalpredError(e)) return e;
    return new EvalpredError(`could not write ${file} (the ${this.name} of this run, on their way to the cache): ${describeWriteError(e, file)}.`, { file }, { cause: e });
  }

  /** The write under way, if any (it never rejects: a failure is kept in writeError). */
  private writing: Promise<void> | null = null;
  private writeError: Error | null = null;

  async settle(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.writeError) throw this.writeError;
  }

  /** The run failed: remove what this field wrote so far (spool files, per-batch files); the folder is the caller's. */
  discard(): void {
    for (const s of this.batches) for (const f of spoolFiles(s)) fs.rmSync(f, { force: true });
    for (const n of this.listed) for (const [, t] of walkTensors(n, this.name)) if (t.backing) fs.rmSync(t.backing.file, { force: true });
  }

  /** After settle(): the spool files are read back. */
  result(): TensorNode | null {
    if (this.writing) throw new Error(`internal: ${this.name}: result() before settle(), with a spool write under way`);
    if (this.writeError) throw this.writeError;
    if (this.count === 0) return null;
    if (!this.doConcat) return { list: this.listed.slice() };
    // Never spilled: concatenate in memory (the reference LoopContainer uses) and write the final files.
    if (!this.spilled) {
      const all = concatNodes(this.held, this.name);
      try {
        return writeNodeFiles(this.dir, all, this.name);
      } catch (e) {
        throw this.failure(e, path.join(this.dir, `${this.name}.npy`));
      }
    }
    try {
      return assemble(this.batches, this.name, path.join(this.dir, this.name));
    } catch (e) {
      throw this.failure(e, path.join(this.dir, `${this.name}.npy`));
    } finally {
      // What a failed check left behind goes too: the folder must hold only what the manifest lists.
      for (const s of this.batches) for (const f of spoolFiles(s)) fs.rmSync(f, { force: true });
    }
  }
}

function* spoolFiles(s: Skeleton): Generator<string> {
  if (isLeaf(s)) yield s.file;
  else for (const c of 'tuple' in s ? s.tuple : s.list) yield* spoolFiles(c);
}

/** accumulate.ts's concatNodes over spooled batches; `base` is the final file's path without `.npy`. */
function assemble(batches: readonly Skeleton[], name: string, base: string): TensorNode {
  if (batches.length === 1) return materialize(batches[0], base);
  const kind = sameKind(batches.map(kindOf), name);
  if (kind === 'tensor') return concatSpooled(batches as Spooled[], name, `${base}.npy`);
  const items = batches.map((n) => ('tuple' in n ? n.tuple : (n as { list: Skeleton[] }).list));
  // zip() truncates to the shortest member list, as Trainer's nested_concat does.
  const len = Math.min(...items.map((i) => i.length));
  const merged: TensorNode[] = [];
  for (let k = 0; k < len; k++) merged.push(assemble(items.map((i) => i[k]), `${name}[${k}]`, kind === 'tuple' ? `${base}_${k}` : `${base}_b${k}`));
  return kind === 'tuple' ? { tuple: merged } : { list: merged };
}

/** A single batch's node as the cache writer would name it (store.ts writeNode). */
function materialize(s: Skeleton, base: string): TensorNode {
  if (isLeaf(s)) {
    const out = `${base}.npy`;
    copyInto(out, s.dtype, s.shape, [s], (_, chunk, put) => put(chunk));
    return openNpyFile(out);
  }
  if ('tuple' in s) return { tuple: s.tuple.map((c, i) => materialize(c, `${base}_${i}`)) };
  return { list: s.list.map((c, i) => materialize(c, `${base}_b${i}`)) };
}

/** accumulate.ts's concatTensors, streamed: the same plan and checks (concatPlan), then one pass per batch. */
function concatSpooled(parts: readonly Spooled[], name: string, out: string): Tensor {
  const { dtype, shape, outRowLen, rowLens, ragged } = concatPlan(parts, name);
  // The padding of a narrower batch's rows: what Tensor.full(dtype, shape, -100) leaves there in memory.
  const padRow = bytesOf(Tensor.full(dtype, [outRowLen], ragged ? PADDING_INDEX : 0).data);
  const itemSize = DTYPES[dtype].itemSize;
  copyInto(out, dtype, shape, parts, (b, chunk, put) => {
    const rowBytes = rowLens[b] * itemSize;
    if (rowLens[b] === outRowLen) return put(chunk);
    for (let r = 0; r < chunk.length / rowBytes; r++) {
      put(chunk.subarray(r * rowBytes, (r + 1) * rowBytes));
      put(padRow.subarray(rowBytes));
    }
  });
  return openNpyFile(out);
}

/**
 * Write the .npy `out` (dtype, shape) from the spooled parts in order, each read in whole rows of at most
 * COPY_BYTES and handed to `emit` (converted to `dtype` first when a batch came in another dtype, as
 * torch's copy into new_full does), then the part's spool file is removed.
 */
function copyInto(
  out: string,
  dtype: DType,
  shape: readonly number[],
  parts: readonly Spooled[],
  emit: (part: number, chunk: Uint8Array, put: (b: Uint8Array) => void) => void,
): void {
  const fd = fs.openSync(out, 'wx');
  const buf = Buffer.allocUnsafe(COPY_BYTES);
  let used = 0;
  const flush = () => {
    writeFully(fd, buf.subarray(0, used));
    used = 0;
  };
  const put = (b: Uint8Array) => {
    // A large piece (a whole chunk of rows) goes straight to the file: copying it into `buf` first gains nothing.
    if (b.length >= buf.length / 2) {
      flush();
      writeFully(fd, b);
      return;
    }
    if (used + b.length > buf.length) flush();
    buf.set(b, used);
    used += b.length;
  };
  // One read buffer for every chunk (a fresh zero-filled 16 MB array per read cost as much as the read itself).
  const readBuf = new ArrayBuffer(COPY_BYTES);
  try {
    put(npyHeaderBytes(dtype, shape));
    for (const [b, p] of parts.entries()) {
      const src = DTYPES[p.dtype].itemSize;
      const size = p.shape.reduce((a, b) => a * b, 1);
      const rowElems = p.shape.length ? size / (p.shape[0] || 1) : 1;
      const rowsPer = Math.max(1, Math.floor(COPY_BYTES / Math.max(1, rowElems * src)));
      const sfd = fs.openSync(p.file, 'r');
      try {
        for (let e = 0; e < size; ) {
          const n = Math.min(size - e, rowsPer * rowElems);
          // (a single row longer than the buffer is read whole into an array of its own)
          const raw = n * src <= COPY_BYTES ? new DTYPES[p.dtype].ctor(readBuf, 0, n) : new DTYPES[p.dtype].ctor(n);
          readExactly(sfd, bytesOf(raw), e * src, p.file);
          const data = p.dtype === dtype ? raw : convert(raw, p.dtype, dtype, n);
          emit(b, bytesOf(data), put);
          e += n;
        }
      } finally {
        fs.closeSync(sfd);
      }
      fs.rmSync(p.file, { force: true });
    }
    flush();
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(out, { force: true });
    throw e;
  }
  fs.closeSync(fd);
}

function convert(raw: TensorData, from: DType, to: DType, n: number): TensorData {
  const src = new Tensor(from, [n], raw);
  const dst = Tensor.full(to, [n]);
  for (let k = 0; k < n; k++) dst.set(k, src.at(k));
  return dst.data;
}

function readExactly(fd: number, into: Uint8Array, position: number, file: string): void {
  for (let done = 0; done < into.length; ) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error(`spool file ${file} ended early (at ${position + done} bytes)`);
    done += n;
  }
}

function bytesOf(d: TensorData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Write a batch's node as its own .npy files (store.ts's naming) and return it file-backed. */
function writeNodeFiles(dir: string, node: TensorNode, base: string): TensorNode {
  if (node instanceof Tensor) {
    const file = `${base}.npy`;
    const full = path.join(dir, file);
    if (fs.existsSync(full)) throw new Error(`spool: ${full} exists already`);
    writeNpyFile(full, node);
    return openNpyFile(full);
  }
  if ('tuple' in node) return { tuple: node.tuple.map((c, i) => writeNodeFiles(dir, c, `${base}_${i}`)) };
  return { list: node.list.map((c, i) => writeNodeFiles(dir, c, `${base}_b${i}`)) };
}

/** A node whose in-memory tensors are written to `dir` under the cache's names for `base` (file-backed ones stay). */
export function spillNode(dir: string, node: TensorNode, base: string): TensorNode {
  if (node instanceof Tensor) return node.backing ? node : writeNodeFiles(dir, node, base);
  if ('tuple' in node) return { tuple: node.tuple.map((c, i) => spillNode(dir, c, `${base}_${i}`)) };
  return { list: node.list.map((c, i) => spillNode(dir, c, `${base}_b${i}`)) };
}
