// Debug Console comfort through a real DAP client against the bundled adapter: `completions` at the
// compute_metrics boundary (names, the EvalPrediction's fields, np's functions for a Python metric, the
// expression built-ins, attributes after a dot), completions forwarded to debugpy inside a Python frame, and
// Copy Value (evaluate with context 'clipboard') giving the whole value, bounded, not the shortened display.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../../src/core/cache/store';
import { Tensor } from '../../src/core/tensor/tensor';
import { clipboardText } from '../../src/debug/clipboard';
import { pythonWith, runPython } from '../helpers/python';
import { launch, withAdapter } from './client';

const PY_METRIC = `import numpy as np
from collections import Counter as Tally
THRESHOLD = 0.5

def helper_score(x):
    return x

def compute_metrics(eval_preds):
    preds, labels = eval_preds
    acc = float((preds.argmax(-1) == labels).mean())
    return {"accuracy": acc}
`;
const TS_METRIC = `export function computeMetrics(p: { predictions: { argmax(a: number): { get(i: number): number } } }) { return { n: 1 }; }\n`;

/** A cache: predictions float32 [rows, 2] (row i = [i, 10 - i]), label_ids int64 [rows] = i % 2. */
function cacheIn(dir: string, rows = 4): string {
  const cache = path.join(dir, 'cache');
  const preds = Tensor.from('float32', [rows, 2], Array.from({ length: rows * 2 }, (_, k) => (k % 2 ? 10 - (k >> 1) : k >> 1)));
  const labels = Tensor.from('int64', [rows], Array.from({ length: rows }, (_, i) => i % 2));
  writeCache(cache, { predictions: preds, labelIds: labels, inputs: null, losses: null }, { numSamples: rows, key: 'completions', producer: {} });
  return cache;
}

async function complete(dc: DebugClient, text: string, column = text.length + 1): Promise<DebugProtocol.CompletionItem[]> {
  return ((await dc.send('completions', { text, column })) as DebugProtocol.CompletionsResponse).body.targets;
}
const labels = (items: DebugProtocol.CompletionItem[]) => items.map((i) => i.label);

test('completions at the boundary of a Python metric: the parameter, np and the module\'s names; fields, np functions and array members after a dot', () =>
  withAdapter(async (dc, dir) => {
    const metrics = path.join(dir, 'metrics.py');
    fs.writeFileSync(metrics, PY_METRIC);
    const stopped = dc.waitForEvent('stopped');
    const caps = await launch(dc, { cache: cacheIn(dir), metrics, python: pythonWith(['numpy']) });
    assert.equal(caps.body?.supportsCompletionsRequest, true);
    assert.equal(caps.body?.supportsClipboardContext, true);
    await stopped;
    const all = labels(await complete(dc, ''));
    for (const n of ['eval_preds', 'eval_pred', 'np', 'compute_metrics', 'helper_score', 'Tally', 'THRESHOLD', 'len']) assert.ok(all.includes(n), `${n} in ${all.join(' ')}`);
    // a prefix filters, and the item replaces the typed word (start is 1-based as the client asked)
    const ev = await complete(dc, 'x = eval_p');
    assert.deepEqual(labels(ev), ['eval_preds', 'eval_pred']);
    assert.deepEqual([ev[0].start, ev[0].length], [5, 6]);
    assert.deepEqual(labels(await complete(dc, 'eval_preds.')), ['predictions', 'label_ids', 'inputs', 'losses']);
    assert.deepEqual(labels(await complete(dc, 'eval_preds.la')), ['label_ids']);
    const np = labels(await complete(dc, 'np.arg'));
    assert.deepEqual(np, ['argmax', 'argmin', 'argsort']);
    const members = labels(await complete(dc, 'eval_preds.predictions.'));
    for (const m of ['shape', 'dtype', 'argmax', 'astype', 'reshape']) assert.ok(members.includes(m), m);
    assert.deepEqual(labels(await complete(dc, 'eval_preds.predictions[0].ar')), ['argmax', 'argmin', 'argsort']);
    // the cursor in the middle of the line: only what is before it counts
    assert.deepEqual(labels(await complete(dc, 'np.whe + 1', 7)), ['where']);
    // ':' switches to the safe expression language: its built-ins and names, its array members
    const expr = labels(await complete(dc, ':'));
    for (const n of ['predictions', 'label_ids', 'argmax', 'softmax', 'decode', 'sample', 'eval_preds']) assert.ok(expr.includes(n), n);
    assert.ok(!expr.includes('np'), 'np is Python, not the expression language');
    assert.deepEqual(labels(await complete(dc, ':predictions.s')), ['shape', 'size', 'sum']);
  }));

