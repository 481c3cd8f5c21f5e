// Evaluates a parsed Debug Console expression against the paused EvalPrediction. Only the names, attributes
// and functions listed here exist: no property of a JS object is ever reached by a user-given name.
import { DTYPES, DType } from '../tensor/dtype';
import { EvalPredictionData, Tensor, TensorNode } from '../tensor/tensor';
import { ExprError } from './errors';
import { IndexItem, Node, parse } from './parser';
import { EvalpredError } from '../errors';
import { Axis, IndexError, checkResultSize, elementwise, indexTensor, mapTensor, reduce, takeRows } from './tensorOps';
import { Value, isEvalPred, isNode, isSeq, typeName } from './values';

export interface ExprContext {
  evalPred: EvalPredictionData;
  /** Token ids -> text (the model's tokenizer); absent when no tokenizer is known. */
  decode?(ids: number[]): string;
  /** Extra names (e.g. `sample`, the current sample index). */
  names?: Record<string, Value>;
}

export const FUNCTIONS = ['argmax', 'argmin', 'decode', 'mean', 'sum', 'min', 'max', 'count', 'len', 'abs', 'exp', 'softmax', 'unique', 'shape'] as const;
const METHODS = new Set(['argmax', 'argmin', 'mean', 'sum', 'min', 'max', 'tolist']);

/** Longer expressions are refused before parsing (a pasted array, not a question about the predictions). */
export const MAX_EXPRESSION_CHARS = 4096;

/** Token ids decode() turns into text in one evaluation (the text is shown whole). */
const MAX_DECODE_IDS = 100_000;

export function evaluateExpression(src: string, ctx: ExprContext): Value {
  if (src.length > MAX_EXPRESSION_CHARS) {
    throw new EvalpredError(
      `the expression is ${src.length} characters long; the Debug Console takes expressions of up to ${MAX_EXPRESSION_CHARS} characters over the EvalPrediction (names such as predictions, label_ids, functions such as argmax)`,
    );
  }
  const ast = parse(src);
  try {
    return new Evaluator(src, ctx).eval(ast);
  } catch (e) {
    // A size refusal from a tensor operation outside a positioned guard: still one clear paragraph.
    if (e instanceof IndexError) throw new ExprError(e.message, src, 0);
    throw e;
  }
}

class Evaluator {
  constructor(
    private readonly src: string,
    private readonly ctx: ExprContext,
  ) {}

  private fail(pos: number, msg: string): never {
    throw new ExprError(`${msg} (at column ${pos + 1})`, this.src, pos);
  }

