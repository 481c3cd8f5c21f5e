// batch_eval_metrics in a debug session (docs/trainer-semantics.md#batch_eval_metrics), through a real DAP client against
// the bundled adapter: the session stops before every compute_metrics call, the stop and the Variables name the
// batch and compute_result, the EvalPrediction scope holds that batch only, the Debug Console's Python sees it,
// continue makes one call, and the metrics arrive after the call with compute_result=True. Watches, hovers and ':'
// lines (evalpred's expression language) see inputs as that call's batch mapping, checked against the cached arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readCache, writeCache } from '../../src/core/cache/store';
import { Tensor } from '../../src/core/tensor/tensor';
import { DapEvents, MetricsBody } from '../../src/shared/dapProtocol';
import { pythonWith } from '../helpers/python';
import { seqClsWorkspace } from '../fixtures/workspace';
import { launch, withAdapter } from './client';

const METRIC = `import numpy as np

seen = []

def compute_metrics(eval_pred, compute_result):
    preds = np.asarray(eval_pred.predictions).argmax(-1)
    seen.append((int(preds.shape[0]), int((preds == np.asarray(eval_pred.label_ids)).sum()), compute_result))
    if not compute_result:
        return None
    rows = sum(s[0] for s in seen)
    out = {"accuracy": sum(s[1] for s in seen) / rows, "rows": rows, "calls": len(seen)}
    seen.clear()
    return out
`;

const vars = async (dc: DebugClient, ref: number) => (await dc.variablesRequest({ variablesReference: ref })).body.variables;
/** A 1-d or 2-d integer array as the clipboard copy writes it (nested lists), from the cached array itself. */
const listText = (t: Tensor): string => {
  const row = (r: number) => `[${Array.from({ length: t.shape[1] }, (_, c) => String(t.at(r * t.shape[1] + c))).join(', ')}]`;
  if (t.ndim === 1) return `[${Array.from({ length: t.shape[0] }, (_, i) => String(t.at(i))).join(', ')}]`;
  return `[${Array.from({ length: t.shape[0] }, (_, r) => row(r)).join(', ')}]`;
};

const valueOf = (vs: DebugProtocol.Variable[], name: string) => {
  const v = vs.find((x) => x.name === name);
  assert.ok(v, `no variable ${name} in ${vs.map((x) => x.name).join(', ')}`);
  return v.value;
};

/** The paused state: stop description, top frame name, the batch_eval_metrics scope and the shape of predictions. */
async function pausedAt(dc: DebugClient, stop: DebugProtocol.StoppedEvent) {
  const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
  const call = scopes.find((s) => s.name === 'batch_eval_metrics');
  assert.ok(call, `scopes: ${scopes.map((s) => s.name).join(', ')}`);
  const callVars = await vars(dc, call.variablesReference);
  const ep = await vars(dc, scopes.find((s) => s.name === 'eval_pred')!.variablesReference);
  const inputs = ep.find((v) => v.name === 'inputs')!;
  const children = inputs.variablesReference ? await vars(dc, inputs.variablesReference) : [];
  const keys = children.map((v) => `${v.name} ${v.value} (${v.evaluateName})`);
  return {
    description: stop.body.description ?? '',
    frame: frames[0].name,
    batch: valueOf(callVars, 'batch'),
    computeResult: valueOf(callVars, 'compute_result'),
    predictions: valueOf(ep, 'predictions'),
    inputs: { value: inputs.value, type: inputs.type, keys, evaluateNames: children.map((v) => v.evaluateName!) },
  };
}