test('completions for a TS metric after ":" use the expression language; a completion is accepted by evaluate', () =>
  withAdapter(async (dc, dir) => {
    const metrics = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metrics, TS_METRIC);
    const stopped = dc.waitForEvent('stopped');
    await launch(dc, { cache: cacheIn(dir), metrics });
    await stopped;
    // A bare line is JavaScript for a TS metric (test/adapter/nodeDebug.test.ts); ':' is the expression language.
    const soft = await complete(dc, ':softm');
    assert.deepEqual(labels(soft), ['softmax']);
    assert.equal(soft[0].type, 'function');
    const field = labels(await complete(dc, ':label_ids.n'));
    assert.deepEqual(field, ['ndim']);
    // what completion offered evaluates
    const r = await dc.evaluateRequest({ expression: `:label_ids.${field[0]}`, context: 'repl' });
    assert.equal(r.body.result, '1');
  }));

test('Copy Value (context clipboard) gives every element, where the console shows an elided preview; past 1 MB it is cut with a note', () =>
  withAdapter(async (dc, dir) => {
    const metrics = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metrics, TS_METRIC);
    const cache = cacheIn(dir, 50);
    const stopped = dc.waitForEvent('stopped');
    await launch(dc, { cache, metrics });
    await stopped;
    const shown = (await dc.evaluateRequest({ expression: ':label_ids', context: 'repl' })).body.result;
    assert.match(shown, /\.\.\./, 'the console elides the middle');
    const copied = (await dc.evaluateRequest({ expression: 'label_ids', context: 'clipboard' })).body.result;
    // NumPy reading the same cache is the oracle: the copy is the whole array, as Python's list text.
    const expected = runPython(`import numpy as np; print(np.load(${JSON.stringify(path.join(cache, 'label_ids.npy'))}).tolist())`).trim();
    assert.equal(copied, expected);
    const rows = (await dc.evaluateRequest({ expression: 'predictions[:3]', context: 'clipboard' })).body.result;
    assert.equal(rows, '[[0.0, 10.0], [1.0, 9.0], [2.0, 8.0]]');
    // The bound: a value whose text passes the limit is cut there, and says so.
    const big = Tensor.from('float64', [200_000], Array.from({ length: 200_000 }, (_, i) => i + 0.5));
    const text = clipboardText(big);
    assert.ok(text.length < 1_000_000 + 300, `${text.length} characters`);
    assert.ok(text.startsWith('[0.5, 1.5, 2.5'));
    assert.match(text, /\n… cut at 1,000,000 characters: float64\[200000\] is larger than the clipboard copy holds/);
    assert.equal(clipboardText(Tensor.from('float64', [3], [1, 2, 3.5])), '[1.0, 2.0, 3.5]');
  }));

test('stopped inside a Python frame, completions come from debugpy (the frame\'s locals)', () =>
  withAdapter(async (dc, dir) => {
    const metrics = path.join(dir, 'metrics.py');
    fs.writeFileSync(metrics, PY_METRIC);
    const boundary = dc.waitForEvent('stopped');
    await launch(dc, { cache: cacheIn(dir), metrics, python: pythonWith(['numpy', 'debugpy']) }, async () => {
      await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 11 }] });
    });
    await boundary;
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const stop = await hit;
    const frames = (await dc.stackTraceRequest({ threadId: stop.body.threadId! })).body.stackFrames;
    assert.equal(frames[0].line, 11);
    const r = (await dc.send('completions', { text: 'ac', column: 3, frameId: frames[0].id })) as DebugProtocol.CompletionsResponse;
    // `acc` is a local of compute_metrics: only the frame (debugpy) knows it.
    assert.ok(r.body.targets.some((t) => t.label === 'acc'), r.body.targets.map((t) => t.label).join(' '));
    const pre = (await dc.send('completions', { text: 'pre', column: 4, frameId: frames[0].id })) as DebugProtocol.CompletionsResponse;
    assert.ok(pre.body.targets.some((t) => t.label === 'preds'));
  }));