  /** Run a tensor operation, turning its plain errors into positioned ones. */
  private guard<T>(pos: number, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ExprError) throw e;
      if (e instanceof IndexError || e instanceof RangeError || (e instanceof Error && /tensor|shape|index/i.test(e.message))) this.fail(pos, e.message);
      throw e;
    }
  }

  eval(n: Node): Value {
    switch (n.type) {
      case 'num':
        return n.value;
      case 'str':
        return n.value;
      case 'name':
        return this.name(n.name, n.pos);
      case 'attr':
        return this.attr(this.eval(n.obj), n.name, n.pos);
      case 'index':
        return this.index(this.eval(n.obj), n.items, n.pos);
      case 'call':
        return this.call(n);
      case 'unary':
        return this.unary(n.op, this.eval(n.arg), n.pos);
      case 'binary':
        return this.binary(n.op, this.eval(n.left), this.eval(n.right), n.pos);
    }
  }

  private field(key: keyof EvalPredictionData): Value {
    return this.ctx.evalPred[key];
  }

  private name(name: string, pos: number): Value {
    switch (name) {
      case 'predictions':
      case 'preds':
      case 'logits':
        return this.field('predictions');
      case 'label_ids':
      case 'labelIds':
      case 'labels':
        return this.field('labelIds');
      case 'inputs':
        return this.field('inputs');
      case 'losses':
        return this.field('losses');
      case 'eval_pred':
      case 'evalPred':
      case 'p':
        return { evalPred: this.ctx.evalPred };
      case 'True':
      case 'true':
        return true;
      case 'False':
      case 'false':
        return false;
      case 'None':
      case 'null':
        return null;
    }
    if (this.ctx.names && Object.prototype.hasOwnProperty.call(this.ctx.names, name)) return this.ctx.names[name];
    if ((FUNCTIONS as readonly string[]).includes(name)) this.fail(pos, `${name} is a function: call it, e.g. ${name}(predictions)`);
    this.fail(
      pos,
      `unknown name '${name}'. Names: eval_pred, predictions, label_ids, inputs, losses${this.ctx.names ? ', ' + Object.keys(this.ctx.names).join(', ') : ''}; ` +
        `functions: ${FUNCTIONS.join(', ')}`,
    );
  }

  private attr(obj: Value, name: string, pos: number): Value {
    if (isEvalPred(obj)) {
      const map: Record<string, keyof EvalPredictionData> = { predictions: 'predictions', label_ids: 'labelIds', labelIds: 'labelIds', inputs: 'inputs', losses: 'losses' };
      if (Object.prototype.hasOwnProperty.call(map, name)) return this.ctx.evalPred[map[name]];
      this.fail(pos, `EvalPrediction has no attribute '${name}' (it has predictions, label_ids, inputs, losses)`);
    }
    if (obj instanceof Tensor) {
      switch (name) {
        case 'shape':
          return { seq: [...obj.shape] };
        case 'dtype':
          return obj.dtype;
        case 'ndim':
          return obj.ndim;
        case 'size':
          return obj.size;
      }
      this.fail(pos, `an array has no attribute '${name}' (try shape, dtype, ndim, size, or a method: ${[...METHODS].join(', ')})`);
    }
    if (isNode(obj) && name === 'shape') {
      this.fail(pos, `this is a ${typeName(obj)}, not an array, so it has no .shape; index it first, e.g. [0].shape (Trainer passes a tuple when the model returns several outputs)`);
    }
    this.fail(pos, `a ${typeName(obj)} has no attribute '${name}'`);
  }

  private int(v: Value, pos: number, what: string): number {
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (v instanceof Tensor && v.ndim === 0 && !DTYPES[v.dtype].isFloat) return v.at(0);
    return this.fail(pos, `${what} must be an integer, got ${typeName(v)}`);
  }

  private index(obj: Value, items: IndexItem[], pos: number): Value {
    if (obj === null) this.fail(pos, 'cannot index None (this field is not in the EvalPrediction)');
    if (isEvalPred(obj)) {
      // Python's EvalPrediction iterates as (predictions, label_ids[, inputs][, losses]).
      const ep = obj.evalPred;
      const parts = [ep.predictions, ep.labelIds, ep.inputs, ep.losses].filter((x, i) => i < 2 || x !== null) as (TensorNode | null)[];
      return this.index({ seq: parts as Value[] }, items, pos);
    }
    if (isNode(obj) || isSeq(obj) || typeof obj === 'string') {
      if (items.length !== 1) this.fail(pos, `a ${typeName(obj)} takes one index; write x[0][2] rather than x[0, 2]`);
      const all: Value[] = isSeq(obj) ? obj.seq : typeof obj === 'string' ? [...obj] : 'tuple' in obj ? obj.tuple : obj.list;
      const it = items[0];
      if (it.type === 'slice') {
        const ax = this.axisOf(it) as Extract<Axis, { kind: 'slice' }>;
        const n = all.length;
        const t = Tensor.from('int64', [n], [...Array(n).keys()]);
        const picked = indexTensor(t, [ax]).toArray() as number[];
        const sub = picked.map((i) => all[i]);
        if (typeof obj === 'string') return sub.join('');
        if (isSeq(obj)) return { seq: sub };
        return 'tuple' in obj ? { tuple: sub as TensorNode[] } : { list: sub as TensorNode[] };
      }
      const i = this.int(this.eval(it), it.pos, 'an index');
      const n = all.length;
      if (i < -n || i >= n) this.fail(it.pos, `index ${i} is out of range for a ${typeName(obj)} of length ${n}`);
      return all[i < 0 ? i + n : i];
    }
    if (obj instanceof Tensor) {
      if (items.length === 1 && items[0].type !== 'slice') {
        const sel = this.eval(items[0]);
        if (sel instanceof Tensor && sel.ndim > 0) return this.guard(items[0].pos, () => takeRows(obj, sel));
      }
      const axes = items.map((it) => this.axisOf(it));
      return this.guard(pos, () => indexTensor(obj, axes));
    }
    return this.fail(pos, `a ${typeName(obj)} cannot be indexed`);
  }

  private axisOf(it: IndexItem): Axis {
    if (it.type === 'slice') {
      const b = (n?: Node) => (n ? this.int(this.eval(n), n.pos, 'a slice bound') : undefined);
      return { kind: 'slice', start: b(it.start), stop: b(it.stop), step: b(it.step) };
    }
    return { kind: 'int', index: this.int(this.eval(it), it.pos, 'an index') };
  }

  private tensorArg(v: Value, pos: number, fn: string): Tensor {
    if (v instanceof Tensor) return v;
    if (typeof v === 'number' || typeof v === 'boolean') return Tensor.from(typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int64' : 'float64', [], [Number(v)]);
    if (isSeq(v) && v.seq.every((x) => typeof x === 'number')) return Tensor.from('int64', [v.seq.length], v.seq as number[]);
    if (isNode(v)) {
      this.fail(pos, `${fn}() needs an array, but this is a ${typeName(v)} (${'tuple' in v ? v.tuple.length : v.list.length} items); pick one, e.g. predictions[0]`);
    }
    return this.fail(pos, `${fn}() needs an array, got ${typeName(v)}`);
  }

  private call(n: Extract<Node, { type: 'call' }>): Value {
    let name: string;
    let args: Value[];
    if (n.callee.type === 'name') {
      name = n.callee.name;
      if (!(FUNCTIONS as readonly string[]).includes(name)) this.fail(n.callee.pos, `unknown function '${name}'; functions: ${FUNCTIONS.join(', ')}`);
      args = n.args.map((a) => this.eval(a));
    } else if (n.callee.type === 'attr') {
      name = n.callee.name;
      const self = this.eval(n.callee.obj);
      if (!(self instanceof Tensor) || !METHODS.has(name)) this.fail(n.callee.pos, `a ${typeName(self)} has no method '${name}'`);
      args = [self, ...n.args.map((a) => this.eval(a))];
      if (name === 'tolist') return self as Tensor;
    } else {
      this.eval(n.callee); // report an unknown name inside first
      return this.fail(n.pos, 'only functions can be called');
    }
    const argPos = (i: number) => n.args[n.callee.type === 'attr' ? i - 1 : i]?.pos ?? n.pos;
    const axisArg = (i: number): number | undefined => (args.length > i && args[i] !== null ? this.int(args[i], argPos(i), 'axis') : undefined);
    const need = (min: number, max: number) => {
      if (args.length < min || args.length > max) this.fail(n.pos, `${name}() takes ${min === max ? min : `${min} to ${max}`} argument${max > 1 ? 's' : ''}, got ${args.length}`);
    };
    switch (name) {
      case 'len': {
        need(1, 1);
        const v = args[0];
        if (v instanceof Tensor) {
          if (v.ndim === 0) this.fail(argPos(0), 'len() of a 0-d array');
          return v.shape[0];
        }
        if (isSeq(v)) return v.seq.length;
        if (isNode(v)) return 'tuple' in v ? v.tuple.length : v.list.length;
        if (typeof v === 'string') return v.length;
        return this.fail(argPos(0), `len() of a ${typeName(v)}`);
      }
      case 'shape': {
        need(1, 1);
        return { seq: [...this.tensorArg(args[0], argPos(0), name).shape] };
      }
      case 'argmax':
      case 'argmin': {
        need(1, 2);
        const t = this.tensorArg(args[0], argPos(0), name);
        const axis = axisArg(1);
        if (name === 'argmax') {
          if (axis === undefined) return this.guard(n.pos, () => t.reshape([t.size]).argmax(0).at(0));
          return this.guard(n.pos, () => t.argmax(axis));
        }
        const neg = mapTensor(t, 'float64', (x) => -x);
        if (axis === undefined) return this.guard(n.pos, () => neg.reshape([t.size]).argmax(0).at(0));
        return this.guard(n.pos, () => neg.argmax(axis));
      }
      case 'decode':
        need(1, 1);
        return this.decode(args[0], argPos(0));
      case 'mean':
      case 'sum':
      case 'min':
      case 'max': {
        need(1, 2);
        const t = this.tensorArg(args[0], argPos(0), name);
        const axis = axisArg(1);
        if (t.size === 0 && (name === 'min' || name === 'max')) this.fail(argPos(0), `${name}() of an empty array`);
        const isInt = !DTYPES[t.dtype].isFloat;
        const outType: DType = name === 'mean' ? 'float64' : isInt ? (t.dtype === 'bool' && name !== 'sum' ? 'bool' : 'int64') : t.dtype === 'float64' ? 'float64' : 'float32';
        return this.guard(n.pos, () => {
          if (name === 'mean') return reduce(t, axis, outType, () => ({ acc: 0, n: 0 }), (s, v) => ((s.acc += v), s.n++), (s) => (s.n ? s.acc / s.n : NaN));
          if (name === 'sum') return reduce(t, axis, outType, () => ({ acc: 0, n: 0 }), (s, v) => void (s.acc += v), (s) => s.acc);
          const better = name === 'min' ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
          return reduce(
            t,
            axis,
            outType,
            () => ({ acc: NaN, n: 0 }),
            (s, v) => {
              if (s.n === -1) return; // NaN seen: NumPy propagates it
              if (v !== v) {
                s.acc = NaN;
                s.n = -1;
              } else if (s.n === 0 || better(v, s.acc)) {
                s.acc = v;
                s.n = 1;
              }
            },
            (s) => s.acc,
          );
        });
      }
      case 'count': {
        need(1, 1);
        const t = this.tensorArg(args[0], argPos(0), name);
        let c = 0;
        for (let i = 0; i < t.size; i++) if (t.at(i) !== 0) c++;
        return c;
      }
      case 'abs':
        need(1, 1);
        return this.scalarOr(mapTensor(this.tensorArg(args[0], argPos(0), name), this.tensorArg(args[0], argPos(0), name).dtype, Math.abs), args[0]);
      case 'exp': {
        need(1, 1);
        const t = this.tensorArg(args[0], argPos(0), name);
        return this.scalarOr(mapTensor(t, t.dtype === 'float32' || t.dtype === 'float16' ? 'float32' : 'float64', Math.exp), args[0]);
      }
      case 'softmax': {
        need(1, 2);
        const t = this.tensorArg(args[0], argPos(0), name);
        if (t.ndim === 0) this.fail(argPos(0), 'softmax() needs at least one axis');
        const axis = axisArg(1) ?? -1;
        return this.guard(n.pos, () => softmax(t, axis));
      }
      case 'unique': {
        need(1, 1);
        const t = this.tensorArg(args[0], argPos(0), name);
        const set = new Set<number>();
        for (let i = 0; i < t.size; i++) set.add(t.at(i));
        const vals = [...set].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
        return Tensor.from(t.dtype, [vals.length], vals);
      }
    }
    return this.fail(n.pos, `unknown function '${name}'`);
  }

  private scalarOr(t: Tensor, orig: Value): Value {
    return orig instanceof Tensor ? t : t.at(0);
  }

  private decode(v: Value, pos: number): Value {
    const dec = this.ctx.decode;
    if (!dec) this.fail(pos, 'decode() needs the model\'s tokenizer, and none is loaded for this run (launch with "model" pointing at a folder with tokenizer.json)');
    const ids = this.tensorArg(v, pos, 'decode');
    if (ids.size > MAX_DECODE_IDS) this.fail(pos, `decode() of ${ids.size} token ids is more than the ${MAX_DECODE_IDS} shown at once; decode fewer rows (e.g. decode(inputs[:10]))`);
    if (DTYPES[ids.dtype].isFloat) this.fail(pos, `decode() takes token ids (an integer array), got ${ids.dtype} — logits? try decode(argmax(predictions[i], -1))`);
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
    return this.fail(pos, `decode() takes a 1-d row of ids or a 2-d batch, got shape (${ids.shape.join(', ')})`);
  }

  private unary(op: string, v: Value, pos: number): Value {
    if (op === '~') {
      if (typeof v === 'boolean') return !v;
      if (v instanceof Tensor) {
        if (v.dtype === 'bool') return mapTensor(v, 'bool', (x) => (x ? 0 : 1));
        if (!DTYPES[v.dtype].isFloat) return mapTensor(v, v.dtype, (x) => ~x);
      }
      if (typeof v === 'number' && Number.isInteger(v)) return ~v;
      return this.fail(pos, `'~' / not needs a boolean or integer, got ${typeName(v)}`);
    }
    if (typeof v === 'number') return op === '-' ? -v : v;
    if (v instanceof Tensor) return op === '-' ? mapTensor(v, v.dtype === 'bool' ? 'int64' : v.dtype, (x) => -x) : v;
    return this.fail(pos, `unary '${op}' needs a number or an array, got ${typeName(v)}`);
  }

  private binary(op: string, a: Value, b: Value, pos: number): Value {
    const isScalar = (v: Value): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';
    if (typeof a === 'string' && typeof b === 'string') {
      if (op === '+') return a + b;
      if (op === '==') return a === b;
      if (op === '!=') return a !== b;
    }
    if (isSeq(a) && isSeq(b) && (op === '==' || op === '!=')) {
      const eq = a.seq.length === b.seq.length && a.seq.every((x, i) => x === b.seq[i]);
      return op === '==' ? eq : !eq;
    }
    if (a === null || b === null) {
      if (op === '==') return a === b;
      if (op === '!=') return a !== b;
    }
    const f = BINARY[op];
    if (!f) this.fail(pos, `unknown operator '${op}'`);
    if (isScalar(a) && isScalar(b)) {
      const r = f(Number(a), Number(b));
      return COMPARISONS.has(op) || ((op === '&' || op === '|') && typeof a === 'boolean' && typeof b === 'boolean') ? r !== 0 : r;
    }
    const ta = this.tensorArg(a, pos, `'${op}'`);
    const tb = this.tensorArg(b, pos, `'${op}'`);
    const dtype = resultType(op, ta, tb, isScalar(a), isScalar(b));
    if ((op === '&' || op === '|') && (DTYPES[ta.dtype].isFloat || DTYPES[tb.dtype].isFloat)) this.fail(pos, `'${op}' needs boolean or integer arrays`);
    return this.guard(pos, () => elementwise(ta, tb, dtype, f));
  }
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const BINARY: Record<string, (x: number, y: number) => number> = {
  '+': (x, y) => x + y,
  '-': (x, y) => x - y,
  '*': (x, y) => x * y,
  '/': (x, y) => x / y,
  '%': (x, y) => x - Math.floor(x / y) * y, // Python's modulo takes the sign of the divisor
  '==': (x, y) => +(x === y),
  '!=': (x, y) => +(x !== y),
  '<': (x, y) => +(x < y),
  '<=': (x, y) => +(x <= y),
  '>': (x, y) => +(x > y),
  '>=': (x, y) => +(x >= y),
  '&': (x, y) => x & y,
  '|': (x, y) => x | y,
};

/** NumPy-like result dtypes: comparisons give bool; ints stay int64 except under '/'; Python scalars do not widen float32. */
function resultType(op: string, a: Tensor, b: Tensor, aScalar: boolean, bScalar: boolean): DType {
  if (COMPARISONS.has(op)) return 'bool';
  if ((op === '&' || op === '|') && a.dtype === 'bool' && b.dtype === 'bool') return 'bool';
  const fa = DTYPES[a.dtype].isFloat;
  const fb = DTYPES[b.dtype].isFloat;
  if (!fa && !fb) return op === '/' ? 'float64' : 'int64';
  const floats = [aScalar ? null : a, bScalar ? null : b].filter((t): t is Tensor => !!t && DTYPES[t.dtype].isFloat);
  if (floats.some((t) => t.dtype === 'float64')) return 'float64';
  if (floats.length) return 'float32';
  return 'float64';
}

function softmax(t: Tensor, axis: number): Tensor {
  const ax = axis < 0 ? axis + t.ndim : axis;
  if (ax < 0 || ax >= t.ndim) throw new IndexError(`axis ${axis} is out of bounds for a ${t.ndim}-d array`);
  const outer = t.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const len = t.shape[ax];
  const inner = t.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  checkResultSize(t.size);
  const out = Tensor.full(t.dtype === 'float64' ? 'float64' : 'float32', t.shape);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => o * len * inner + k * inner + i;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, t.at(at(k)));
      let s = 0;
      for (let k = 0; k < len; k++) s += Math.exp(t.at(at(k)) - m);
      for (let k = 0; k < len; k++) out.set(at(k), Math.exp(t.at(at(k)) - m) / s);
    }
  }
  return out;
}
