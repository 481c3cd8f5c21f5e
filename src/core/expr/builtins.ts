// The expression language's built-in functions and methods, one table: evaluation looks them up here, the
// Debug Console's `help` lists them from here (helpLines), and completions offer them from here. Each entry
// says how it is called, how many arguments it takes, what it does, and its implementation (a generator, so a
// long computation yields between slices; see ./slices.ts).
import { DTYPES, DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { walkNumbers } from '../tensor/blocks';
import { Gen, IndexError, MAX_RESULT_ELEMENTS, Reduction, Work, argExtremeAxis, checkResultSize, mapTensor, reduce } from './tensorOps';
import { Value, isMapping, isNode, isSeq, typeName } from './values';

/** What an implementation gets from the evaluator: its arguments (evaluated) and helpers that name positions. */
export interface BuiltinCall {
  name: string;
  /** Evaluated arguments; for a method call the object comes first. */
  args: Value[];
  /** Column of argument i (for errors). */
  argPos(i: number): number;
  /** Column of the call itself. */
  pos: number;
  fail(pos: number, msg: string): never;
  /** Argument i as an array (numbers and lists of numbers become arrays). */
  tensor(i: number): Tensor;
  /** Optional integer argument i (`axis`), undefined when absent or None. */
  axis(i: number): number | undefined;
  /** Run a tensor operation, turning its plain errors into errors at `pos`. */
  guard<T>(pos: number, fn: () => Gen<T>): Gen<T>;
  /** Token ids -> text, when a tokenizer is loaded. */
  decode?(ids: number[]): string;
}

export interface Builtin {
  name: string;
  /** How to call it, as `help` shows it. */
  usage: string;
  /** Fewest and most arguments (for a method, the object counts as the first). */
  arity: [number, number];
  /** One line for `help` and completions. */
  description: string;
  /** Callable as `f(x)`. */
  function: boolean;
  /** Callable as `x.f()` on an array. */
  method: boolean;
  impl(c: BuiltinCall): Gen<Value>;
}

/** Token ids decode() turns into text in one evaluation (the text is shown whole). */
const MAX_DECODE_IDS = 100_000;

const scalarOr = (t: Tensor, orig: Value): Value => (orig instanceof Tensor ? t : t.at(0));

function* reduction(c: BuiltinCall): Gen<Value> {
  const { name } = c;
  const t = c.tensor(0);
  const axis = c.axis(1);
  if (t.size === 0 && (name === 'min' || name === 'max')) c.fail(c.argPos(0), `${name}() of an empty array`);
  const isInt = !DTYPES[t.dtype].isFloat;
  const outType: DType = name === 'mean' ? 'float64' : isInt ? (t.dtype === 'bool' && name !== 'sum' ? 'bool' : 'int64') : t.dtype === 'float64' ? 'float64' : 'float32';
  return yield* c.guard(c.pos, () => reduce(t, axis, outType, name as Reduction));
}

function* argExtreme(c: BuiltinCall): Gen<Value> {
  const t = c.tensor(0);
  const axis = c.axis(1);
  const r = yield* c.guard(c.pos, () => argExtremeAxis(t, axis, c.name === 'argmin'));
  return axis === undefined ? r.at(0) : r;
}

function* softmax(t: Tensor, axis: number): Gen<Tensor> {
  const ax = axis < 0 ? axis + t.ndim : axis;
  if (ax < 0 || ax >= t.ndim) throw new IndexError(`axis ${axis} is out of bounds for a ${t.ndim}-d array`);
  const outer = t.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const len = t.shape[ax];
  const inner = t.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  checkResultSize(t.size, t);
  const out = Tensor.full(t.dtype === 'float64' ? 'float64' : 'float32', t.shape);
  const work = new Work();
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => o * len * inner + k * inner + i;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, t.at(at(k)));
      let s = 0;
      for (let k = 0; k < len; k++) s += Math.exp(t.at(at(k)) - m);
      for (let k = 0; k < len; k++) out.set(at(k), Math.exp(t.at(at(k)) - m) / s);
      if (work.tick(len)) yield;
    }
  }
  return out;
}

