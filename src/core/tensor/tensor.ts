// The one tensor type every module shares: a dtype, a C-order shape and a flat typed array.
// Small surface on purpose (as transformers.js' Tensor): maths lives in free functions elsewhere.
// A tensor may instead be backed by a file (an .npy in the cache, ./fileBacking.ts): rows, chunks and
// single elements are read on demand, and `data` loads the whole array only up to wholeArrayLimitBytes()
// (docs/cache-format.md#arrays-larger-than-memory).
import { EvalpredError } from '../errors';
import { DType, DTYPES, TensorData, floatToHalf, halfToFloat } from './dtype';

/** Where a file-backed tensor's elements live (implemented by fileBacking.ts). */
export interface TensorBacking {
  /** The file, for messages and for handing the same array to another thread or process. */
  readonly file: string;
  /** Byte offset of element 0 in the file. */
  readonly offset: number;
  readonly bigEndian: boolean;
  /** Elements [start, end) (flat, C order) in a new little-endian typed array of the tensor's dtype. */
  read(start: number, end: number): TensorData;
}

/** Default size of a chunk from Tensor.chunks(). */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * The largest array `Tensor.data` loads whole from a file (2 GiB; EVALPRED_WHOLE_ARRAY_BYTES overrides it,
 * which tests use to exercise the chunked path with small arrays). Beyond it, code reads rows or chunks.
 */
export function wholeArrayLimitBytes(): number {
  const env = Number(process.env.EVALPRED_WHOLE_ARRAY_BYTES);
  return Number.isFinite(env) && env > 0 ? env : 2 ** 31;
}

/**
 * Elements read at a time by the passes over a whole file-backed array (./blocks.ts, argmax over axis 0): 1 Mi,
 * 4 MiB of float32, a few ms per read; EVALPRED_BLOCK_ELEMENTS overrides it, which tests use to make small
 * arrays span many blocks.
 */
export function blockElements(): number {
  const env = Number(process.env.EVALPRED_BLOCK_ELEMENTS);
  return Number.isInteger(env) && env > 0 ? env : 1 << 20;
}

const WINDOW_ELEMENTS = 1 << 20;