test('batchEvalMetrics: a stop before each compute_metrics call with its batch and compute_result; continue makes one call; metrics after the last', () =>
  withAdapter(async (dc, dir) => {
    const ws = seqClsWorkspace(dir, { n: 10, numLabels: 3 });
    const metrics = path.join(dir, 'metric.py');
    fs.writeFileSync(metrics, METRIC);
    const cache = path.join(dir, 'cache');
    const events: MetricsBody[] = [];
    dc.on(DapEvents.Metrics, (e: DebugProtocol.Event) => events.push(e.body as MetricsBody));
    const output: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => output.push(e.body.output));
    let stopped = dc.waitForEvent('stopped');
    await launch(dc, { model: ws.modelDir, dataset: ws.dataset, metrics, cache, batchSize: 4, batchEvalMetrics: true, includeForMetrics: ['inputs'], python: pythonWith(['numpy']) });

    let stop = (await stopped) as DebugProtocol.StoppedEvent;
    // What the cache holds per batch: the expected rows and accuracy.
    const ep = readCache(cache).evalPred;
    const batches = (ep.predictions as { list: Tensor[] }).list;
    assert.ok(ep.batchInputs, 'the cache keeps the batch mappings');
    const cached: Record<string, Tensor[]> = { input_ids: (ep.inputs as { list: Tensor[] }).list };
    for (const [k, n] of Object.entries(ep.batchInputs.lists)) cached[k] = (n as { list: Tensor[] }).list;
    // The fixture's batches differ in what the watches below read, so a watch showing the wrong batch fails.
    assert.notEqual(listText(cached.attention_mask[0]), listText(cached.attention_mask[1]));
    assert.notEqual(listText(cached.labels[0]), listText(cached.labels[1]));
    const labels = (ep.labelIds as { list: Tensor[] }).list;
    assert.deepEqual(batches.map((t) => t.shape[0]), [4, 4, 2]);
    let hit = 0;
    batches.forEach((p, b) => {
      const ids = p.argmax(-1);
      for (let i = 0; i < ids.shape[0]; i++) if (Number(ids.at(i)) === Number(labels[b].at(i))) hit++;
    });

    for (let b = 0; b < 3; b++) {
      const at = await pausedAt(dc, stop);
      const flag = b === 2 ? 'True' : 'False';
      assert.equal(at.batch, `${b + 1} of 3`);
      assert.equal(at.computeResult, flag);
      assert.equal(at.description, `Paused at compute_metrics(eval_pred, compute_result=${flag}): batch ${b + 1} of 3`);
      assert.match(at.frame, new RegExp(`^compute_metrics\\(eval_pred, compute_result=${flag}\\) \\[batch ${b + 1} of 3\\]$`));
      // The EvalPrediction at this stop is that batch alone: no rows of other batches.
      assert.match(at.predictions, new RegExp(`\\[${batches[b].shape[0]}, 3\\]`), at.predictions);
      // inputs is the call's whole batch mapping, key by key in the collator's order, that batch's arrays
      const width = (ep.inputs as { list: Tensor[] }).list[b].shape[1];
      const rows = batches[b].shape[0];
      assert.equal(at.inputs.type, 'BatchEncoding');
      assert.deepEqual(at.inputs.keys, [
        `input_ids int64[${rows}, ${width}] (inputs["input_ids"])`,
        `attention_mask int64[${rows}, ${width}] (inputs["attention_mask"])`,
        `labels int64[${rows}] (inputs["labels"])`,
      ]);
      await checkExpressions(dc, b, at.inputs.evaluateNames, cached);
      const keys = await dc.evaluateRequest({ expression: 'list(eval_pred.inputs.keys())', context: 'repl', frameId: 1 });
      assert.equal(keys.body.result, "['input_ids', 'attention_mask', 'labels']");
      // The Debug Console's Python sees the same batch and flag the call will get.
      const shape = await dc.evaluateRequest({ expression: 'eval_pred.predictions.shape[0], compute_result', context: 'repl', frameId: 1 });
      assert.equal(shape.body.result, `(${batches[b].shape[0]}, ${flag})`);
      assert.equal(events.length, 0, 'no metrics before the call with compute_result=True');
      stopped = dc.waitForEvent('stopped');
      await dc.continueRequest({ threadId: 1 });
      stop = (await stopped) as DebugProtocol.StoppedEvent;
    }
    // After the last call: the metrics, and a stop that starts over at batch 1.
    const after = await pausedAt(dc, stop);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(events.length, 1);
    const m = events[0].metrics as Record<string, number>;
    assert.equal(m.eval_rows, 10);
    assert.equal(m.eval_calls, 3);
    assert.equal(m.eval_accuracy, hit / 10);
    assert.equal(typeof m.eval_loss, 'number');
    assert.equal(after.batch, '1 of 3');
    assert.match(after.description, /metrics computed; continue calls it again from batch 1/);
    assert.ok(output.some((o) => /compute_metrics \(batch 1 of 3, compute_result=False\) returned None/.test(o)), output.join(''));
  }));

/**
 * At the stop before call b: watches, hovers, ':' lines and completions of evalpred's expression language see inputs as
 * that call's batch mapping, and each Variables child's evaluateName evaluates to that key's cached array.
 */
