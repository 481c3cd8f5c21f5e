// What an expression evaluates to, and how the Debug Console shows it (NumPy-like text: the user is
// debugging Python-shaped data, so `(872, 2)`, `True`, `'text'`, `None`).
import { floatToHalf, halfToFloat } from '../tensor/dtype';
import type { TensorStats } from '../tensor/stats';
import { BatchMapping, EvalPredictionData, Tensor, TensorNode } from '../tensor/tensor';

export interface Seq {
  readonly seq: Value[];
}
export interface EvalPredValue {
  readonly evalPred: EvalPredictionData;
  /** Under batch_eval_metrics, the call's `inputs` (the batch mapping), which stands for evalPred.inputs. */
  readonly inputsMapping?: BatchMapping;
}
/** batch_eval_metrics' `inputs`: the batch mapping, key by key (docs/trainer-semantics.md#batch_eval_metrics). */
export interface MappingValue {
  readonly mapping: BatchMapping;
}
export type NodeValue = { readonly tuple: TensorNode[] } | { readonly list: TensorNode[] };
export type Value = number | boolean | string | null | Tensor | NodeValue | Seq | EvalPredValue | MappingValue;

export function isSeq(v: Value): v is Seq {
  return typeof v === 'object' && v !== null && 'seq' in v;
}
export function isNode(v: Value): v is NodeValue {
  return typeof v === 'object' && v !== null && ('tuple' in v || 'list' in v);
}
export function isEvalPred(v: Value): v is EvalPredValue {
  return typeof v === 'object' && v !== null && 'evalPred' in v;
}
export function isMapping(v: Value): v is MappingValue {
  return typeof v === 'object' && v !== null && 'mapping' in v;
}

export function typeName(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (v instanceof Tensor) return `${v.dtype} array`;
  if (isSeq(v)) return 'tuple';
  if (isEvalPred(v)) return 'EvalPrediction';
  if (isMapping(v)) return 'BatchEncoding';
  return 'tuple' in v ? 'tuple of arrays' : 'list of per-batch arrays';
}

export function formatNumber(v: number, dtype?: string): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  let text = String(v);
  // float32/float16 elements are shown as NumPy shows them: the shortest text that round-trips in that width.
  if (dtype === 'float32' || dtype === 'float16') {
    const digits = dtype === 'float16' ? 5 : 9;
    for (let p = 1; p <= digits; p++) {
      const n = Number(v.toPrecision(p));
      const back = dtype === 'float32' ? Math.fround(n) : halfToFloat(floatToHalf(n));
      if (back === v || p === digits) {
        text = String(n);
        break;
      }
    }
  }
  // A float array element keeps its point (NumPy: 2.0, not 2).
  if (dtype?.startsWith('float') && Number.isInteger(v) && !/e/.test(text)) text += '.0';
  return text;
}

/**
 * A tensor's statistics in one line, as the Variables view shows them: 'min 0, max 3, mean 1.5, std 1.11803,
 * -100 ×2' (six significant digits). A paused Python frame shows the same line from
 * src/python/evalpred/_summary.py `stats_text`; test/unit/pySummary.test.ts pins the two equal.
 */
export function statisticsText(s: TensorStats): string {
  const f = (x: number | null) => (x === null ? 'n/a' : formatNumber(Number(x.toPrecision(6))));
  const parts = [`min ${f(s.min)}`, `max ${f(s.max)}`, `mean ${f(s.mean)}`, `std ${f(s.std)}`];
  if (s.nanCount) parts.push(`NaN ×${s.nanCount}`);
  if (s.posInfCount + s.negInfCount) parts.push(`inf ×${s.posInfCount + s.negInfCount}`);
  if (s.minus100Count) parts.push(`-100 ×${s.minus100Count}`);
  return parts.join(', ');
}

export function pyString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** NumPy-style nested list text, eliding the middle of long axes ("..."). */
export function previewTensor(t: Tensor, edge = 3): string {
  const fmt = (flat: number) => (t.dtype === 'bool' ? (t.at(flat) ? 'True' : 'False') : formatNumber(t.at(flat), t.dtype));
  if (t.ndim === 0) return fmt(0);
  const strides = t.strides;
  const rec = (axis: number, offset: number): string => {
    const n = t.shape[axis];
    const idx = n > 2 * edge + 1 ? [...Array(edge).keys(), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)] : [...Array(n).keys()];
    const parts = idx.map((i) => (i < 0 ? '...' : axis === t.ndim - 1 ? fmt(offset + i * strides[axis]) : rec(axis + 1, offset + i * strides[axis])));
    return `[${parts.join(', ')}]`;
  };
  return rec(0, 0);
}

export function formatValue(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return pyString(v);
  if (v instanceof Tensor) return v.ndim === 0 ? previewTensor(v) : `${v.toString()} ${previewTensor(v)}`;
  if (isSeq(v)) return v.seq.length === 1 ? `(${formatValue(v.seq[0])},)` : `(${v.seq.map(formatValue).join(', ')})`;
  if (isEvalPred(v)) {
    const ep = v.evalPred;
    const f = (n: TensorNode | null) => (n ? summary(n) : 'None');
    const inputs = v.inputsMapping ? mappingSummary(v.inputsMapping) : f(ep.inputs);
    return `EvalPrediction(predictions=${f(ep.predictions)}, label_ids=${f(ep.labelIds)}, inputs=${inputs}, losses=${f(ep.losses)})`;
  }
  if (isMapping(v)) return mappingSummary(v.mapping);
  return summary(v);
}

/** A batch mapping's keys and shapes as a Python dict reads: `{'input_ids': int64[4, 12], 'labels': int64[4]}`. */
export function mappingSummary(m: BatchMapping): string {
  return `{${m.map(([k, n]) => `${pyString(k)}: ${summary(n)}`).join(', ')}}`;
}

/** One line naming a node's structure: `float32[872, 2]`, `tuple(float32[8, 3], float32[8, 8])`. */
export function summary(n: TensorNode): string {
  if (n instanceof Tensor) return n.toString();
  if ('tuple' in n) return `tuple(${n.tuple.map(summary).join(', ')})`;
  return `list of ${n.list.length} batches [${n.list.slice(0, 3).map(summary).join(', ')}${n.list.length > 3 ? ', ...' : ''}]`;
}
