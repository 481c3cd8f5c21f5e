// Turning what a metric function holds (our Tensor, a typed array, a plain or nested JS array) into flat
// numbers, with errors that say which argument and which position is wrong. Tensors are recognised by
// shape (`shape`, `size`, `at`), not `instanceof`: a user's metric bundle may carry its own copy of the
// Tensor class.
import { EvalpredError } from '../../errors';

export interface TensorLike {
  readonly shape: readonly number[];
  readonly size: number;
  at(flat: number): number;
}

/** Anything a label/prediction/loss argument may be. */
export type NumericInput = ArrayLike<number | bigint> | TensorLike | NestedInput[];
type NestedInput = number | bigint | NestedInput[];

export function isTensorLike(x: unknown): x is TensorLike {
  const t = x as TensorLike | null;
  return !!t && typeof t === 'object' && Array.isArray(t.shape) && typeof t.size === 'number' && typeof t.at === 'function';
}

function describe(x: NumericInput): string {
  return isTensorLike(x) ? `a tensor of shape [${x.shape.join(', ')}]` : `${x.length} values`;
}

/** Flat float64 copy of `x` (nested arrays flattened in C order); `name` is used in errors. */
export function toNumbers(x: NumericInput, name: string): Float64Array {
  if (x === null || x === undefined || (typeof x !== 'object' && typeof x !== 'string')) {
    throw new EvalpredError(`${name} must be an array or a tensor of numbers, got ${x === null ? 'null' : typeof x}`, { tensor: name });
  }
  if (typeof x === 'string') throw new EvalpredError(`${name} must be an array or a tensor of numbers, got a string`, { tensor: name });
  if (isTensorLike(x)) {
    const out = new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) out[i] = x.at(i);
    return out;
  }
  const flat: number[] = [];
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'number') flat.push(v);
    else if (typeof v === 'bigint') flat.push(Number(v));
    else if (typeof v === 'boolean') flat.push(v ? 1 : 0);
    else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const a = v as ArrayLike<unknown>;
      for (let i = 0; i < a.length; i++) visit(a[i], `${path}[${i}]`);
    } else {
      throw new EvalpredError(`${path} is ${v === null ? 'null' : typeof v}, not a number`, { tensor: name });
    }
  };
  if (ArrayBuffer.isView(x) && !(x instanceof DataView) && !(x instanceof BigInt64Array) && !(x instanceof BigUint64Array)) {
    return Float64Array.from(x as ArrayLike<number>);
  }
  const a = x as ArrayLike<unknown>;
  if (typeof a.length !== 'number') throw new EvalpredError(`${name} must be an array or a tensor of numbers`, { tensor: name });
  for (let i = 0; i < a.length; i++) visit(a[i], `${name}[${i}]`);
  return Float64Array.from(flat);
}

/** Both vectors, flattened, checked of equal size (and non-empty unless `allowEmpty`, where sklearn returns 0.0 / NaN). */
export function pairOf(a: NumericInput, aName: string, b: NumericInput, bName: string, allowEmpty = false): [Float64Array, Float64Array] {
  const x = toNumbers(a, aName);
  const y = toNumbers(b, bName);
  if (x.length !== y.length) {
    const hint =
      y.length > 0 && x.length > y.length && x.length % y.length === 0
        ? ` (${aName} has ${x.length / y.length} values per ${bName} value: if these are logits, take argmax(-1) first)`
        : '';
    throw new EvalpredError(`${aName} (${describe(a)}) and ${bName} (${describe(b)}) must have the same number of elements${hint}`, {
      tensor: aName,
    });
  }
  if (x.length === 0 && !allowEmpty) throw new EvalpredError(`${aName} and ${bName} are empty: there is nothing to score`, { tensor: aName });
  return [x, y];
}

/** Checks every value is an integer class id (not a logit or probability). */
export function checkClassIds(v: Float64Array, name: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i])) {
      throw new EvalpredError(
        `${name}[${i}] is ${v[i]}, not an integer class id: pass class ids (for logits, argmax(-1) of them), not scores`,
        { tensor: name, row: i },
      );
    }
  }
}

/** Strings argument check: an array whose items are all strings. */
export function checkStrings(x: unknown, name: string): asserts x is string[] {
  if (!Array.isArray(x)) throw new EvalpredError(`${name} must be an array of strings, got ${x === null ? 'null' : typeof x}`, { tensor: name });
  x.forEach((s, i) => {
    if (typeof s !== 'string') throw new EvalpredError(`${name}[${i}] is ${s === null ? 'null' : typeof s}, not a string`, { tensor: name, row: i });
  });
}

/** Python's str.split() with no argument: split on Unicode whitespace as str.isspace() defines it, drop empties. */
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
export function pySplit(s: string): string[] {
  return s.split(PY_WHITESPACE).filter((t) => t.length > 0);
}

/** Python's Counter(tokens). */
export function countTokens(tokens: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of tokens) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** sum((a & b).values()): the multiset overlap of two counters. */
export function overlap(a: Map<string, number>, b: Map<string, number>): number {
  let n = 0;
  for (const [k, c] of a) n += Math.min(c, b.get(k) ?? 0);
  return n;
}

const warned = new Set<string>();
/** sklearn's UndefinedMetricWarning, once per distinct message per process (as Python's default filter shows it). */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, 'UndefinedMetricWarning');
}

/** A 2-D input's [rows, cols] (a tensor of rank 2, or an array of equal-length arrays); null for anything else. */
export function matrixShape(x: NumericInput): [number, number] | null {
  if (isTensorLike(x)) return x.shape.length === 2 ? [x.shape[0], x.shape[1]] : null;
  if (!Array.isArray(x) || x.length === 0 || !x.every((r) => Array.isArray(r) || ArrayBuffer.isView(r))) return null;
  const cols = (x[0] as ArrayLike<unknown>).length;
  if (!x.every((r) => (r as ArrayLike<unknown>).length === cols && Array.from(r as ArrayLike<unknown>).every((v) => !Array.isArray(v)))) return null;
  return [x.length, cols];
}

/** sample_weight: one finite number per sample (n of them), or null when not given. */
export function sampleWeights(w: NumericInput | undefined, n: number): Float64Array | null {
  if (w === undefined || w === null) return null;
  const out = toNumbers(w, 'sampleWeight');
  if (out.length !== n) {
    throw new EvalpredError(`sampleWeight has ${out.length} values but there are ${n} samples: give one weight per sample (sklearn's sample_weight)`, { tensor: 'sampleWeight' });
  }
  out.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new EvalpredError(`sampleWeight[${i}] is ${v}, not a finite number`, { tensor: 'sampleWeight', row: i });
  });
  return out;
}
