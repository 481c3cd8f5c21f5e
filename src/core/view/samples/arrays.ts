// Reading the EvalPrediction's arrays for the per-sample table, shared by the per-task sample files.
import { Tensor, TensorNode } from '../../tensor/tensor';

export { firstTensor } from '../../tensor/tensor';

/** Not applicable / no gold: the value stored in the table's Int32 columns. */
export const NONE = -1;

export function tupleMembers(node: TensorNode | null): Tensor[] {
  if (!node || node instanceof Tensor || !('tuple' in node)) return [];
  return node.tuple.filter((t): t is Tensor => t instanceof Tensor);
}

/**
 * The label arrays by Trainer's label name: label_ids is one array for one name, else a tuple in the order of
 * `names` (label_names, docs/trainer-semantics.md#which-batch-keys-are-labels). A name not there gives undefined.
 */
export function labelsByName(node: TensorNode | null, names: readonly string[]): Record<string, Tensor | undefined> {
  const members = node instanceof Tensor ? [node] : tupleMembers(node);
  return Object.fromEntries(names.map((n, i) => [n, members.length === names.length ? members[i] : undefined]));
}

/** Reads element i as a number, whatever the storage (float16 bits, bigint). */
export function numbers(t: Tensor): (i: number) => number {
  // A file-backed array (docs/cache-format.md#arrays-larger-than-memory) is read through at()'s window, never loaded whole.
  if (!t.inMemory) return (i) => t.at(i);
  const d = t.data;
  if (t.dtype === 'float16' || d instanceof BigInt64Array) return (i) => t.at(i);
  return (i) => d[i] as number;
}

/** softmax statistics of `len` logits at `base` (stride 1): max prob, argmax, and -log p[gold] (NaN without gold). */
export function softmaxAt(get: (i: number) => number, base: number, len: number, gold: number): { arg: number; pmax: number; ce: number } {
  let arg = 0;
  let m = get(base);
  for (let k = 1; k < len; k++) {
    const v = get(base + k);
    if (v > m || (v !== v && m === m)) {
      m = v;
      arg = k;
    }
  }
  let s = 0;
  for (let k = 0; k < len; k++) s += Math.exp(get(base + k) - m);
  const ce = gold >= 0 && gold < len ? Math.log(s) - (get(base + gold) - m) : NaN;
  return { arg, pmax: 1 / s, ce };
}

/** A dataset cell shown as text: strings as they are, lists joined by spaces, anything else as JSON. */
export function cellText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v == null) return '';
  if (Array.isArray(v)) return v.map(cellText).join(' ');
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
    } catch {
      return String(v);
    }
  }
  return String(v);
}
