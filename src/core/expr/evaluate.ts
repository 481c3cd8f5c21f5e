// Evaluates a parsed Debug Console expression against the paused EvalPrediction. Only the names, attributes
// and functions listed here and in ./builtins.ts exist: no property of a JS object is ever reached by a
// user-given name. The evaluator is a generator: it yields inside long loops, so evaluateSliced
// (./slices.ts) can run it in slices off the adapter's message loop, and evaluateExpression runs it through.
import { DTYPES, DType } from '../tensor/dtype';
import { BatchMapping, EvalPredictionData, EvalPredictionField, Tensor, TensorNode } from '../tensor/tensor';
import { ExprError } from './errors';
import { IndexItem, Node, parse } from './parser';
import { EvalpredError } from '../errors';
import { BuiltinCall, FUNCTIONS, METHODS, builtin } from './builtins';
import { Axis, Gen, IndexError, elementwise, indexTensor, mapTensor, takeRows } from './tensorOps';
import { EvalPredValue, MappingValue, Value, isEvalPred, isMapping, isNode, isSeq, typeName } from './values';

export interface ExprContext {
  evalPred: EvalPredictionData;
  /** Token ids -> text (the model's tokenizer); absent when no tokenizer is known. */
  decode?(ids: number[]): string;
  /** Extra names (e.g. `sample`, the current sample index). */
  names?: Record<string, Value>;
  /**
   * At a batch_eval_metrics stop with inputs included, the call's `inputs`: the whole batch mapping
   * (docs/trainer-semantics.md#batch_eval_metrics), so `inputs` means it instead of evalPred.inputs.
   */
  inputsMapping?: BatchMapping;
}

export { FUNCTIONS } from './builtins';

/** Longer expressions are refused before parsing (a pasted array, not a question about the predictions). */
export const MAX_EXPRESSION_CHARS = 4096;

