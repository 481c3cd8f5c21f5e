// The evaluation loop end to end on tiny models built from code, checked against an independent Python
// reference of Trainer's accumulation and loss (test/helpers/trainer_reference.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runLoop } from '../../src/core/loop/driver';
import { planColumns, prepareBatch } from '../../src/core/loop/batches';
import { withDefaults, RunSettings } from '../../src/core/loop/settings';
import { loadDataset } from '../../src/core/data';
import { readModelConfig } from '../../src/core/model/config';
import { headFor } from '../../src/core/model/heads';
import { openModel } from '../../src/core/model/session';
import { loadTokenizer } from '../../src/core/text';
import { readNpyFile, writeNpyFile } from '../../src/core/tensor/npy';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { pythonWith } from '../helpers/python';
import { qaWorkspace, seqClsWorkspace, tempDir, tokenClsWorkspace } from '../fixtures/workspace';

const REF = path.join(__dirname, '..', '..', '..', 'test', 'helpers', 'trainer_reference.py');

/** Run each batch through the model ourselves and let the Python reference accumulate them as Trainer does. */
async function reference(settings: RunSettings, dir: string) {
  const config = readModelConfig(settings.model);
  const session = await openModel(settings.model);
  const head = headFor(config, session.outputNames);
  const tok = await loadTokenizer(settings.model);
  const ds = await loadDataset(settings.dataset);
  const plan = planColumns(ds, head.task, settings);
  const ctx = { ds, tok, config, plan, inputNames: session.inputNames, maxLength: 64 };
  const out = path.join(dir, 'ref');
  fs.mkdirSync(out);
  for (let b = 0, s = 0; s < ds.numRows; b++, s += settings.batchSize) {
    const batch = prepareBatch(ctx, s, Math.min(ds.numRows, s + settings.batchSize));
    const outputs = await session.run(batch.feeds);
    writeNpyFile(path.join(out, `batch${b}_logits.npy`), outputs[session.outputNames[0]]);
    writeNpyFile(path.join(out, `batch${b}_labels.npy`), batch.labels as Tensor);
    writeNpyFile(path.join(out, `batch${b}_inputs.npy`), batch.feeds.input_ids);
  }
  await session.close();
  execFileSync(pythonWith(['numpy']), [REF, out]);
  const load = (n: string) => readNpyFile(path.join(out, `ref_${n}.npy`));
  return {
    predictions: load('predictions'),
    labelIds: load('label_ids'),
    inputs: load('inputs'),
    evalLoss: Number(fs.readFileSync(path.join(out, 'ref_eval_loss.txt'), 'utf8')),
  };
}

function assertClose(a: Tensor, b: Tensor, tol: number, what: string) {
  assert.deepEqual(a.shape, b.shape, `${what} shape`);
  assert.equal(a.dtype, b.dtype, `${what} dtype`);
  for (let i = 0; i < a.size; i++) {
    const x = a.at(i), y = b.at(i);
    assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `${what}[${i}]: ${x} vs ${y}`);
  }
}

function assertExact(a: Tensor, b: Tensor, what: string) {
  assert.deepEqual(a.shape, b.shape, `${what} shape`);
  assert.equal(a.dtype, b.dtype, `${what} dtype`);
  assert.deepEqual(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength), `${what} bytes`);
}

