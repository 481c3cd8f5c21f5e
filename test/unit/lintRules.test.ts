// One test per lint rule (src/core/lint/rules/), each run alone on a context that should and one that should not trip it.
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { lintContext } from '../../src/core/lint/context';
import { findingsOf } from '../../src/core/lint/lints';
import { runToEnd } from '../../src/core/tensor/blocks';
import * as rules from '../../src/core/lint/rules';
import { LINT_RULES } from '../../src/core/lint/rules';
import { perFloatPrediction, FloatPredictionRule } from '../../src/core/lint/rules/perFloatPrediction';
import { packageRoot } from '../../src/core/paths';
import type { LintInput, LintRule } from '../../src/core/lint/types';
import { EvalPredictionData, Tensor } from '../../src/core/tensor/tensor';

const ep = (p: Partial<EvalPredictionData>): EvalPredictionData => ({ predictions: null, labelIds: null, inputs: null, losses: null, ...p });
const ids = (shape: number[], v: number[]) => Tensor.from('int64', shape, v);
const logits = (shape: number[], v: number[]) => Tensor.from('float32', shape, v);
const run = (rule: LintRule, input: LintInput) => runToEnd(findingsOf(rule, lintContext(input)));
/** A per-array rule runs as the registry runs it: over every float prediction array. */
const runFloat = (rule: FloatPredictionRule, input: LintInput) => run(perFloatPrediction(rule), input);
const idsOf = (rule: LintRule, input: LintInput) => run(rule, input).map((l) => l.id);
const clsPreds = logits([3, 2], [2, 0, 0, 1, 1, 0]);
const cls = ep({ predictions: clsPreds, labelIds: ids([3], [0, 1, 0]) });

test('decode-minus-100: a decode of labels holding -100; quiet once np.where removes them', () => {
  const e = ep({ predictions: ids([1, 3], [5, 6, 7]), labelIds: ids([1, 3], [5, -100, -100]) });
  const [l] = run(rules.decodeMinus100, { evalPred: e, source: 'labels = p.label_ids\nt = tok.batch_decode(labels)\n' });
  assert.equal(l.line, 2);
  assert.match(l.message, /label_ids .* holds 2 values of -100/);
  assert.deepEqual(run(rules.decodeMinus100, { evalPred: e, source: 'labels = p.label_ids\nlabels = np.where(labels != -100, labels, 0)\nt = tok.batch_decode(labels)\n' }), []);
  assert.deepEqual(run(rules.decodeMinus100, { evalPred: e, source: 'acc = (p.predictions == p.label_ids).mean()' }), []);
});

test('tuple-predictions: a warning at the argmax line, info without one; nothing for one array', () => {
  const e = ep({ predictions: { tuple: [logits([1, 2], [1, 2]), logits([1, 1], [0])] } });
  const [w] = run(rules.tuplePredictions, { evalPred: e, source: 'x = 1\np = np.argmax(preds, -1)' });
  assert.equal(w.severity, 'warning');
  assert.equal(w.line, 2);
  assert.equal(run(rules.tuplePredictions, { evalPred: e })[0].severity, 'info');
  assert.deepEqual(run(rules.tuplePredictions, { evalPred: cls }), []);
  assert.deepEqual(run(rules.tuplePredictions, { evalPred: e, settings: { docStride: 128 } }), []); // run_qa: compute_metrics gets the answers
});

test('large-logits: counts each dtype at its own item size (1 byte for bool/int8, 2 for float16)', () => {
  // fake tensors: only size/dtype/ndim are read, and 1 GiB of real data is not worth allocating in a unit test
  const fake = (dtype: string, size: number, ndim: number) => ({ dtype, size, ndim, shape: [] }) as unknown as Tensor;
  const ctx = (extra: Tensor) => ({ ...lintContext({ evalPred: cls }), predTensors: [['predictions[0]', fake('float32', 2 ** 28 - 50, 3)], ['predictions[1]', extra]] as [string, Tensor][] });
  // 1 GiB - 200 B of float32 + 100 bools = 1 GiB - 100 B: not over (a 4-byte bool would make it 1 GiB + 200 B)
  assert.deepEqual(runToEnd(findingsOf(rules.largeLogits, ctx(fake('bool', 100, 1)))), []);
  assert.deepEqual(runToEnd(findingsOf(rules.largeLogits, ctx(fake('int8', 100, 1)))), []);
  assert.equal(runToEnd(findingsOf(rules.largeLogits, ctx(fake('float16', 200, 1))))[0].id, 'large-logits'); // 1 GiB + 200 B
  assert.deepEqual(runToEnd(findingsOf(rules.largeLogits, lintContext({ evalPred: cls }))), []);
});

test('no-labels: predictions without labels; quiet with labels', () => {
  assert.deepEqual(idsOf(rules.noLabels, { evalPred: ep({ predictions: clsPreds }) }), ['no-labels']);
  assert.deepEqual(idsOf(rules.noLabels, { evalPred: cls }), []);
  assert.deepEqual(idsOf(rules.noLabels, { evalPred: ep({ predictions: clsPreds }), settings: { docStride: 128 } }), []); // run_qa: answers come after the loop
});

