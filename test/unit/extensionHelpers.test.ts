// The pure helpers behind the extension's editor features: finding the metric function (CodeLens), its
// range and the names in it (inline values), the hover expression, the one-line metric summary, metrics in
// adapter output, and the inline text built from a real cache. Expected values are worked out by hand below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { writeCache } from '../../src/core/cache/store';
import { Tensor } from '../../src/core/tensor/tensor';
import { fieldTexts, summarizeCache, SummaryStore } from '../../src/extension/cacheSummary';
import { expressionAt, findMetricFunctions, firstMentions, functionRange, pickMetricFunction, summarizeMetrics } from '../../src/extension/metricSource';
import { applyAdapterMessage, initialRunState } from '../../src/extension/runState';
import { DapEvents, RunInfoBody } from '../../src/shared/dapProtocol';
import { seqClsWorkspace, tempDir, VOCAB } from '../fixtures/workspace';

const PY = `import numpy as np

def helper(x):
    return x

def compute_metrics(eval_pred):
    predictions, labels = eval_pred
    preds = np.argmax(predictions, axis=-1)  # labels again
    return {"accuracy": float((preds == labels).mean())}

class Other:
    pass
`;

test('finds metric functions in Python and TS, and picks compute_metrics', () => {
  const fns = findMetricFunctions(PY, 'm.py');
  assert.deepEqual(fns, [{ name: 'compute_metrics', line: 5 }]); // helper(x) does not look like a metric function
  const ts = 'import x from "y";\nexport async function computeMetrics(evalPred) {\n  return {};\n}\nexport const other = (p) => ({});\n';
  const tfns = findMetricFunctions(ts, 'm.ts');
  assert.deepEqual(tfns.map((f) => [f.name, f.line]), [['computeMetrics', 1], ['other', 4]]);
  assert.equal(pickMetricFunction(tfns)?.name, 'computeMetrics');
  assert.equal(pickMetricFunction(tfns, 'other')?.line, 4);
  assert.equal(pickMetricFunction(tfns, 'missing'), undefined);
});

test('function range ends before the next top-level statement (Python) or at the closing brace (TS)', () => {
  assert.deepEqual(functionRange(PY, 'm.py', 5), [5, 8]); // lines 6-9 in the editor; `class Other` is outside
  const ts = 'function computeMetrics(p) {\n  if (x) {\n    y();\n  }\n  return {};\n}\nconst z = 1;\n';
  assert.deepEqual(functionRange(ts, 'm.ts', 0), [0, 5]);
});

test('first mention of each EvalPrediction name inside the function, comments ignored', () => {
  const m = firstMentions(PY, 5, 8).map((x) => [x.name, x.field, x.line]);
  // eval_pred on the def line; predictions + labels on line 6; preds on line 7 (its `labels` is a comment).
  assert.deepEqual(m, [['eval_pred', 'eval_pred', 5], ['predictions', 'predictions', 6], ['labels', 'label_ids', 6], ['preds', 'predictions', 7]]);
});

test('hover expressions: segment under the cursor, aliases mapped to the adapter names', () => {
  const line = '    x = eval_pred.predictions[3] + labels[0]';
  assert.deepEqual(expressionAt(line, line.indexOf('eval_pred') + 2), { expression: 'eval_pred', start: 8, end: 17 });
  assert.equal(expressionAt(line, line.indexOf('predictions') + 1)?.expression, 'eval_pred.predictions');
  assert.equal(expressionAt(line, line.indexOf('[3]') + 1)?.expression, 'eval_pred.predictions[3]');
  assert.equal(expressionAt(line, line.indexOf('labels') + 1)?.expression, 'label_ids');
  assert.equal(expressionAt(line, line.indexOf('[0]') + 1)?.expression, 'label_ids[0]');
  assert.equal(expressionAt(line, 4), undefined); // `x` is no EvalPrediction name
});

test('metric summary: first real metric, prefix dropped, 4 decimals; loss only when alone', () => {
  assert.equal(summarizeMetrics({ eval_loss: 0.5, eval_runtime: 1.2, eval_accuracy: 0.81314 }), 'accuracy 0.8131');
  assert.equal(summarizeMetrics({ eval_loss: 0.51234, eval_samples_per_second: 99 }), 'loss 0.5123');
  assert.equal(summarizeMetrics({ eval_runtime: 3 }), undefined);
  assert.equal(summarizeMetrics(undefined), undefined);
});