const TS_PAUSED_METRIC = `const SCALE = 2;
let sideEffects = 0;
const counter = { get bump() { return ++sideEffects; }, plain: 1 };

export function computeMetrics(evalPred: any) {
  const [preds, labels] = evalPred;
  const decodedRows = preds.argmax(-1);
  const label = 'abc';
  const accuracy = labels.size / SCALE;
  return { accuracy, sideEffects, plain: counter.plain, rows: decodedRows.size, label };
}
`;

test('stopped on a line of a TS metric, completions come from the inspector: names in scope, members after a dot, never a side effect', () =>
  withAdapter(async (dc, dir) => {
    const metrics = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metrics, TS_PAUSED_METRIC);
    const boundary = dc.waitForEvent('stopped');
    await launch(dc, { cache: cacheIn(dir), metrics }, async () => {
      await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 9 }] });
    });
    await boundary;
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    await hit;
    const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.equal(frames[0].line, 9);
    const frameId = frames[0].id;
    const at = async (text: string, column = text.length + 1) =>
      ((await dc.send('completions', { text, column, frameId })) as DebugProtocol.CompletionsResponse).body.targets;
    // Locals of the paused frame (only the inspector knows them), then the module's names and globals.
    const dec = await at('decoded');
    assert.deepEqual(labels(dec), ['decodedRows']);
    assert.deepEqual([dec[0].start, dec[0].length, dec[0].type], [1, 7, 'variable']);
    assert.deepEqual(labels(await at('dec')), ['decodedRows', 'decodeURI', 'decodeURIComponent'], 'the local first, then globals');
    const all = labels(await at(''));
    for (const n of ['evalPred', 'preds', 'labels', 'decodedRows', 'label', 'SCALE', 'counter', 'Math', 'JSON']) assert.ok(all.includes(n), `${n} in ${all.join(' ')}`);
    assert.ok(all.indexOf('decodedRows') < all.indexOf('Math'), 'locals come before globals');
    // Members after a dot: the tensor's own fields and its class's methods (inherited), the item replacing the word.
    const tensor = await at('x = preds.ar');
    assert.ok(labels(tensor).includes('argmax'), labels(tensor).join(' '));
    assert.ok(tensor.every((t) => t.start === 11 && t.length === 2));
    assert.equal(tensor.find((t) => t.label === 'argmax')!.type, 'method');
    const shape = labels(await at('preds.'));
    for (const m of ['shape', 'dtype', 'size', 'at', 'argmax']) assert.ok(shape.includes(m), `${m} in ${shape.join(' ')}`);
    // A string's members, a nested chain, an indexed element, the middle of a line.
    assert.ok(labels(await at('label.toUpp')).includes('toUpperCase'));
    assert.deepEqual(labels(await at('Math.PI.toFix')), ['toFixed']);
    assert.deepEqual(labels(await at('labels.shape[0].toFix')), ['toFixed']);
    // The EvalPrediction is a Proxy: its fields are completed from its target, its trap never runs.
    const ep = labels(await at('evalPred.'));
    for (const f of ['predictions', 'labelIds', 'label_ids', 'inputs', 'losses']) assert.ok(ep.includes(f), `${f} in ${ep.join(' ')}`);
    assert.ok(labels(await at('evalPred.predictions.sh')).includes('shape'));
    assert.deepEqual(labels(await at('JSON.str + 1', 9)), ['stringify']);
    // Nothing before the dot, a number's decimal point, an unknown name: no items, no error.
    assert.deepEqual(await at('1.'), []);
    assert.deepEqual(await at('nope.x'), []);
    // A getter with a side effect is never run to complete what follows it.
    assert.deepEqual(await at('counter.bump.'), []);
    assert.ok(labels(await at('counter.')).includes('plain'));
    assert.equal((await dc.evaluateRequest({ expression: 'sideEffects', frameId, context: 'repl' })).body.result, '0');
    // ':' lines are the safe expression language, completed as at the boundary.
    assert.deepEqual(labels(await at(':softm')), ['softmax']);
    // What completion offered evaluates in the frame.
    assert.equal((await dc.evaluateRequest({ expression: 'decodedRows.size', frameId, context: 'repl' })).body.result, '4');
  }));
