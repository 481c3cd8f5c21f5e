// batch_eval_metrics in a debug session (docs/trainer-semantics.md#batch_eval_metrics), through a real DAP client against
// the bundled adapter: the session stops before every compute_metrics call, the stop and the Variables name the
// batch and compute_result, the EvalPrediction scope holds that batch only, the Debug Console's Python sees it,
// continue makes one call, and the metrics arrive after the call with compute_result=True.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readCache } from '../../src/core/cache/store';
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
  const keys = inputs.variablesReference ? (await vars(dc, inputs.variablesReference)).map((v) => `${v.name} ${v.value} (${v.evaluateName})`) : [];
  return {
    description: stop.body.description ?? '',
    frame: frames[0].name,
    batch: valueOf(callVars, 'batch'),
    computeResult: valueOf(callVars, 'compute_result'),
    predictions: valueOf(ep, 'predictions'),
    inputs: { value: inputs.value, type: inputs.type, keys },
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
