// The contract between search strategies (greedy, beam) and models: give me the next-token logits for every
// row, given the full sequences so far. A cached stepper feeds only the newest token plus the past key values
// (reordered when beam search reshuffles rows); an uncached one re-runs the whole prefix. Both must give the
// same logits, so both must give the same ids (the tests check this).
import { Tensor } from '../tensor/tensor';

export interface Stepper {
  /**
   * `sequences` [rows, t] int64 (every row the same length); `beamIdx` = for each new row, the old row it
   * continues (beam search), or null when rows keep their places. Returns the last position's logits,
   * float32 [rows * vocab] row-major.
   */
  next(sequences: Tensor, beamIdx: Int32Array | null): Promise<Float32Array>;
  readonly vocabSize: number;
  /** How many model runs used the past (for tests and the benchmark). */
  readonly stats: { runs: number; cachedRuns: number };
}

/** logits [rows, t, V] (any float dtype) -> the last position of each row as float32 [rows * V]. */
export function lastPositionLogits(logits: Tensor): Float32Array {
  const [rows, t, V] = logits.shape;
  const out = new Float32Array(rows * V);
  if (logits.dtype === 'float32') {
    const d = logits.data as Float32Array;
    for (let r = 0; r < rows; r++) out.set(d.subarray((r * t + t - 1) * V, (r * t + t) * V), r * V);
  } else {
    for (let r = 0; r < rows; r++) for (let v = 0; v < V; v++) out[r * V + v] = logits.at((r * t + t - 1) * V + v);
  }
  return out;
}

/** Rows of `t` (axis 0) picked by `idx`: the cache reorder of transformers' _reorder_cache / index_select. */
export function gatherRows(t: Tensor, idx: ArrayLike<number>): Tensor {
  const n = t.shape[0];
  const inner = n ? t.size / n : 0;
  const out = Tensor.full(t.dtype, [idx.length, ...t.shape.slice(1)]);
  const src = t.data as Float32Array, dst = out.data as Float32Array;
  for (let i = 0; i < idx.length; i++) dst.set(src.subarray(idx[i] * inner, (idx[i] + 1) * inner), i * inner);
  return out;
}

/** Each row repeated k times in place (torch.repeat_interleave on axis 0): expanding inputs for beams. */
export function repeatRows(t: Tensor, k: number): Tensor {
  if (k === 1) return t;
  const idx: number[] = [];
  for (let r = 0; r < t.shape[0]; r++) for (let j = 0; j < k; j++) idx.push(r);
  return gatherRows(t, idx);
}

/** The last column of [rows, t] int64 as [rows, 1]. */
export function lastColumn(seqs: Tensor): Tensor {
  const [rows, t] = seqs.shape;
  const d = seqs.data as BigInt64Array;
  const out = new BigInt64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = d[r * t + t - 1];
  return new Tensor('int64', [rows, 1], out);
}