test('two-way-unpack: "a, b = eval_pred" with inputs included; fine without inputs or losses', () => {
  const src = 'def f(eval_pred):\n    preds, labels = eval_pred\n';
  const [l] = run(rules.twoWayUnpack, { evalPred: { ...cls, losses: logits([3], [1, 1, 1]) }, source: src });
  assert.equal(l.line, 2);
  assert.match(l.message, /because losses are included/);
  assert.deepEqual(run(rules.twoWayUnpack, { evalPred: cls, source: src }), []);
});

test('row-mismatch and width-mismatch: rows first; widths only for int64 ids, a warning when generated ids are compared elementwise', () => {
  assert.deepEqual(idsOf(rules.shapeMismatch, { evalPred: ep({ predictions: clsPreds, labelIds: ids([2], [0, 1]) }) }), ['row-mismatch']);
  const gen = ep({ predictions: ids([2, 3], [1, 2, 3, 1, 2, 3]), labelIds: ids([2, 2], [1, 2, 1, 2]) });
  const [w] = run(rules.shapeMismatch, { evalPred: gen, settings: { predictWithGenerate: true }, source: 'ok = preds == labels' });
  assert.equal(w.id, 'width-mismatch');
  assert.equal(w.severity, 'warning');
  assert.equal(run(rules.shapeMismatch, { evalPred: gen })[0].severity, 'info');
  assert.deepEqual(run(rules.shapeMismatch, { evalPred: cls }), []);
});

test('generation-width: asking generate for more than generation_config pads to; quiet within it or without generate', () => {
  const e = ep({ predictions: ids([1, 2], [1, 2]), labelIds: ids([1, 2], [1, 2]) });
  assert.deepEqual(idsOf(rules.generationWidth, { evalPred: e, settings: { predictWithGenerate: true, generationMaxLength: 64 }, generation: { maxLength: 20 } }), ['generation-width']);
  assert.deepEqual(idsOf(rules.generationWidth, { evalPred: e, settings: { predictWithGenerate: true, maxNewTokens: 19 }, generation: { maxLength: 20 } }), []);
  assert.deepEqual(idsOf(rules.generationWidth, { evalPred: e, settings: { generationMaxLength: 64 }, generation: { maxLength: 20 } }), []);
});

test('generate-includes-prompt: a warning for causal-LM generate, info when the metric cuts the prompt, nothing for seq2seq', () => {
  const e = ep({ predictions: ids([1, 2], [1, 2]) });
  assert.equal(run(rules.generateIncludesPrompt, { evalPred: e, task: 'causal-lm', settings: { predictWithGenerate: true } })[0].severity, 'warning');
  assert.equal(run(rules.generateIncludesPrompt, { evalPred: e, task: 'causal-lm', settings: { predictWithGenerate: true }, source: 'p = preds[:, inputs.shape[1]:]' })[0].severity, 'info');
  assert.deepEqual(run(rules.generateIncludesPrompt, { evalPred: e, task: 'seq2seq', settings: { predictWithGenerate: true } }), []);
});

test('preprocess-under-generate: a preprocessor (defined or preset) under generate, at its def line', () => {
  const e = ep({ predictions: ids([1, 2], [1, 2]) });
  assert.equal(run(rules.preprocessUnderGenerate, { evalPred: e, settings: { predictWithGenerate: true }, source: '\ndef preprocess_logits_for_metrics(l, y):\n' })[0].line, 2);
  assert.match(run(rules.preprocessUnderGenerate, { evalPred: e, settings: { predictWithGenerate: true, preprocess: 'argmax' } })[0].message, /--preprocess argmax/);
  assert.deepEqual(run(rules.preprocessUnderGenerate, { evalPred: e, settings: { preprocess: 'argmax' } }), []);
});

test('generation-capped-20: no length anywhere; any length set silences it', () => {
  const e = ep({ predictions: ids([1, 2], [1, 2]) });
  assert.deepEqual(idsOf(rules.generationCapped20, { evalPred: e, settings: { predictWithGenerate: true }, generation: {} }), ['generation-capped-20']);
  assert.deepEqual(idsOf(rules.generationCapped20, { evalPred: e, settings: { predictWithGenerate: true }, generation: { maxLength: 64 } }), []);
  assert.deepEqual(idsOf(rules.generationCapped20, { evalPred: e, settings: { predictWithGenerate: true, maxNewTokens: 8 }, generation: {} }), []);
  assert.deepEqual(idsOf(rules.generationCapped20, { evalPred: e, settings: { predictWithGenerate: true } }), []); // generation_config unknown
});