async function checkExpressions(dc: DebugClient, b: number, evaluateNames: string[], cached: Record<string, Tensor[]>) {
  const ev = async (expression: string, context: string) => (await dc.evaluateRequest({ expression, context, frameId: 1 })).body;
  const [ids, mask, labels] = [cached.input_ids[b], cached.attention_mask[b], cached.labels[b]];
  // The Variables' children round-trip: each evaluateName gives that key's whole array for this batch.
  assert.deepEqual(evaluateNames, ['inputs["input_ids"]', 'inputs["attention_mask"]', 'inputs["labels"]']);
  for (const [name, t] of [[evaluateNames[0], ids], [evaluateNames[1], mask], [evaluateNames[2], labels]] as const) {
    assert.equal((await ev(name, 'clipboard')).result, listText(t), name);
    assert.match((await ev(name, 'watch')).result, new RegExp(`^int64\\[${t.shape.join(', ')}\\]`), name);
  }
  // Attribute access, the eval_pred path (a hover over the metric's code), and arithmetic on a key.
  assert.equal((await ev('inputs.attention_mask', 'clipboard')).result, listText(mask));
  assert.equal((await ev('eval_pred.inputs["labels"]', 'clipboard')).result, listText(labels));
  const hover = await ev('eval_pred.inputs.input_ids', 'hover');
  assert.equal(hover.type, 'int64 array');
  assert.match(hover.result, new RegExp(`^int64\\[${ids.shape[0]}, ${ids.shape[1]}\\]`));
  const lengths = Array.from({ length: mask.shape[0] }, (_, r) => Array.from({ length: mask.shape[1] }, (_, c) => Number(mask.at(r * mask.shape[1] + c))).reduce((x, y) => x + y, 0));
  assert.equal((await ev('sum(inputs["attention_mask"], 1)', 'watch')).result, `int64[${mask.shape[0]}] [${lengths.join(', ')}]`);
  assert.equal((await ev('inputs["input_ids"].shape', 'watch')).result, `(${ids.shape[0]}, ${ids.shape[1]})`);
  assert.equal((await ev(':inputs.keys()', 'repl')).result, "('input_ids', 'attention_mask', 'labels')");
  // inputs alone: the keys and this batch's shapes, expandable key by key.
  const whole = await ev('inputs', 'watch');
  assert.equal(whole.type, 'BatchEncoding');
  assert.equal(whole.result, `{'input_ids': int64[${ids.shape.join(', ')}], 'attention_mask': int64[${mask.shape.join(', ')}], 'labels': int64[${labels.shape[0]}]}`);
  assert.equal((await ev('inputs', 'clipboard')).result, `{'input_ids': ${listText(ids)}, 'attention_mask': ${listText(mask)}, 'labels': ${listText(labels)}}`);
  const kids = await vars(dc, whole.variablesReference);
  assert.deepEqual(kids.map((k) => `${k.name} ${k.evaluateName}`), ['input_ids inputs["input_ids"]', 'attention_mask inputs["attention_mask"]', 'labels inputs["labels"]']);
  // A key the collator did not give: the keys there are.
  await assert.rejects(ev('inputs["token_type_ids"]', 'watch'), /no key 'token_type_ids'; its keys: input_ids, attention_mask, labels/);
  // Completions offer the keys: after a dot (Python line) and inside a ':' line's brackets.
  const labelsOf = async (text: string) => (await dc.completionsRequest({ text, column: text.length + 1, frameId: 1 })).body.targets.map((t) => t.label);
  const afterDot = await labelsOf('eval_pred.inputs.');
  assert.deepEqual(afterDot.slice(0, 3), ['input_ids', 'attention_mask', 'labels']);
  assert.ok(afterDot.includes('keys') && !afterDot.includes('shape'), afterDot.join(', '));
  assert.deepEqual(await labelsOf(':inputs["att'), ['attention_mask']);
}

test('batchEvalMetrics: a cache made before batch_inputs existed shows inputs as Python gets it, a mapping of input_ids alone, in Variables and expressions alike', () =>
  withAdapter(async (dc, dir) => {
    // Two per-batch calls; the cache keeps each batch's input_ids (eval_prediction.inputs) and no batch_inputs entry.
    const ids = [Tensor.from('int64', [2, 3], [5, 6, 7, 8, 9, 1]), Tensor.from('int64', [1, 4], [3, 4, 2, 1])];
    const cache = path.join(dir, 'cache');
    writeCache(
      cache,
      {
        predictions: { list: [Tensor.full('float32', [2, 2], 0.5), Tensor.full('float32', [1, 2], 0.25)] },
        labelIds: { list: [Tensor.from('int64', [2], [0, 1]), Tensor.from('int64', [1], [1])] },
        inputs: { list: ids },
        losses: null,
      },
      { numSamples: 3, key: 'old-batch-eval', producer: { settings: { batchEvalMetrics: true } } },
    );
    assert.equal(readCache(cache).evalPred.batchInputs, undefined);
    const metrics = path.join(dir, 'metric.py');
    fs.writeFileSync(metrics, METRIC);
    let stopped = dc.waitForEvent('stopped');
    await launch(dc, { cache, metrics, python: pythonWith(['numpy']) });
    for (let b = 0; b < 2; b++) {
      const at = await pausedAt(dc, (await stopped) as DebugProtocol.StoppedEvent);
      assert.deepEqual(at.inputs.evaluateNames, ['inputs["input_ids"]']);
      const ev = async (expression: string, context: string) => (await dc.evaluateRequest({ expression, context, frameId: 1 })).body;
      assert.equal((await ev('inputs', 'watch')).result, `{'input_ids': int64[${ids[b].shape.join(', ')}]}`);
      assert.equal((await ev(at.inputs.evaluateNames[0], 'clipboard')).result, listText(ids[b]));
      await assert.rejects(ev('inputs.attention_mask', 'watch'), /no key or attribute 'attention_mask'; its keys: input_ids/);
      assert.equal((await ev('list(eval_pred.inputs.keys())', 'repl')).result, "['input_ids']", 'the metric\'s Python gets the same mapping');
      stopped = dc.waitForEvent('stopped');
      await dc.continueRequest({ threadId: 1 });
    }
    // After the last call the session starts over at batch 1.
    assert.equal((await pausedAt(dc, (await stopped) as DebugProtocol.StoppedEvent)).batch, '1 of 2');
  }));
