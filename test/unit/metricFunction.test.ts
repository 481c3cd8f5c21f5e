// One metric-function locator: the debug runtime's stack frame (findMetricFunction) and the extension's
// CodeLens / quick pick (findMetricFunctions + pickMetricFunction) point at the same line for the usual forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findMetricFunction, findMetricFunctions, mentionsPreprocess, metricParam, pickMetricFunction } from '../../src/core/metrics/metricFunction';

const SOURCES: [string, string, number][] = [
  ['m.py', 'import numpy as np\n\ndef helper(x):\n    return x\n\nasync def compute_metrics(eval_pred):\n    return {}\n', 6],
  ['m.ts', 'import x from "y";\nexport async function computeMetrics(evalPred) {\n  return {};\n}\n', 2],
  ['m.ts', 'const a = 1;\nexport const computeMetrics = async (p: EvalPred) => ({});\n', 2],
  ['m.js', '// generator\nfunction* computeMetrics(p) {}\n', 2],
  ['m.ts', 'export function computeMetrics<T>(evalPred: T) {\n  return {};\n}\n', 1],
];

test('the runtime and the extension locate the same metric function', () => {
  for (const [file, src, line] of SOURCES) {
    assert.equal(findMetricFunction(file, src).line, line, `${file}: ${src}`);
    assert.equal(pickMetricFunction(findMetricFunctions(src, file))!.line + 1, line, `${file}: ${src}`);
  }
});

test('named functions: looser forms count only when the name is known', () => {
  const src = 'const m = require("./m");\nexports.my_metric = m.run;\n';
  assert.deepEqual(findMetricFunction('m.js', src, 'my_metric'), { file: 'm.js', line: 2, name: 'my_metric' });
  assert.deepEqual(findMetricFunctions(src, 'm.js'), []); // no definition that looks like a metric function
  assert.deepEqual(findMetricFunction('m.py', 'x = 1\n', 'missing'), { file: 'm.py', line: 1, name: 'missing' });
});

test('the preprocess detector used by the cache key and the Python runner', () => {
  assert.equal(mentionsPreprocess('def preprocess_logits_for_metrics(logits, labels):\n    return logits.argmax(-1)\n'), true);
  assert.equal(mentionsPreprocess('export function preprocessLogitsForMetrics(l) { return l; }'), true);
  assert.equal(mentionsPreprocess('def compute_metrics(p):\n    return {}\n'), false);
});

test("the EvalPrediction parameter's own name: one line or several, typed, self skipped, none when destructured", () => {
  const param = (src: string) => metricParam(src, 0);
  assert.equal(param('def compute_metrics(eval_preds):'), 'eval_preds');
  assert.equal(param('def compute_metrics(\n        p,\n        tokenizer=None):'), 'p');
  assert.equal(param('    def compute_metrics(self, eval_pred):'), 'eval_pred');
  assert.equal(param('export function computeMetrics(pred: EvalPrediction) {'), 'pred');
  assert.equal(param('export const computeMetrics = async (evalPreds) => ({});'), 'evalPreds');
  assert.equal(param('const computeMetrics = ep => ({});'), 'ep');
  assert.equal(param('export function computeMetrics({ predictions, labelIds }) {'), undefined);
  assert.equal(findMetricFunction('m.py', 'def compute_metrics(eval_preds):\n    pass\n').param, 'eval_preds');
  assert.deepEqual(findMetricFunctions('def score(eval_preds):\n    pass\n', 'm.py'), [{ name: 'score', line: 0 }], 'eval_preds marks a metric function');
});