test('the extension state changes only on structured messages: printed JSON or a printed "cache DIR" changes nothing, malformed bodies are ignored', () => {
  const norm = (f: string) => f;
  const state = initialRunState({ metrics: 'm.py' }, norm);
  const out = (output: string) => ({ type: 'event', event: 'output', seq: 1, body: { category: 'stdout', output } });
  assert.equal(applyAdapterMessage(state, out('metrics (3 ms):\n{"eval_accuracy":0.5}\n'), norm), 'none');
  assert.equal(applyAdapterMessage(state, out('evaluated: 4 samples, cache /tmp/x\n'), norm), 'none');
  assert.deepEqual({ ...state }, { paused: false, cacheDir: undefined, metricsFile: 'm.py', functionName: undefined });
  // Wrong body shapes for our own events: ignored, not half-read.
  assert.equal(applyAdapterMessage(state, { type: 'event', event: DapEvents.Metrics, body: { metrics: 'x', diff: [] } }, norm), 'none');
  assert.equal(applyAdapterMessage(state, { type: 'event', event: DapEvents.RunInfo, body: { cacheDir: 3, numSamples: 4 } }, norm), 'none');
  assert.equal(applyAdapterMessage(state, { type: 'response', command: DapEvents.RunInfo, body: { cacheDir: '/a b', numSamples: 4 } }, norm), 'none');
  assert.equal({ ...state }.cacheDir, undefined);
  const info: RunInfoBody = { cacheDir: '/tmp/my cache/abc', cacheKey: 'k', numSamples: 4, fromCache: true, functionName: 'f' };
  assert.equal(applyAdapterMessage(state, { type: 'event', event: DapEvents.RunInfo, body: info }, norm), 'changed');
  assert.equal(state.cacheDir, '/tmp/my cache/abc');
  assert.equal(state.numSamples, 4);
  assert.equal(state.functionName, 'f');
  assert.equal(state.metricsFile, 'm.py', 'a run-info without a metric file keeps the configured one');
  assert.equal(applyAdapterMessage(state, { type: 'event', event: DapEvents.Metrics, body: { metrics: { eval_f1: 0.25 }, json: '{}', durationMs: 1, diff: [] } }, norm), 'metrics');
  assert.deepEqual(state.lastMetrics, { eval_f1: 0.25 });
  assert.equal(applyAdapterMessage(state, { type: 'event', event: 'stopped', body: { reason: 'exception', threadId: 1 } }, norm), 'stopped');
  assert.equal(state.stopReason, 'exception');
});

test('inline text from a real cache: shapes, argmax names, labels and the -100 count', async () => {
  const dir = tempDir();
  try {
    // 3 samples x 2 classes: argmax of rows [0.1,0.9], [0.8,0.2], [0.3,0.7] is 1, 0, 1.
    const preds = new Tensor('float32', [3, 2], Float32Array.from([0.1, 0.9, 0.8, 0.2, 0.3, 0.7]));
    const labels = new Tensor('int64', [3], BigInt64Array.from([1n, 1n, 0n]));
    const cache = `${dir}/cache`;
    writeCache(cache, { predictions: preds, labelIds: labels, inputs: null, losses: null }, { numSamples: 3, key: 'k', producer: {}, extra: { loop: { task: 'sequence-classification', info: { id2label: { 0: 'neg', 1: 'pos' } } } } });
    const s = await summarizeCache(cache);
    assert.equal(s.numSamples, 3);
    assert.equal(s.text.eval_pred, 'EvalPrediction(predictions=float32[3, 2], label_ids=int64[3])');
    assert.equal(s.text.predictions, 'float32[3, 2] → pos | neg | pos');
    assert.equal(s.text.label_ids, 'int64[3] → pos | pos | neg');
    // Token-level labels with -100 padding: 2 rows x 3, two -100 values.
    const tok = fieldTexts(
      { predictions: new Tensor('float32', [2, 3, 2], new Float32Array(12)), labelIds: new Tensor('int64', [2, 3], BigInt64Array.from([0n, 1n, -100n, 1n, -100n, 0n])), inputs: null, losses: null },
      {},
    );
    assert.match(tok.label_ids!, /^int64\[2, 3\] .*\(2 × -100\)$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SummaryStore: shapes are ready synchronously at the stop, decoded text follows once the tokenizer loads, a rewritten cache is re-read', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 2 });
    // inputs = [CLS] good movie [SEP] and [CLS] bad film [SEP], ids looked up in the fixture's vocabulary.
    const ids = (words: string[]) => words.map((w) => BigInt(VOCAB.indexOf(w)));
    const inputs = new Tensor('int64', [2, 4], BigInt64Array.from([...ids(['[CLS]', 'good', 'movie', '[SEP]']), ...ids(['[CLS]', 'bad', 'film', '[SEP]'])]));
    const preds = new Tensor('float32', [2, 3], new Float32Array(6));
    const labels = new Tensor('int64', [2], BigInt64Array.from([0n, 2n]));
    const cache = `${dir}/cache`;
    const write = (p: Tensor) =>
      writeCache(cache, { predictions: p, labelIds: labels, inputs, losses: null }, { numSamples: 2, key: 'k', producer: { model: { path: ws.modelDir } }, extra: { loop: { task: 'sequence-classification', info: {} } } });
    write(preds);
    let upgrades = 0;
    const store = new SummaryStore(() => upgrades++);
    const now = store.prepare(cache); // synchronous: what the provider can answer at once
    assert.ok(now);
    assert.equal(now.text.eval_pred, 'EvalPrediction(predictions=float32[2, 3], label_ids=int64[2], inputs=int64[2, 4])');
    assert.equal(now.text.inputs, 'int64[2, 4]'); // no tokenizer yet: no decoded text
    assert.equal(upgrades, 0);
    const full = await store.get(cache, 10_000);
    assert.match(full!.text.inputs!, /^int64\[2, 4\] → "good movie"$/); // special tokens skipped, as the decode for people does
    assert.equal(upgrades, 1);
    assert.equal(store.prepare(cache), full); // reused while the manifest is unchanged
    // The loop rewrites the cache (new manifest mtime): summarised again.
    await new Promise((r) => setTimeout(r, 20));
    write(new Tensor('float32', [2, 5], new Float32Array(10)));
    assert.match(store.prepare(cache)!.text.eval_pred!, /predictions=float32\[2, 5\]/);
    assert.equal(store.prepare(`${dir}/nope`), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
