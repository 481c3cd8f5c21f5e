// The Debug Console expression language: every expression is checked against NumPy evaluating the same
// text on the same arrays (one Python run for the lot); errors must name the column at fault, and nothing
// outside the documented names is reachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExprContext, ExprError, Value, evaluateExpression, formatValue, isSeq } from '../../src/core/expr';
import { Tensor } from '../../src/core/tensor/tensor';
import { runPython } from '../helpers/python';

// Deterministic data: 6 samples x 3 classes of logits, labels with one -100, ragged token ids padded with -100.
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const logits = Array.from({ length: 18 }, () => Math.fround(rnd() * 4 - 2));
const labels = [0, 2, 1, -100, 2, 1];
const lengths = [5, 2, 4, 1, 3, 5];
const ids = lengths.flatMap((len, r) => Array.from({ length: 5 }, (_, c) => (c < len ? 2 + ((r * 5 + c) % 9) : -100)));

const predictions = Tensor.from('float32', [6, 3], logits);
const labelIds = Tensor.from('int64', [6], labels);
const inputs = Tensor.from('int64', [6, 5], ids);
const ctx: ExprContext = {
  evalPred: { predictions, labelIds, inputs, losses: null },
  decode: (xs) => xs.map((x) => `w${x}`).join(' '),
};

/** A result in a form both sides can print: dtype kind, shape, flat values. */
function plain(v: Value): unknown {
  if (v instanceof Tensor) {
    const kind = v.dtype === 'bool' ? 'b' : v.dtype.startsWith('float') ? 'f' : 'i';
    return { kind, shape: [...v.shape], values: Array.from({ length: v.size }, (_, i) => v.at(i)) };
  }
  if (isSeq(v)) return v.seq.map(plain);
  if (typeof v === 'boolean') return { kind: 'b', shape: [], values: [v ? 1 : 0] };
  if (typeof v === 'number') return { kind: Number.isInteger(v) ? 'n' : 'f', shape: [], values: [v] };
  return v;
}

const CASES = [
  'predictions[3]',
  'predictions[:, 1]',
  'predictions[0][2]',
  'predictions[-1, ::-1]',
  'predictions[1:5:2, 0]',
  'label_ids[-1]',
  'argmax(predictions, -1)',
  'argmax(predictions, -1) == label_ids',
  'count(label_ids == -100)',
  'mean(argmax(predictions, -1) == label_ids)',
  'len(predictions)',
  'min(predictions)',
  'max(predictions, 0)',
  'mean(predictions, 1)',
  'sum(inputs == -100, 1)',
  'inputs[label_ids != -100]',
  'inputs[2, -2:]',
  'softmax(predictions, -1)[0]',
  'unique(label_ids)',
  '(predictions[:, 0] > 0) & (label_ids == 1)',
  'predictions * 2 - 1',
  'label_ids % 4',
  '-predictions[0]',
  'predictions.argmax(-1)',
  'predictions[:, 0] > predictions[:, 1]',
  'inputs[:, :2] + label_ids[1]',
  'eval_pred[1]',
];

test('expressions agree with NumPy evaluating the same text on the same arrays', () => {
  const py = `
import json, numpy as np
predictions = np.array(${JSON.stringify(logits)}, dtype=np.float32).reshape(6, 3)
label_ids = np.array(${JSON.stringify(labels)}, dtype=np.int64)
inputs = np.array(${JSON.stringify(ids)}, dtype=np.int64).reshape(6, 5)
eval_pred = (predictions, label_ids, inputs)
argmax, mean, sum, min, max, unique = np.argmax, np.mean, np.sum, np.min, np.max, np.unique
count = np.count_nonzero
def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
def plain(v):
    a = np.asarray(v)
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return {'kind': 'n', 'shape': [], 'values': [int(v)]}
    kind = 'b' if a.dtype == bool else 'f' if a.dtype.kind == 'f' else 'i'
    return {'kind': kind, 'shape': list(a.shape), 'values': [float(x) if kind == 'f' else int(x) for x in a.reshape(-1).tolist()]}
print(json.dumps([plain(eval(e)) for e in ${JSON.stringify(CASES)}]))
`;
  const expected = JSON.parse(runPython(py)) as { kind: string; shape: number[]; values: number[] }[];
  CASES.forEach((src, i) => {
    const got = plain(evaluateExpression(src, ctx)) as { kind: string; shape: number[]; values: number[] };
    const exp = expected[i];
    // NumPy 0-d results (np.float32, np.int64) are scalars here; a Python int is 'n' on both sides.
    const kindOf = (k: string) => (k === 'n' ? 'i' : k);
    assert.equal(kindOf(got.kind), kindOf(exp.kind), `${src}: kind`);
    assert.deepEqual(got.shape, exp.shape, `${src}: shape`);
    assert.equal(got.values.length, exp.values.length, `${src}: size`);
    got.values.forEach((v, j) => assert.ok(Math.abs(v - exp.values[j]) <= 1e-6 * Math.max(1, Math.abs(exp.values[j])), `${src}[${j}]: ${v} vs NumPy ${exp.values[j]}`));
  });
});