function decodeIds(c: BuiltinCall): Value {
  const pos = c.argPos(0);
  const dec = c.decode;
  if (!dec) c.fail(pos, 'decode() needs the model\'s tokenizer, and none is loaded for this run (launch with "model" pointing at a folder with tokenizer.json)');
  const ids = c.tensor(0);
  if (ids.size > MAX_DECODE_IDS) c.fail(pos, `decode() of ${ids.size} token ids is more than the ${MAX_DECODE_IDS} shown at once; decode fewer rows (e.g. decode(inputs[:10]))`);
  if (DTYPES[ids.dtype].isFloat) c.fail(pos, `decode() takes token ids (an integer array), got ${ids.dtype} — logits? try decode(argmax(predictions[i], -1))`);
  // -100 (and any negative id) is label padding, never a token: drop it instead of failing as the
  // tokenizer in Python would ("out of range integral type conversion").
  const row = (t: Tensor) => {
    const out: number[] = [];
    for (let i = 0; i < t.size; i++) {
      const x = t.at(i);
      if (x >= 0) out.push(x);
    }
    return dec!(out);
  };
  if (ids.ndim <= 1) return row(ids);
  if (ids.ndim === 2) return { seq: Array.from({ length: ids.shape[0] }, (_, i) => row(ids.row(i))) };
  return c.fail(pos, `decode() takes a 1-d row of ids or a 2-d batch, got shape (${ids.shape.join(', ')})`);
}

const fn = (b: Omit<Builtin, 'function' | 'method'> & Partial<Pick<Builtin, 'function' | 'method'>>): Builtin => ({ function: true, method: false, ...b });