test('causal-lm-no-shift: same-position compare for a causal LM; the run_clm shift silences it', () => {
  const e = ep({ predictions: ids([1, 3], [1, 2, 3]), labelIds: ids([1, 3], [1, 2, 3]) });
  assert.equal(run(rules.causalLmNoShift, { evalPred: e, task: 'causal-lm', source: 'x\nacc = (preds == labels).mean()' })[0].line, 2);
  assert.deepEqual(run(rules.causalLmNoShift, { evalPred: e, task: 'causal-lm', source: 'labels = labels[:, 1:]\npreds = preds[:, :-1]\nacc = (preds == labels).mean()' }), []);
  assert.deepEqual(run(rules.causalLmNoShift, { evalPred: e, task: 'seq2seq', source: 'acc = (preds == labels).mean()' }), []);
});

test('tuple-labels: a (start, end) pair of label arrays', () => {
  assert.deepEqual(idsOf(rules.tupleLabels, { evalPred: ep({ predictions: clsPreds, labelIds: { tuple: [ids([3], [0, 1, 2]), ids([3], [1, 2, 3])] } }) }), ['tuple-labels']);
  assert.deepEqual(idsOf(rules.tupleLabels, { evalPred: cls }), []);
});

test('non-finite: counts NaN and infinities per float prediction array', () => {
  const [l] = runFloat(rules.nonFinite, { evalPred: ep({ predictions: logits([2, 2], [NaN, 1, -Infinity, Infinity]) }) });
  assert.match(l.message, /predictions holds 1 NaN and 2 infinite/);
  assert.deepEqual(runFloat(rules.nonFinite, { evalPred: cls }), []);
});

test('padded-float-predictions: -100.0 in 3-axis float predictions; not in 2-axis ones', () => {
  assert.match(runFloat(rules.paddedFloatPredictions, { evalPred: ep({ predictions: logits([1, 2, 2], [1, 2, -100, -100]) }) })[0].message, /2 values of exactly -100\.0/);
  assert.deepEqual(runFloat(rules.paddedFloatPredictions, { evalPred: ep({ predictions: logits([2, 2], [1, 2, -100, -100]) }) }), []);
});

test('logits-not-probabilities: values outside [0, 1] meeting a 0.5 threshold; probabilities pass', () => {
  assert.equal(runFloat(rules.logitsNotProbabilities, { evalPred: ep({ predictions: logits([2], [3, -2]) }), source: 'a\ny = preds > 0.5' })[0].line, 2);
  assert.deepEqual(runFloat(rules.logitsNotProbabilities, { evalPred: ep({ predictions: logits([2], [0.3, 0.7]) }), source: 'y = preds > 0.5' }), []);
  assert.deepEqual(runFloat(rules.logitsNotProbabilities, { evalPred: ep({ predictions: logits([2], [3, -2]) }), source: 'y = preds.argmax(-1)' }), []);
});

test('one-class: every argmax the same class; mixed classes and QA logits pass', () => {
  assert.match(run(rules.oneClass, { evalPred: ep({ predictions: logits([3, 2], [2, 0, 3, 1, 5, 1]) }) })[0].message, /every prediction is class 0/);
  assert.deepEqual(run(rules.oneClass, { evalPred: cls }), []);
  assert.deepEqual(run(rules.oneClass, { evalPred: ep({ predictions: logits([3, 2], [2, 0, 3, 1, 5, 1]) }), task: 'question-answering' }), []);
});

test('attribute-typo: eval_pred.labels points to label_ids at its line', () => {
  const [l] = run(rules.attributeTypo, { evalPred: cls, source: 'a\ny = eval_pred.labels' });
  assert.equal(l.line, 2);
  assert.equal(l.fix, 'Use eval_pred.label_ids.');
  assert.deepEqual(run(rules.attributeTypo, { evalPred: cls, source: 'y = eval_pred.label_ids' }), []);
});

test('losses-are-batch-means: only when losses exist and the metric uses them', () => {
  const e = { ...cls, losses: logits([3], [1, 1, 1]) };
  assert.deepEqual(idsOf(rules.lossesAreBatchMeans, { evalPred: e, source: 'm = losses.mean()' }), ['losses-are-batch-means']);
  assert.deepEqual(idsOf(rules.lossesAreBatchMeans, { evalPred: e, source: 'm = 1' }), []);
});

test('rows-dropped: fewer prediction rows than samples', () => {
  assert.match(run(rules.rowsDropped, { evalPred: cls, numSamples: 4 })[0].message, /3 rows but the dataset has 4/);
  assert.deepEqual(run(rules.rowsDropped, { evalPred: cls, numSamples: 3 }), []);
});

test('every rule is listed once, every lint id has a row in docs/trainer-semantics.md#pitfalls and no row lacks a rule', () => {
  const ruleIds = LINT_RULES.flatMap((r) => r.ids);
  assert.equal(new Set(ruleIds).size, ruleIds.length);
  const doc = fs.readFileSync(path.join(packageRoot(), 'docs', 'trainer-semantics.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Pitfalls'));
  const docIds = [...table.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...docIds].sort(), [...ruleIds].sort());
});

test('rules are pure: no module in src/core/lint/rules imports node: built-ins or does IO', () => {
  const dir = path.join(packageRoot(), 'src', 'core', 'lint', 'rules');
  for (const f of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.doesNotMatch(text, /from 'node:|require\(/, f);
  }
});