test('attributes: shape, dtype, eval_pred fields, and tuple predictions indexed like Python tuples', () => {
  assert.equal(formatValue(evaluateExpression('eval_pred.predictions.shape', ctx)), '(6, 3)');
  assert.equal(formatValue(evaluateExpression('label_ids.shape', ctx)), '(6,)');
  assert.equal(evaluateExpression('predictions.dtype', ctx), 'float32');
  assert.equal(evaluateExpression('eval_pred.label_ids.dtype', ctx), 'int64');
  assert.equal(evaluateExpression('predictions.shape[1]', ctx), 3);
  const hidden = Tensor.full('float32', [6, 4, 8], 0.5);
  const tctx: ExprContext = { ...ctx, evalPred: { ...ctx.evalPred, predictions: { tuple: [predictions, hidden] } } };
  assert.equal(evaluateExpression('predictions[0]', tctx), predictions);
  assert.equal(formatValue(evaluateExpression('predictions[1].shape', tctx)), '(6, 4, 8)');
  assert.equal(evaluateExpression('len(predictions)', tctx), 2);
  assert.equal(formatValue(evaluateExpression('predictions[1][5, 3, 7]', tctx)), '0.5');
  assert.equal(formatValue(evaluateExpression('predictions', tctx)), 'tuple(float32[6, 3], float32[6, 4, 8])');
  // The classic mistake, explained: .shape of a tuple.
  assert.throws(() => evaluateExpression('predictions.shape', tctx), (e: Error) => e instanceof ExprError && /tuple/.test(e.message) && /\[0\]\.shape/.test(e.message));
  assert.throws(() => evaluateExpression('argmax(predictions, -1)', tctx), /predictions\[0\]/);
});

test('decode() treats -100 as padding, decodes rows and batches, and refuses logits', () => {
  // Row 1 has 2 real ids then -100 padding: expected from the fixture rule 2 + ((r*5+c) % 9).
  const row1 = [0, 1].map((c) => `w${2 + ((1 * 5 + c) % 9)}`).join(' ');
  assert.equal(evaluateExpression('decode(inputs[1])', ctx), row1);
  const batch = evaluateExpression('decode(inputs[0:2])', ctx);
  assert.ok(isSeq(batch));
  assert.equal(batch.seq[1], row1);
  assert.equal((batch.seq[0] as string).split(' ').length, 5);
  assert.throws(() => evaluateExpression('decode(predictions[0])', ctx), /integer array/);
  assert.throws(() => evaluateExpression('decode(inputs[0])', { ...ctx, decode: undefined }), /tokenizer/);
});

test('formatting: NumPy-like text for scalars, float32 elements, booleans, strings and long arrays', () => {
  // NumPy prints a float32 with the shortest digits that round-trip in float32.
  const npText = runPython(`import numpy as np\nprint(str(np.float32(${logits[0]})), str(np.float32(${logits[4]})))`).trim();
  assert.equal(`${formatValue(evaluateExpression('predictions[0, 0]', ctx))} ${formatValue(evaluateExpression('predictions[1][1]', ctx))}`, npText);
  assert.equal(formatValue(evaluateExpression('label_ids[0] == 0', ctx)), 'True');
  assert.equal(formatValue(evaluateExpression('count(label_ids == -100)', ctx)), '1');
  const long = Tensor.from('int64', [20], [...Array(20).keys()]);
  assert.equal(formatValue(evaluateExpression('x', { ...ctx, names: { x: long } })), 'int64[20] [0, 1, 2, ..., 17, 18, 19]');
  assert.equal(formatValue(evaluateExpression('"good movie"', ctx)), "'good movie'");
});