export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Set for a file-backed tensor (its elements are read on demand); undefined for one built in memory. */
  readonly backing: TensorBacking | undefined;
  private loaded: TensorData | undefined;
  private readonly count: number;
  /** The last window of elements at() read from the file (element-wise reads of a file-backed tensor). */
  private window: { start: number; data: TensorData } | undefined;

  constructor(dtype: DType, shape: readonly number[], data: TensorData | TensorBacking) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`invalid tensor shape [${shape.join(', ')}]`);
    if (ArrayBuffer.isView(data)) {
      if (data.length !== size) {
        throw new Error(`${dtype} tensor of shape [${shape.join(', ')}] needs ${size} elements, got ${data.length}`);
      }
      if (!(data instanceof DTYPES[dtype].ctor)) {
        throw new Error(`${dtype} tensor needs a ${DTYPES[dtype].ctor.name}, got ${data.constructor.name}`);
      }
      this.loaded = data;
    } else {
      this.backing = data as TensorBacking;
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.count = size;
  }

  /**
   * The elements as one typed array. A file-backed tensor loads them on first use (then keeps them; a
   * write with set() changes only this copy, never the file); beyond wholeArrayLimitBytes() it refuses
   * and names rows()/chunks(), which read part of the array.
   */
  get data(): TensorData {
    if (this.loaded) return this.loaded;
    const b = this.backing!;
    const bytes = this.count * DTYPES[this.dtype].itemSize;
    if (bytes > wholeArrayLimitBytes()) {
      throw new EvalpredError(
        `the ${this} array in ${b.file} is ${bytes} bytes, more than the ${wholeArrayLimitBytes()} evalpred loads whole into one typed array; ` +
          `read it in parts with tensor.rows(start, end), tensor.row(i) or \`for (const { start, rows } of tensor.chunks())\` ` +
          `(docs/cache-format.md#arrays-larger-than-memory), or reduce it per batch with preprocess_logits_for_metrics.`,
        { file: b.file },
      );
    }
    this.loaded = b.read(0, this.count);
    this.window = undefined;
    return this.loaded;
  }

  /** True when the elements are in memory (built there, or a file-backed tensor whose data was loaded). */
  get inMemory(): boolean {
    return this.loaded !== undefined;
  }

  /** A zero-filled tensor (or filled with `value`). */
  static full(dtype: DType, shape: readonly number[], value = 0): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new DTYPES[dtype].ctor(size);
    if (value !== 0) fillWith(dtype, data, value);
    return new Tensor(dtype, shape, data);
  }

  /** Build from plain numbers (int64 accepts numbers or bigints; float16 takes values, not bits). */
  static from(dtype: DType, shape: readonly number[], values: ArrayLike<number | bigint>): Tensor {
    const t = Tensor.full(dtype, shape);
    for (let i = 0; i < values.length; i++) t.set(i, values[i]);
    return t;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the elements take. */
  get nbytes(): number {
    return this.count * DTYPES[this.dtype].itemSize;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** C-order strides in elements. */
  get strides(): number[] {
    const s = new Array<number>(this.shape.length);
    let acc = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= this.shape[i];
    }
    return s;
  }

  /** Element at a flat index as a JS number (float16 widened; int64 must be a safe integer). */
  at(flat: number): number {
    const v = this.loaded ? this.loaded[flat] : this.fromWindow(flat);
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new RangeError(`int64 value ${v} at flat index ${flat} does not fit a JS number exactly`);
      }
      return Number(v);
    }
    return this.dtype === 'float16' ? halfToFloat(v as number) : (v as number);
  }

  private fromWindow(flat: number): number | bigint | undefined {
    if (!Number.isInteger(flat) || flat < 0 || flat >= this.count) return undefined;
    const w = this.window;
    if (w && flat >= w.start && flat < w.start + w.data.length) return w.data[flat - w.start];
    const start = flat - (flat % WINDOW_ELEMENTS);
    this.window = { start, data: this.backing!.read(start, Math.min(this.count, start + WINDOW_ELEMENTS)) };
    return this.window.data[flat - start];
  }

  /** Write a value at a flat index, converting to the storage type. */
  set(flat: number, value: number | bigint): void {
    const d = this.data;
    if (d instanceof BigInt64Array) d[flat] = typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
    else if (this.dtype === 'float16') (d as Uint16Array)[flat] = floatToHalf(Number(value));
    else if (this.dtype === 'bool') (d as Uint8Array)[flat] = Number(value) ? 1 : 0;
    else (d as Exclude<TensorData, BigInt64Array>)[flat] = Number(value);
  }

  flatIndex(idx: readonly number[]): number {
    if (idx.length !== this.shape.length) {
      throw new RangeError(`index [${idx.join(', ')}] has ${idx.length} axes; tensor has shape [${this.shape.join(', ')}]`);
    }
    let flat = 0;
    const strides = this.strides;
    for (let k = 0; k < idx.length; k++) {
      let i = idx[k];
      if (i < 0) i += this.shape[k];
      if (!Number.isInteger(i) || i < 0 || i >= this.shape[k]) {
        throw new RangeError(`index ${idx[k]} is out of bounds for axis ${k} with size ${this.shape[k]}`);
      }
      flat += i * strides[k];
    }
    return flat;
  }

  /** `get(i, j, ...)`: one element; negative indices count from the end, as in NumPy. */
  get(...idx: number[]): number {
    return this.at(this.flatIndex(idx));
  }

  /** Row `i` along axis 0 as a tensor sharing this tensor's memory. */
  row(i: number): Tensor {
    if (this.ndim === 0) throw new RangeError('row() needs at least one axis; this tensor is 0-d');
    const n = this.shape[0];
    const r = i < 0 ? i + n : i;
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new RangeError(`row ${i} is out of bounds for axis 0 with size ${n}`);
    const inner = this.size / (n || 1);
    return new Tensor(this.dtype, this.shape.slice(1), this.part(r * inner, (r + 1) * inner));
  }

  /** Rows [start, end) along axis 0: sharing memory, or read from the file for a file-backed tensor. */
  rows(start: number, end: number): Tensor {
    const n = this.shape[0];
    const inner = n ? this.size / n : 0;
    const s = Math.max(0, Math.min(n, start));
    const e = Math.max(s, Math.min(n, end));
    return new Tensor(this.dtype, [e - s, ...this.shape.slice(1)], this.part(s * inner, e * inner));
  }

  /**
   * The rows along axis 0 in consecutive parts of at most `maxBytes` (at least one row each): the way to
   * go through an array of any size, in memory or on disk, with one part in memory at a time.
   */
  *chunks(maxBytes = DEFAULT_CHUNK_BYTES): Generator<{ start: number; rows: Tensor }> {
    if (this.ndim === 0) throw new RangeError('chunks() needs at least one axis; this tensor is 0-d');
    const n = this.shape[0];
    const rowBytes = n ? this.nbytes / n : 0;
    const step = Math.max(1, rowBytes ? Math.floor(maxBytes / rowBytes) : n);
    for (let s = 0; s < n; s += step) yield { start: s, rows: this.rows(s, s + step) };
  }

  /**
   * Elements [start, end) in flat C order: a view of an in-memory tensor's data, a fresh read of a file-backed
   * one's (./blocks.ts walks whole arrays this way, a block at a time).
   */
  elements(start: number, end: number): TensorData {
    const s = Math.max(0, Math.min(this.count, start));
    return this.part(s, Math.max(s, Math.min(this.count, end)));
  }

  private part(start: number, end: number): TensorData {
    return this.loaded ? (this.loaded.subarray(start, end) as TensorData) : this.backing!.read(start, end);
  }

  /** Same data, new shape (sizes must agree). */
  reshape(shape: readonly number[]): Tensor {
    if (this.loaded) return new Tensor(this.dtype, shape, this.loaded);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== this.count) throw new Error(`${this.dtype} tensor of shape [${shape.join(', ')}] needs ${size} elements, got ${this.count}`);
    return new Tensor(this.dtype, shape, this.backing!);
  }

  /** Nested JS arrays of numbers (int64 as numbers; throws for unsafe ints). */
  toArray(): NestedNumbers {
    const build = (axis: number, offset: number): NestedNumbers => {
      if (axis === this.ndim) return this.at(offset);
      const stride = this.strides[axis];
      const out: NestedNumbers[] = [];
      for (let i = 0; i < this.shape[axis]; i++) out.push(build(axis + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /**
   * Index of the largest value along `axis` (default last), as int64, NumPy tie rule (first max). NaN wins, as in NumPy.
   * A file-backed tensor is never loaded whole: over axis 0 it streams block by block, over a later axis chunk by chunk.
   */
  argmax(axis = -1): Tensor {
    if (this.ndim === 0) return Tensor.from('int64', [], [0]);
    const ax = axis < 0 ? axis + this.ndim : axis;
    if (ax < 0 || ax >= this.ndim) throw new RangeError(`axis ${axis} is out of bounds for a ${this.ndim}-d tensor`);
    const outer = this.shape.slice(0, ax).reduce((a, b) => a * b, 1);
    const len = this.shape[ax];
    const inner = this.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    if (len === 0) throw new RangeError('argmax of an empty axis');
    if (!this.loaded && ax === 0) return new Tensor('int64', this.shape.slice(1), this.argmaxFirstAxis());
    const out = new BigInt64Array(outer * inner);
    if (!this.loaded && ax > 0) {
      // A file-backed tensor: argmax over its rows one chunk at a time (each row holds whole reductions).
      const perRow = out.length / (this.shape[0] || 1);
      for (const { start, rows } of this.chunks()) out.set(rows.argmax(ax).data as BigInt64Array, start * perRow);
      return new Tensor('int64', [...this.shape.slice(0, ax), ...this.shape.slice(ax + 1)], out);
    }
    // Fast path: plain number arrays (not float16 bits, not bigints), read directly: metric reruns argmax
    // over 10^8 logits, where a per-element accessor call is the cost.
    const d = this.data;
    const plain = this.dtype !== 'float16' && !(d instanceof BigInt64Array) ? (d as Float32Array) : undefined;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * len * inner + i;
        let best = 0;
        if (plain) {
          // One comparison per element: !(v <= best) is true for a larger value and for NaN (NumPy: the
          // first NaN wins), which is then told apart off the hot path.
          let bestV = plain[base];
          if (bestV === bestV) {
            for (let k = 1, p = base + inner; k < len; k++, p += inner) {
              const v = plain[p];
              if (!(v <= bestV)) {
                best = k;
                bestV = v;
                if (v !== v) break;
              }
            }
          }
        } else if (d instanceof BigInt64Array) {
          // int64 compared as bigints: values beyond 2^53 (which at() refuses) order exactly.
          let bestV = d[base];
          for (let k = 1, p = base + inner; k < len; k++, p += inner) {
            if (d[p] > bestV) {
              best = k;
              bestV = d[p];
            }
          }
        } else {
          let bestV = this.at(base);
          if (!Number.isNaN(bestV)) {
            for (let k = 1; k < len; k++) {
              const v = this.at(base + k * inner);
              if (v > bestV || Number.isNaN(v)) {
                best = k;
                bestV = v;
                if (Number.isNaN(v)) break;
              }
            }
          }
        }
        out[o * inner + i] = BigInt(best);
      }
    }
    return new Tensor('int64', [...this.shape.slice(0, ax), ...this.shape.slice(ax + 1)], out);
  }

  /**
   * argmax over axis 0 of a file-backed tensor, streamed: its elements a block at a time in flat order, each
   * compared with a running best per output element. Element k of output i comes in the order of k, so the
   * rules are the in-memory loop's exactly: a later value replaces the best only when larger (ties keep the
   * first), a NaN replaces it and then stays (the first NaN wins), int64 compares as bigints, float16 widened.
   */
  private argmaxFirstAxis(): BigInt64Array {
    const inner = this.count / this.shape[0];
    const bestK = new Float64Array(inner);
    const bestV = this.dtype === 'int64' ? undefined : new Float64Array(inner); // every other dtype's values are exact in float64
    const bestBig = this.dtype === 'int64' ? new BigInt64Array(inner) : undefined;
    const half = this.dtype === 'float16';
    const block = blockElements();
    let k = 0;
    let i = 0;
    for (let s = 0; s < this.count; s += block) {
      const raw = this.part(s, Math.min(this.count, s + block));
      if (bestBig) {
        const d = raw as BigInt64Array;
        for (let j = 0; j < d.length; j++) {
          if (k === 0 || d[j] > bestBig[i]) {
            bestBig[i] = d[j];
            bestK[i] = k;
          }
          if (++i === inner) {
            i = 0;
            k++;
          }
        }
      } else {
        const d = raw as Exclude<TensorData, BigInt64Array>;
        const best = bestV!;
        for (let j = 0; j < d.length; j++) {
          const v = half ? halfToFloat(d[j]) : d[j];
          if (k === 0) best[i] = v;
          else {
            const b = best[i];
            // As the in-memory loop: !(v <= b) holds for a larger value and for NaN; a NaN best is final.
            if (b === b && !(v <= b)) {
              best[i] = v;
              bestK[i] = k;
            }
          }
          if (++i === inner) {
            i = 0;
            k++;
          }
        }
      }
    }
    const out = new BigInt64Array(inner);
    for (let o = 0; o < inner; o++) out[o] = BigInt(bestK[o]);
    return out;
  }

  toString(): string {
    return `${this.dtype}[${this.shape.join(', ')}]`;
  }
}

export type NestedNumbers = number | NestedNumbers[];

/**
 * A field of an EvalPrediction, shaped as Trainer leaves it: an array, a tuple of nodes (several model
 * outputs, or several label names) or a list of per-batch nodes (eval_do_concat_batches=False).
 * Mirrors the cache manifest's `{"npy"}` / `{"tuple"}` / `{"list"}` nodes.
 */
export type TensorNode = Tensor | TensorTuple | TensorList;
export interface TensorTuple {
  readonly tuple: TensorNode[];
}
export interface TensorList {
  readonly list: TensorNode[];
}

export function isTensor(n: TensorNode): n is Tensor {
  return n instanceof Tensor;
}

/** The four fields Trainer passes to compute_metrics (current profile). null = not present. */
export interface EvalPredictionData {
  predictions: TensorNode | null;
  labelIds: TensorNode | null;
  inputs: TensorNode | null;
  losses: TensorNode | null;
  /** batch_eval_metrics with inputs included: each call's whole batch mapping (absent otherwise). */
  batchInputs?: BatchInputs;
}

/** The four EvalPrediction fields of EvalPredictionData (batchInputs is batch_eval_metrics' extra, not a field). */
export type EvalPredictionField = 'predictions' | 'labelIds' | 'inputs' | 'losses';

/**
 * batch_eval_metrics hands each call the whole collated batch as `inputs` (docs/trainer-semantics.md#batch_eval_metrics):
 * `keys` in the collator's order; `main` is the key whose per-batch arrays are EvalPredictionData.inputs (list node);
 * `lists` holds every other key's per-batch list node (docs/cache-format.md#batch-inputs).
 */
export interface BatchInputs {
  keys: string[];
  main: string;
  lists: Record<string, TensorNode>;
}

/**
 * One batch_eval_metrics call's `inputs`: [key, that batch's array] in the collator's order (a BatchEncoding in Python).
 * Made by EvalRuntime.inputsMappingAtStop; the Variables view and the Debug Console's expressions both show this one.
 */
export type BatchMapping = [string, TensorNode][];

/** First array of a node (depth first): Trainer's logits are the first model output; later tuple/list members are extras. */
export function firstTensor(node: TensorNode | null): Tensor | undefined {
  if (!node) return undefined;
  if (node instanceof Tensor) return node;
  const items = 'tuple' in node ? node.tuple : node.list;
  return items.length ? firstTensor(items[0]) : undefined;
}

/** Every tensor in a node with a readable path (`predictions[0]`, `label_ids[1][2]`). */
export function* walkTensors(node: TensorNode, path: string): Generator<[string, Tensor]> {
  if (node instanceof Tensor) yield [path, node];
  else for (const [i, child] of ('tuple' in node ? node.tuple : node.list).entries()) yield* walkTensors(child, `${path}[${i}]`);
}

function fillWith(dtype: DType, data: TensorData, value: number): void {
  if (data instanceof BigInt64Array) data.fill(BigInt(value));
  else if (dtype === 'float16') (data as Uint16Array).fill(floatToHalf(value));
  else (data as Exclude<TensorData, BigInt64Array>).fill(value);
}