test('sequence classification, N=10, B=4 (batches 4,4,2), ragged widths: equals the Trainer reference (O1, O2, O6, O7, O8)', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 10, numLabels: 3 });
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs', 'loss'] });
    const r = await runLoop(settings);
    const ref = await reference(settings, dir);
    const ep = r.evalPred;
    assertClose(ep.predictions as Tensor, ref.predictions, 1e-6, 'predictions');
    assertExact(ep.labelIds as Tensor, ref.labelIds, 'label_ids');
    assertExact(ep.inputs as Tensor, ref.inputs, 'inputs');
    // inputs are padded across batches with -100: the widest batch defines the width.
    assert.ok((ep.inputs as Tensor).shape[1] > 2);
    assert.ok(r.evalLoss !== null && Math.abs(r.evalLoss - ref.evalLoss) <= 1e-6 * Math.abs(ref.evalLoss), `eval_loss ${r.evalLoss} vs ${ref.evalLoss}`);
    const losses = ep.losses as Tensor;
    assert.deepEqual(losses.shape, [10]);
    // each batch's mean repeated n_s times: 4, 4 and 2 copies
    assert.equal(losses.at(0), losses.at(3));
    assert.equal(losses.at(8), losses.at(9));
    assert.notEqual(losses.at(3), losses.at(4));
    assert.equal(r.numSamples, 10);
    assert.equal(r.numSteps, 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('token classification with ragged widths: logits [10, L, C] with -100.0 blocks, labels aligned and padded (O4)', async () => {
  const dir = tempDir();
  try {
    const ws = tokenClsWorkspace(dir, { n: 10, numLabels: 3 });
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 });
    const r = await runLoop(settings);
    const ref = await reference(settings, dir);
    assertClose(r.evalPred.predictions as Tensor, ref.predictions, 1e-6, 'predictions');
    assertExact(r.evalPred.labelIds as Tensor, ref.labelIds, 'label_ids');
    const labels = r.evalPred.labelIds as Tensor;
    // [CLS] at position 0 never carries a label
    for (let i = 0; i < labels.shape[0]; i++) assert.equal(labels.get(i, 0), -100);
    // the number of labelled positions of each row equals its number of words (one sub-token per word here)
    ws.rows.forEach((row, i) => {
      let n = 0;
      for (let k = 0; k < labels.shape[1]; k++) if (labels.get(i, k) !== -100) n++;
      assert.equal(n, row.tokens.length, `row ${i}`);
    });
    assert.ok(r.evalLoss !== null && Math.abs(r.evalLoss - ref.evalLoss) <= 1e-6 * Math.abs(ref.evalLoss));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('argmax preprocessing keeps ids: int64 [N] for classification and -100-padded int64 [N, L] for tokens (O5)', async () => {
  const dir = tempDir();
  try {
    const ws = tokenClsWorkspace(dir, { n: 10 });
    const plain = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 }));
    const pre = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, preprocess: 'argmax' }));
    const logits = plain.evalPred.predictions as Tensor;
    const ids = pre.evalPred.predictions as Tensor;
    assert.equal(ids.dtype, 'int64');
    assert.deepEqual(ids.shape, logits.shape.slice(0, 2));
    for (let i = 0; i < ids.shape[0]; i++) {
      for (let k = 0; k < ids.shape[1]; k++) {
        // a padded position holds -100.0 in every class of the logits and -100 in the argmax'd ids
        if (logits.get(i, k, 0) === -100 && logits.get(i, k, 1) === -100) assert.equal(ids.get(i, k), -100);
        else assert.equal(ids.get(i, k), logits.row(i).row(k).argmax(-1).at(0));
      }
    }
    assert.equal(pre.evalLoss, plain.evalLoss, 'the loss is computed before preprocessing');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('batch size 1 and a last partial batch; tuple outputs stay tuples', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 10, numLabels: 2, extraOutputs: true });
    const one = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 1, includeForMetrics: ['loss'] }));
    const three = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 3, includeForMetrics: ['loss'] }));
    for (const r of [one, three]) {
      const p = r.evalPred.predictions as { tuple: Tensor[] };
      assert.ok('tuple' in p, 'two model outputs -> a tuple');
      assert.equal(p.tuple.length, 2);
      assert.deepEqual(p.tuple[0].shape, [10, 2]);
      assert.deepEqual(p.tuple[1].shape, [10, 8]);
      assert.deepEqual((r.evalPred.losses as Tensor).shape, [10]);
    }
    assert.equal(three.numSteps, 4);
    // logits do not depend on how rows are batched (the model pools with the attention mask)
    assertClose((one.evalPred.predictions as { tuple: Tensor[] }).tuple[0], (three.evalPred.predictions as { tuple: Tensor[] }).tuple[0], 1e-5, 'logits');
    // eval_loss with B=1 is the plain mean of per-example losses, weighted as §4.4 with B=3
    const perExample = one.evalPred.losses as Tensor;
    const mean = Array.from(perExample.data as Float32Array).reduce((a, b) => a + b, 0) / 10;
    assert.ok(Math.abs(one.evalLoss! - mean) < 1e-6);
    assert.ok(Math.abs(three.evalLoss! - mean) < 1e-5, 'Trainer weights batch means by batch size, so the result equals the per-example mean');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('eval_do_concat_batches=False gives per-batch lists with no -100 (O11)', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 10 });
    const r = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs'], evalDoConcatBatches: false }));
    const inputs = r.evalPred.inputs as { list: Tensor[] };
    assert.deepEqual(inputs.list.map((t) => t.shape[0]), [4, 4, 2]);
    for (const t of inputs.list) for (let i = 0; i < t.size; i++) assert.notEqual(t.at(i), -100);
    assert.deepEqual((r.evalPred.predictions as { list: Tensor[] }).list.map((t) => t.shape), [[4, 3], [4, 3], [2, 3]]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('extractive QA: predictions and label_ids are (start, end) tuples (O9)', async () => {
  const dir = tempDir();
  try {
    const ws = qaWorkspace(dir, { n: 6 });
    const r = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 }));
    const p = r.evalPred.predictions as { tuple: Tensor[] };
    const l = r.evalPred.labelIds as { tuple: Tensor[] };
    assert.equal(p.tuple.length, 2);
    assert.equal(l.tuple.length, 2);
    assert.equal(p.tuple[0].shape[0], 6);
    assert.deepEqual(l.tuple[0].shape, [6]);
    // the answer is the last word of the context (one token): run_qa's start scan runs on into [SEP] (its "edge
    // case", so Trainer's labels do too), one past the end, which stays on the word, inside the context
    for (let i = 0; i < 6; i++) {
      assert.equal(l.tuple[0].at(i), l.tuple[1].at(i) + 1);
      assert.ok(l.tuple[1].at(i) > 3);
    }
    assert.ok(r.evalLoss !== null && r.evalLoss > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