test('BAD INPUT - errors name the column, and nothing but the documented names is reachable', () => {
  const col = (src: string, re: RegExp, column: number) =>
    assert.throws(
      () => evaluateExpression(src, ctx),
      (e: Error) => e instanceof ExprError && re.test(e.message) && e.message.includes(`column ${column}`) && e.pos === column - 1,
      src,
    );
  col('predictions[3', /expected '\]'/, 14);
  col('predictions[10]', /out of bounds for axis 0 with size 6/, 12);
  col('foo(predictions)', /unknown function 'foo'/, 1);
  col('predictions.constructor', /no attribute 'constructor'/, 13);
  col('eval_pred.__proto__', /EvalPrediction has no attribute '__proto__'/, 11);
  col('process', /unknown name 'process'/, 1);
  col('predictions[:, 1] $ 2', /unexpected character '\$'/, 19);
  col('predictions[0, 1, 2]', /too many indices/, 12);
  col('predictions + inputs', /could not be broadcast/, 13);
  col('mean()', /takes 1 to 2 arguments/, 5);
  col('predictions[1.5]', /must be an integer/, 13);
  col('constructor.constructor("return process")()', /unknown name 'constructor'/, 1);
});

test('batch_eval_metrics: inputs is the call\'s batch mapping (item and attribute access, keys, summary); without it inputs stays the ids array', () => {
  // One call's mapping, keys in the collator's order; each key's array differs so a wrong pick shows.
  const batchIds = Tensor.from('int64', [2, 5], ids.slice(0, 10));
  const mask = Tensor.from('int64', [2, 5], [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  const batchLabels = Tensor.from('int64', [2], [2, 0]);
  const bctx: ExprContext = {
    evalPred: { predictions: Tensor.from('float32', [2, 3], logits.slice(0, 6)), labelIds: batchLabels, inputs: batchIds, losses: null },
    decode: ctx.decode,
    inputsMapping: [
      ['input_ids', batchIds],
      ['attention_mask', mask],
      ['labels', batchLabels],
    ],
  };
  const ev = (src: string) => evaluateExpression(src, bctx);
  assert.equal(ev('inputs["attention_mask"]'), mask);
  assert.equal(ev("inputs['labels']"), batchLabels);
  assert.equal(ev('inputs.attention_mask'), mask);
  assert.equal(ev('eval_pred.inputs["input_ids"]'), batchIds);
  assert.equal(ev('eval_pred.inputs.labels'), batchLabels);
  assert.equal(ev('p[2]["attention_mask"]'), mask, 'EvalPrediction iterates as (predictions, label_ids, inputs)');
  assert.equal(formatValue(ev('inputs["input_ids"].shape')), '(2, 5)');
  assert.deepEqual(plain(ev('sum(inputs["attention_mask"], 1)')), { kind: 'i', shape: [2], values: [5, 2] });
  assert.deepEqual(plain(ev('inputs.input_ids[1, :2]')), { kind: 'i', shape: [2], values: ids.slice(5, 7) });
  assert.equal(ev('decode(inputs["input_ids"][1])'), 'w7 w8');
  assert.equal(formatValue(ev('inputs')), "{'input_ids': int64[2, 5], 'attention_mask': int64[2, 5], 'labels': int64[2]}");
  assert.equal(formatValue(ev('inputs.keys()')), "('input_ids', 'attention_mask', 'labels')");
  assert.equal(ev('len(inputs)'), 3);
  assert.match(formatValue(ev('eval_pred')), /inputs=\{'input_ids': int64\[2, 5\], 'attention_mask': int64\[2, 5\], 'labels': int64\[2\]\}/);
  // Mistakes name the keys there are, at the column at fault.
  const bad = (src: string, re: RegExp, column: number) =>
    assert.throws(() => ev(src), (e: Error) => e instanceof ExprError && re.test(e.message) && e.pos === column - 1, src);
  bad('inputs["token_type_ids"]', /no key 'token_type_ids'; its keys: input_ids, attention_mask, labels/, 8);
  bad('inputs.token_type_ids', /no key or attribute 'token_type_ids'; its keys: input_ids, attention_mask, labels \(at column 8\)/, 8);
  bad('inputs.shape', /no key or attribute 'shape'.*inputs\["input_ids"\]\.shape/, 8);
  bad('inputs[0]', /indexed by key, not by position: its keys: input_ids, attention_mask, labels; e\.g\. inputs\["input_ids"\]\[0\]/, 7);
  bad('decode(inputs)', /batch mapping \(keys input_ids, attention_mask, labels\); pick one/, 8);
  bad('inputs.argmax()', /BatchEncoding has no method 'argmax'/, 8);
  // The same call without the mapping (not batch_eval_metrics, or inputs not included): inputs is the ids array.
  const plainCtx: ExprContext = { ...bctx, inputsMapping: undefined };
  assert.equal(evaluateExpression('inputs', plainCtx), batchIds);
  assert.equal(formatValue(evaluateExpression('eval_pred.inputs.shape', plainCtx)), '(2, 5)');
  assert.throws(() => evaluateExpression('inputs["attention_mask"]', plainCtx), /must be an integer, got str/);
});