/** Evaluate `src` to the end, synchronously (tests, small expressions). */
export function evaluateExpression(src: string, ctx: ExprContext): Value {
  const g = evaluationOf(src, ctx);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/**
 * The evaluation of `src` as a generator that yields between slices of work and returns the value. The
 * length check and parsing happen on the first next().
 */
export function* evaluationOf(src: string, ctx: ExprContext): Gen<Value> {
  if (src.length > MAX_EXPRESSION_CHARS) {
    throw new EvalpredError(
      `the expression is ${src.length} characters long; the Debug Console takes expressions of up to ${MAX_EXPRESSION_CHARS} characters over the EvalPrediction (names such as predictions, label_ids, functions such as argmax)`,
    );
  }
  const ast = parse(src);
  try {
    return yield* new Evaluator(src, ctx).eval(ast);
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
  *guard<T>(pos: number, fn: () => Gen<T>): Gen<T> {
    try {
      return yield* fn();
    } catch (e) {
      if (e instanceof ExprError) throw e;
      if (e instanceof IndexError || e instanceof RangeError || (e instanceof Error && /tensor|shape|index/i.test(e.message))) this.fail(pos, e.message);
      throw e;
    }
  }

  *eval(n: Node): Gen<Value> {
    switch (n.type) {
      case 'num':
        return n.value;
      case 'str':
        return n.value;
      case 'name':
        return this.name(n.name, n.pos);
      case 'attr':
        return this.attr(yield* this.eval(n.obj), n.name, n.pos);
      case 'index':
        return yield* this.index(yield* this.eval(n.obj), n.items, n.pos);
      case 'call':
        return yield* this.call(n);
      case 'unary':
        return yield* this.unary(n.op, yield* this.eval(n.arg), n.pos);
      case 'binary': {
        const a = yield* this.eval(n.left);
        return yield* this.binary(n.op, a, yield* this.eval(n.right), n.pos);
      }
    }
  }

  private field(key: EvalPredictionField): Value {
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
        return this.attr(this.evalPredValue(), 'inputs', pos);
      case 'losses':
        return this.field('losses');
      case 'eval_pred':
      case 'evalPred':
      case 'p':
        return this.evalPredValue();
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
    if (FUNCTIONS.includes(name)) this.fail(pos, `${name} is a function: call it, e.g. ${name}(predictions)`);
    this.fail(
      pos,
      `unknown name '${name}'. Names: eval_pred, predictions, label_ids, inputs, losses${this.ctx.names ? ', ' + Object.keys(this.ctx.names).join(', ') : ''}; ` +
        `functions: ${FUNCTIONS.join(', ')}`,
    );
  }

  private evalPredValue(): EvalPredValue {
    const m = this.ctx.inputsMapping;
    return m ? { evalPred: this.ctx.evalPred, inputsMapping: m } : { evalPred: this.ctx.evalPred };
  }

  /** The key's array of a batch mapping, or an error listing the keys it has. */
  private key(obj: MappingValue, key: string, pos: number, attribute: boolean): TensorNode {
    const hit = obj.mapping.find(([k]) => k === key);
    if (hit) return hit[1];
    const keys = obj.mapping.map(([k]) => k);
    const first = JSON.stringify(keys[0] ?? 'input_ids');
    return this.fail(
      pos,
      `the batch mapping (inputs at this batch_eval_metrics call) has no key ${attribute ? `or attribute '${key}'` : `'${key}'`}; its keys: ${keys.join(', ')}` +
        // `.shape` of the mapping: the user expected the ids array (what inputs is outside batch_eval_metrics).
        (attribute && (ARRAY_ATTRIBUTES.includes(key) || METHODS.includes(key)) ? `. Pick a key first, e.g. inputs[${first}].${key}` : ''),
    );
  }

  private attr(obj: Value, name: string, pos: number): Value {
    if (isMapping(obj)) return this.key(obj, name, pos, true);
    if (isEvalPred(obj)) {
      if (name === 'inputs' && obj.inputsMapping) return { mapping: obj.inputsMapping };
      const map: Record<string, EvalPredictionField> = { predictions: 'predictions', label_ids: 'labelIds', labelIds: 'labelIds', inputs: 'inputs', losses: 'losses' };
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
      this.fail(pos, `an array has no attribute '${name}' (try shape, dtype, ndim, size, or a method: ${METHODS.join(', ')})`);
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

  private *index(obj: Value, items: IndexItem[], pos: number): Gen<Value> {
    if (obj === null) this.fail(pos, 'cannot index None (this field is not in the EvalPrediction)');
    if (isEvalPred(obj)) {
      // Python's EvalPrediction iterates as (predictions, label_ids[, inputs][, losses]).
      const ep = obj.evalPred;
      const inputs: Value = obj.inputsMapping ? { mapping: obj.inputsMapping } : ep.inputs;
      const parts = [ep.predictions, ep.labelIds, inputs, ep.losses].filter((x, i) => i < 2 || x !== null) as Value[];
      return yield* this.index({ seq: parts }, items, pos);
    }
    if (isMapping(obj)) {
      const it = items[0];
      const key = items.length === 1 && it.type !== 'slice' ? yield* this.eval(it) : undefined;
      if (typeof key === 'string') return this.key(obj, key, it.pos, false);
      const keys = obj.mapping.map(([k]) => k);
      return this.fail(
        pos,
        `the batch mapping (inputs at this batch_eval_metrics call) is indexed by key, not by position: its keys: ${keys.join(', ')}; e.g. inputs[${JSON.stringify(keys[0] ?? 'input_ids')}][0]`,
      );
    }
    if (isNode(obj) || isSeq(obj) || typeof obj === 'string') {
      if (items.length !== 1) this.fail(pos, `a ${typeName(obj)} takes one index; write x[0][2] rather than x[0, 2]`);
      const all: Value[] = isSeq(obj) ? obj.seq : typeof obj === 'string' ? [...obj] : 'tuple' in obj ? obj.tuple : obj.list;
      const it = items[0];
      if (it.type === 'slice') {
        const ax = (yield* this.axisOf(it)) as Extract<Axis, { kind: 'slice' }>;
        const n = all.length;
        const t = Tensor.from('int64', [n], [...Array(n).keys()]);
        const picked = (yield* indexTensor(t, [ax])).toArray() as number[];
        const sub = picked.map((i) => all[i]);
        if (typeof obj === 'string') return sub.join('');
        if (isSeq(obj)) return { seq: sub };
        return 'tuple' in obj ? { tuple: sub as TensorNode[] } : { list: sub as TensorNode[] };
      }
      const i = this.int(yield* this.eval(it), it.pos, 'an index');
      const n = all.length;
      if (i < -n || i >= n) this.fail(it.pos, `index ${i} is out of range for a ${typeName(obj)} of length ${n}`);
      return all[i < 0 ? i + n : i];
    }
    if (obj instanceof Tensor) {
      if (items.length === 1 && items[0].type !== 'slice') {
        const sel = yield* this.eval(items[0]);
        if (sel instanceof Tensor && sel.ndim > 0) return yield* this.guard(items[0].pos, () => takeRows(obj, sel));
      }
      const axes: Axis[] = [];
      for (const it of items) axes.push(yield* this.axisOf(it));
      return yield* this.guard(pos, () => indexTensor(obj, axes));
    }
    return this.fail(pos, `a ${typeName(obj)} cannot be indexed`);
  }

  private *axisOf(it: IndexItem): Gen<Axis> {
    if (it.type === 'slice') {
      const self = this;
      function* b(n?: Node): Gen<number | undefined> {
        return n ? self.int(yield* self.eval(n), n.pos, 'a slice bound') : undefined;
      }
      const start = yield* b(it.start);
      const stop = yield* b(it.stop);
      const step = yield* b(it.step);
      return { kind: 'slice', start, stop, step };
    }
    return { kind: 'int', index: this.int(yield* this.eval(it), it.pos, 'an index') };
  }

  private tensorArg(v: Value, pos: number, fn: string): Tensor {
    if (v instanceof Tensor) return v;
    if (typeof v === 'number' || typeof v === 'boolean') return Tensor.from(typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int64' : 'float64', [], [Number(v)]);
    if (isSeq(v) && v.seq.every((x) => typeof x === 'number')) return Tensor.from('int64', [v.seq.length], v.seq as number[]);
    if (isMapping(v)) {
      const keys = v.mapping.map(([k]) => k);
      this.fail(pos, `${fn}() needs an array, but this is the batch mapping (keys ${keys.join(', ')}); pick one, e.g. inputs[${JSON.stringify(keys[0] ?? 'input_ids')}]`);
    }
    if (isNode(v)) {
      this.fail(pos, `${fn}() needs an array, but this is a ${typeName(v)} (${'tuple' in v ? v.tuple.length : v.list.length} items); pick one, e.g. predictions[0]`);
    }
    return this.fail(pos, `${fn}() needs an array, got ${typeName(v)}`);
  }

  private *call(n: Extract<Node, { type: 'call' }>): Gen<Value> {
    let name: string;
    const args: Value[] = [];
    let as: 'function' | 'method';
    if (n.callee.type === 'name') {
      name = n.callee.name;
      as = 'function';
      if (!builtin(name, as)) this.fail(n.callee.pos, `unknown function '${name}'; functions: ${FUNCTIONS.join(', ')}`);
      for (const a of n.args) args.push(yield* this.eval(a));
    } else if (n.callee.type === 'attr') {
      name = n.callee.name;
      as = 'method';
      const self = yield* this.eval(n.callee.obj);
      // BatchEncoding.keys(): the keys in the collator's order.
      if (isMapping(self) && name === 'keys' && !n.args.length) return { seq: self.mapping.map(([k]) => k) };
      if (!(self instanceof Tensor) || !builtin(name, as)) this.fail(n.callee.pos, `a ${typeName(self)} has no method '${name}'`);
      args.push(self);
      for (const a of n.args) args.push(yield* this.eval(a));
    } else {
      yield* this.eval(n.callee); // report an unknown name inside first
      return this.fail(n.pos, 'only functions can be called');
    }
    const b = builtin(name, as)!;
    const argPos = (i: number) => n.args[n.callee.type === 'attr' ? i - 1 : i]?.pos ?? n.pos;
    const [min, max] = b.arity;
    if (args.length < min || args.length > max) this.fail(n.pos, `${name}() takes ${min === max ? min : `${min} to ${max}`} argument${max > 1 ? 's' : ''}, got ${args.length}`);
    const call: BuiltinCall = {
      name,
      args,
      argPos,
      pos: n.pos,
      fail: (pos, msg) => this.fail(pos, msg),
      tensor: (i) => this.tensorArg(args[i], argPos(i), name),
      axis: (i) => (args.length > i && args[i] !== null ? this.int(args[i], argPos(i), 'axis') : undefined),
      guard: (pos, fn) => this.guard(pos, fn),
      decode: this.ctx.decode,
    };
    return yield* b.impl(call);
  }

  private *unary(op: string, v: Value, pos: number): Gen<Value> {
    if (op === '~') {
      if (typeof v === 'boolean') return !v;
      if (v instanceof Tensor) {
        if (v.dtype === 'bool') return yield* mapTensor(v, 'bool', (x) => (x ? 0 : 1));
        if (!DTYPES[v.dtype].isFloat) return yield* mapTensor(v, v.dtype, (x) => ~x);
      }
      if (typeof v === 'number' && Number.isInteger(v)) return ~v;
      return this.fail(pos, `'~' / not needs a boolean or integer, got ${typeName(v)}`);
    }
    if (typeof v === 'number') return op === '-' ? -v : v;
    if (v instanceof Tensor) return op === '-' ? yield* mapTensor(v, v.dtype === 'bool' ? 'int64' : v.dtype, (x) => -x) : v;
    return this.fail(pos, `unary '${op}' needs a number or an array, got ${typeName(v)}`);
  }

  private *binary(op: string, a: Value, b: Value, pos: number): Gen<Value> {
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
    return yield* this.guard(pos, () => elementwise(ta, tb, dtype, f));
  }
}

/** An array's attributes (Evaluator.attr); a batch mapping asked for one gets a hint to pick a key first. */
const ARRAY_ATTRIBUTES = ['shape', 'dtype', 'ndim', 'size'];

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
