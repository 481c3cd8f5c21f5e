import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Described, finalizeMetrics, hintFor, metricsToJson } from '../../src/core/metrics/postprocess';

const num = (value: number): Described => ({ type: 'number', value });
const str = (value: string): Described => ({ type: 'string', value });
const dict = (o: Record<string, Described>): Described => ({ type: 'mapping', entries: Object.entries(o).map(([k, v]) => [str(k), v]) });

test('Trainer key order: user keys, then eval_loss, prefixed in insertion order (docs/trainer-semantics.md#the-metrics-dictionary)', () => {
  // compute_metrics {"accuracy": 0.8, "f1": 0.5} + a loss -> eval_loss, eval_accuracy, eval_f1, then speed keys.
  const r = finalizeMetrics(dict({ accuracy: num(0.8), f1: num(0.5) }), {
    trainerLoss: 0.25,
    speed: { runtimeS: 2, numSamples: 10, batchSize: 4 },
  });
  assert.deepEqual(Object.keys(r.metrics), ['eval_loss', 'eval_accuracy', 'eval_f1', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']);
  // 10 samples / 2 s = 5; ceil(10/4) = 3 steps / 2 s = 1.5.
  assert.deepEqual(r.metrics, { eval_loss: 0.25, eval_accuracy: 0.8, eval_f1: 0.5, eval_runtime: 2, eval_samples_per_second: 5, eval_steps_per_second: 1.5 });
  assert.deepEqual(r.warnings, []);
});

test('a user `loss` overrides Trainer loss; a user `eval_loss` is overwritten by it (spec O15)', () => {
  assert.deepEqual(finalizeMetrics(dict({ loss: num(9) }), { trainerLoss: 1 }).metrics, { eval_loss: 9 });
  assert.deepEqual(finalizeMetrics(dict({ eval_loss: num(9), acc: num(1) }), { trainerLoss: 1 }).metrics, { eval_loss: 1, eval_acc: 1 });
});

test("QuestionAnsweringTrainer's order (run_qa, doc stride): the user's keys prefixed, then the loop's eval_loss (which wins over a user `loss`), then speed", () => {
  const speed = { runtimeS: 2, numSamples: 10, batchSize: 4 };
  const r = finalizeMetrics(dict({ exact_match: num(50), f1: num(60) }), { trainerLoss: 0.25, speed, questionAnswering: true });
  assert.deepEqual(Object.keys(r.metrics), ['eval_exact_match', 'eval_f1', 'eval_loss', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']);
  assert.deepEqual(finalizeMetrics(dict({ loss: num(9), f1: num(1) }), { trainerLoss: 1, questionAnswering: true }).metrics, { eval_f1: 1, eval_loss: 1 });
  assert.deepEqual(Object.keys(finalizeMetrics(dict({ f1: num(1) }), { speed, questionAnswering: true }).metrics), ['eval_f1', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']);
});

test('custom prefix, already-prefixed keys kept, integer-like keys keep their place', () => {
  const r = finalizeMetrics(dict({ test_a: num(1), '1': num(2), b: num(3) }), { prefix: 'test' });
  assert.deepEqual(Object.keys(r.metrics), ['test_a', 'test_1', 'test_b']);
});

test('non-mapping results, non-string keys and bad values are errors that say what came back', () => {
  assert.throws(() => finalizeMetrics({ type: 'other', typeName: 'list', repr: '[0.5, 0.3]' }), /compute_metrics returned a list: \[0\.5, 0\.3\]/);
  assert.throws(() => finalizeMetrics({ type: 'none' }), /compute_metrics returned None\/undefined/);
  assert.throws(() => finalizeMetrics({ type: 'mapping', entries: [[num(1), num(2)]] }), /a key that is not a string: a number \(1\)/);
  assert.throws(() => finalizeMetrics(dict({ name: str('bert') })), /returned a string: "bert" for key "name"/);
  assert.throws(() => finalizeMetrics(dict({ x: { type: 'none' } })), /None\/undefined for key "x"/);
  assert.throws(
    () => finalizeMetrics(dict({ cm: { type: 'other', typeName: 'ndarray (int64, shape (2, 2))', repr: '[[1 0] [0 1]]' } }), { file: 'm.py' }),
    /^EvalpredError: m\.py: compute_metrics returned an ndarray \(int64, shape \(2, 2\)\).*for key "cm".*Reduce it to one number/,
  );
});

test('NaN / Infinity are kept, warned about, and printed as visible strings in JSON', () => {
  const r = finalizeMetrics(dict({ f1: { type: 'number', value: 'NaN' }, r: { type: 'number', value: '-Infinity' }, ok: { type: 'bool', value: true } }));
  assert.ok(Number.isNaN(r.metrics.eval_f1));
  assert.equal(r.metrics.eval_r, -Infinity);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0], /^eval_f1 is NaN/);
  const json = metricsToJson(r.metrics);
  assert.equal(json, '{"eval_f1":"NaN","eval_r":"-Infinity","eval_ok":true}');
  assert.deepEqual(JSON.parse(json).eval_f1, 'NaN');
});

test('nested dicts stay nested (legal in Trainer) and only top-level keys are prefixed', () => {
  const r = finalizeMetrics(dict({ per_class: dict({ cat: num(0.5), dog: num(1) }) }));
  assert.deepEqual(r.metrics, { eval_per_class: { cat: 0.5, dog: 1 } });
  assert.throws(() => finalizeMetrics(dict({ per_class: dict({ cat: str('x') }) })), /for key "per_class\.cat"/);
});

test('hints for the known traps', () => {
  assert.match(hintFor('OverflowError', 'OverflowError: out of range integral type conversion attempted', 'py'), /np\.where\(labels != -100, labels, tokenizer\.pad_token_id\)/);
  assert.match(hintFor('AttributeError', "AttributeError: 'EvalPrediction' object has no attribute 'prediction'", 'py'), /`predictions`, not `prediction`/);
  assert.match(hintFor('AttributeError', "AttributeError: 'EvalPrediction' object has no attribute 'labels'", 'py'), /`label_ids`, not `labels`/);
  assert.match(hintFor('ValueError', 'ValueError: too many values to unpack (expected 2)', 'py'), /inputs and\/or losses were included/);
  assert.match(hintFor('TypeError', "TypeError: compute_metrics() missing 1 required positional argument: 'compute_result'", 'py'), /only under batch_eval_metrics: add --batch-eval-metrics/);
  assert.match(hintFor('TypeError', "TypeError: argmax() got an unexpected keyword argument 'dim'", 'py'), /NumPy takes axis=, not dim=/);
  assert.equal(hintFor('KeyError', "KeyError: 'x'", 'py'), '');
});
