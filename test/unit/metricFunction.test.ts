// One metric-function locator: the debug runtime's stack frame (findMetricFunction) and the extension's
// CodeLens / quick pick (findMetricFunctions + pickMetricFunction) point at the same line for the usual forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findMetricFunction, findMetricFunctions, mentionsPreprocess, pickMetricFunction } from '../../src/core/metrics/metricFunction';

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