/** Every built-in, in the order error messages and `help` list them. */
export const BUILTINS: readonly Builtin[] = [
  fn({ name: 'argmax', usage: 'argmax(x[, axis])', arity: [1, 2], method: true, description: 'index of the largest value (over all elements, or along axis); NaN wins, ties take the first', impl: argExtreme }),
  fn({ name: 'argmin', usage: 'argmin(x[, axis])', arity: [1, 2], method: true, description: 'index of the smallest value (over all elements, or along axis)', impl: argExtreme }),
  fn({ name: 'decode', usage: 'decode(ids)', arity: [1, 1], description: "token ids (a row, or a 2-d batch) to text with the model's tokenizer; negative ids (-100) are dropped", *impl(c) { return decodeIds(c); } }),
  fn({ name: 'mean', usage: 'mean(x[, axis])', arity: [1, 2], method: true, description: 'mean (float64), over all elements or along axis', impl: reduction }),
  fn({ name: 'sum', usage: 'sum(x[, axis])', arity: [1, 2], method: true, description: 'sum, over all elements or along axis', impl: reduction }),
  fn({ name: 'min', usage: 'min(x[, axis])', arity: [1, 2], method: true, description: 'smallest value (NaN propagates), over all elements or along axis', impl: reduction }),
  fn({ name: 'max', usage: 'max(x[, axis])', arity: [1, 2], method: true, description: 'largest value (NaN propagates), over all elements or along axis', impl: reduction }),
  fn({
    name: 'count',
    usage: 'count(x)',
    arity: [1, 1],
    description: 'how many elements are non-zero / True, e.g. count(label_ids == -100)',
    *impl(c) {
      const t = c.tensor(0);
      let n = 0;
      // Block by block (a file-backed array of any size); int64 past 2^53 is read rounded, still non-zero.
      yield* walkNumbers(t, false, (values, from, to) => {
        for (let i = from; i < to; i++) if (values[i] !== 0) n++;
      });
      return n;
    },
  }),
  fn({
    name: 'len',
    usage: 'len(x)',
    arity: [1, 1],
    description: 'length of the first axis, of a tuple/list, of a string, or the number of keys of the batch mapping',
    *impl(c) {
      const v = c.args[0];
      if (v instanceof Tensor) {
        if (v.ndim === 0) c.fail(c.argPos(0), 'len() of a 0-d array');
        return v.shape[0];
      }
      if (isSeq(v)) return v.seq.length;
      if (isNode(v)) return 'tuple' in v ? v.tuple.length : v.list.length;
      if (isMapping(v)) return v.mapping.length;
      if (typeof v === 'string') return v.length;
      return c.fail(c.argPos(0), `len() of a ${typeName(v)}`);
    },
  }),
  fn({
    name: 'abs',
    usage: 'abs(x)',
    arity: [1, 1],
    description: 'absolute value, element-wise',
    *impl(c) {
      const t = c.tensor(0);
      return scalarOr(yield* mapTensor(t, t.dtype, Math.abs), c.args[0]);
    },
  }),
  fn({
    name: 'exp',
    usage: 'exp(x)',
    arity: [1, 1],
    description: 'e to the power x, element-wise (float32 for float16/float32, else float64)',
    *impl(c) {
      const t = c.tensor(0);
      return scalarOr(yield* mapTensor(t, t.dtype === 'float32' || t.dtype === 'float16' ? 'float32' : 'float64', Math.exp), c.args[0]);
    },
  }),
  fn({
    name: 'softmax',
    usage: 'softmax(x[, axis])',
    arity: [1, 2],
    description: 'softmax along axis (default the last), e.g. softmax(predictions[0])',
    *impl(c) {
      const t = c.tensor(0);
      if (t.ndim === 0) c.fail(c.argPos(0), 'softmax() needs at least one axis');
      const axis = c.axis(1) ?? -1;
      return yield* c.guard(c.pos, () => softmax(t, axis));
    },
  }),
  fn({
    name: 'unique',
    usage: 'unique(x)',
    arity: [1, 1],
    description: 'the distinct values, sorted (NaN last)',
    *impl(c) {
      const t = c.tensor(0);
      const set = new Set<number>();
      // Block by block; the distinct values are the result, so they are what is bounded.
      yield* c.guard(c.pos, () => walkNumbers(t, true, (values, from, to) => {
        for (let i = from; i < to; i++) set.add(values[i]);
        if (set.size > MAX_RESULT_ELEMENTS) {
          throw new IndexError(`unique() of this ${t} array found more than ${MAX_RESULT_ELEMENTS} distinct values, more than the Debug Console keeps; select fewer rows (e.g. [:1000]) or round first`);
        }
      }));
      const vals = [...set].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
      return Tensor.from(t.dtype, [vals.length], vals);
    },
  }),
  fn({
    name: 'shape',
    usage: 'shape(x)',
    arity: [1, 1],
    description: 'the shape of an array, as x.shape',
    *impl(c) {
      return { seq: [...c.tensor(0).shape] };
    },
  }),
  fn({
    name: 'tolist',
    usage: 'x.tolist()',
    arity: [1, Infinity], // extra arguments were always ignored
    function: false,
    method: true,
    description: 'the array itself (the Debug Console shows arrays as lists already)',
    *impl(c) {
      return c.args[0];
    },
  }),
];

const BY_NAME = new Map(BUILTINS.map((b) => [b.name, b]));

/** The built-in called `name` as a function (`f(x)`) or as a method (`x.f()`), if there is one. */
export function builtin(name: string, as: 'function' | 'method'): Builtin | undefined {
  const b = BY_NAME.get(name);
  return b && b[as] ? b : undefined;
}

/** Names callable as functions, in table order (error messages list them). */
export const FUNCTIONS: readonly string[] = BUILTINS.filter((b) => b.function).map((b) => b.name);
/** Names callable as array methods. */
export const METHODS: readonly string[] = BUILTINS.filter((b) => b.method).map((b) => b.name);

/** One line per built-in for the Debug Console's `help`: usage, then what it does. */
export function helpLines(): string[] {
  const w = Math.max(...BUILTINS.map((b) => b.usage.length));
  return BUILTINS.map((b) => `  ${b.usage.padEnd(w)}  ${b.description}${b.function && b.method ? ` (also x.${b.name}())` : ''}`);
}
