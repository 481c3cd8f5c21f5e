// TrainingArguments that change what compute_metrics receives, on tiny models built from code:
// label_smoothing_factor (Trainer's LabelSmoother in evaluation, against a NumPy transcription of it in
// test/helpers/label_smoother_reference.py, fed the same per-batch logits and labels) and
// dataloader_drop_last (the last incomplete batch is dropped, num_samples stays len(eval_dataset)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runLoop } from '../../src/core/loop/driver';
import { RunSettings, withDefaults } from '../../src/core/loop/settings';
import { labelSmoothedLoss } from '../../src/core/model/labelSmoother';
import { lintEvalPrediction } from '../../src/core/lint/lints';
import { writeNpyFile } from '../../src/core/tensor/npy';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { pythonWith, runPython } from '../helpers/python';
import { GEN_WORDS, writeCausalLmModel, writeSeq2SeqModel } from '../fixtures/generative';
import { qaWorkspace, seqClsWorkspace, tempDir, tokenClsWorkspace, writeJsonl } from '../fixtures/workspace';

const REF = path.join(__dirname, '..', '..', '..', 'test', 'helpers', 'label_smoother_reference.py');
const EPS = 0.1;

const listOf = (n: TensorNode | null): TensorNode[] => (n && !(n instanceof Tensor) && 'list' in n ? n.list : assert.fail('expected per-batch lists'));
const first = (n: TensorNode): Tensor => (n instanceof Tensor ? n : (n as { tuple: Tensor[] }).tuple[0]);

/** LabelSmoother per batch by the Python transcription, on the logits and labels the loop handed over. */
function referenceLosses(dir: string, logits: Tensor[], labels: Tensor[], shift: boolean): number[] {
  const d = path.join(dir, `ls-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(d);
  logits.forEach((l, b) => writeNpyFile(path.join(d, `batch${b}_logits.npy`), l));
  labels.forEach((l, b) => writeNpyFile(path.join(d, `batch${b}_labels.npy`), l));
  // A causal LM here is GPT2LMHeadModel: transformers 5 passes num_items_in_batch = labels.ne(-100).sum(), the
  // unshifted count, to LabelSmoother for it (docs/trainer-semantics.md#losses-we-compute).
  return execFileSync(pythonWith(['numpy']), [REF, String(EPS), shift ? '1' : '0', d, ...(shift ? ['unshifted-count'] : [])], { encoding: 'utf8' }).trim().split('\n').map(Number);
}

async function checkSmoothing(dir: string, settings: RunSettings, shift: boolean, copies: (b: number, rows: number) => number) {
  const base = { ...settings, evalDoConcatBatches: false, includeForMetrics: ['loss' as const] };
  const plain = await runLoop(base);
  const smooth = await runLoop({ ...base, labelSmoothingFactor: EPS });
  const logits = listOf(smooth.evalPred.predictions).map(first);
  const labels = listOf(smooth.evalPred.labelIds) as Tensor[];
  const losses = listOf(smooth.evalPred.losses) as Tensor[];
  const want = referenceLosses(dir, logits, labels, shift);
  assert.equal(want.length, logits.length);
  want.forEach((w, b) => {
    assert.equal(losses[b].size, copies(b, labels[b].shape[0]), `batch ${b} copies`);
    for (let i = 0; i < losses[b].size; i++) {
      const got = losses[b].at(i);
      assert.ok(Math.abs(got - w) <= 1e-6 * Math.abs(w), `batch ${b}: ${got} vs LabelSmoother ${w}`);
    }
  });
  // eval_loss = float(np.mean(losses)) over the same copies
  const vector = losses.flatMap((l) => Array.from(l.data as Float32Array));
  const mean = Number(runPython(`import numpy as np; print(repr(float(np.mean(np.array(${JSON.stringify(vector)}, dtype=np.float32)))))`));
  assert.equal(smooth.evalLoss, mean);
  // smoothing changes the loss (and nothing else the metric sees)
  assert.notEqual(smooth.evalLoss, plain.evalLoss);
  assert.deepEqual(listOf(smooth.evalPred.labelIds).map((t) => (t as Tensor).toArray()), listOf(plain.evalPred.labelIds).map((t) => (t as Tensor).toArray()));
}

test('label_smoothing_factor: sequence and token classification losses are LabelSmoother\'s (n_s copies per batch)', async () => {
  const dir = tempDir();
  try {
    const seq = seqClsWorkspace(path.join(dir), { n: 10, numLabels: 3 });
    await checkSmoothing(dir, withDefaults({ model: seq.modelDir, dataset: seq.dataset, batchSize: 4 }), false, (_b, rows) => rows);
    const tokDir = path.join(dir, 'tok');
    fs.mkdirSync(tokDir);
    const tok = tokenClsWorkspace(tokDir, { n: 9, numLabels: 4 });
    await checkSmoothing(dir, withDefaults({ model: tok.modelDir, dataset: tok.dataset, batchSize: 4 }), false, (_b, rows) => rows);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('label_smoothing_factor: causal LM (shifted labels) and seq2seq (B copies per batch) losses are LabelSmoother\'s', async () => {
  const dir = tempDir();
  try {
    const words = (i: number, n: number) => Array.from({ length: n }, (_, k) => GEN_WORDS[(i * 3 + k * 5) % GEN_WORDS.length]).join(' ');
    const lm = path.join(dir, 'lm');
    writeCausalLmModel(lm, false, { seed: 9 });
    const lmData = writeJsonl(path.join(dir, 'lm.jsonl'), Array.from({ length: 7 }, (_, i) => ({ text: words(i, 1 + (i % 5)) })));
    await checkSmoothing(dir, withDefaults({ model: lm, dataset: lmData, batchSize: 3 }), true, (_b, rows) => rows);
    const s2s = path.join(dir, 's2s');
    writeSeq2SeqModel(s2s, 'three-file', { seed: 4 });
    const rows = Array.from({ length: 7 }, (_, i) => ({ question: words(i, 1 + (i % 4)), answer: words(i + 1, 1 + ((i * 2) % 5)) }));
    const s2sData = writeJsonl(path.join(dir, 'qa.jsonl'), rows);
    // Seq2SeqTrainer gathers plainly: every batch adds B = 3 copies, the last one too
    await checkSmoothing(dir, withDefaults({ model: s2s, dataset: s2sData, batchSize: 3, textColumn: 'question', labelColumn: 'answer' }), false, () => 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('label_smoothing_factor leaves extractive QA alone (its labels are start/end_positions, not "labels"), and refuses float labels', async () => {
  const dir = tempDir();
  try {
    const ws = qaWorkspace(dir, { n: 6 });
    const s = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 });
    const plain = await runLoop(s);
    const smooth = await runLoop({ ...s, labelSmoothingFactor: EPS });
    assert.ok(plain.evalLoss !== null);
    assert.equal(smooth.evalLoss, plain.evalLoss);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const logits = Tensor.from('float32', [2, 3], [0.1, 0.2, 0.3, 1, 2, 3]);
  assert.throws(() => labelSmoothedLoss(logits, Tensor.from('float32', [2, 3], [0, 1, 0, 1, 0, 1]), EPS, false), /needs integer class ids; label_ids are .*regression or multi-label/);
  assert.throws(() => labelSmoothedLoss(logits, Tensor.from('int64', [2], [0, 3]), EPS, false), /label 3 in label_ids is outside the model's 3 classes/);
  // every label ignored: 0/0, NaN as torch
  assert.ok(Number.isNaN(labelSmoothedLoss(logits, Tensor.from('int64', [2], [-100, -100]), EPS, false)));
  // epsilon 0 is plain cross-entropy: -log softmax at the label
  const ce = (z: number[], y: number) => Math.log(z.reduce((a, v) => a + Math.exp(v), 0)) - z[y];
  assert.ok(Math.abs(labelSmoothedLoss(logits, Tensor.from('int64', [2], [2, 0]), 0, false) - (ce([0.1, 0.2, 0.3], 2) + ce([1, 2, 3], 0)) / 2) < 1e-6);
});

test('dataloader_drop_last: the last incomplete batch is dropped; num_samples stays len(eval_dataset) as in Trainer', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 10, numLabels: 3 });
    const s = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs', 'loss'] });
    const full = await runLoop(s);
    const dropped = await runLoop({ ...s, dataloaderDropLast: true });
    const ep = dropped.evalPred;
    assert.deepEqual((ep.predictions as Tensor).shape, [8, 3]);
    assert.deepEqual((ep.labelIds as Tensor).toArray(), ((full.evalPred.labelIds as Tensor).toArray() as number[]).slice(0, 8));
    assert.deepEqual((ep.predictions as Tensor).toArray(), ((full.evalPred.predictions as Tensor).toArray() as number[][]).slice(0, 8));
    assert.equal((ep.losses as Tensor).size, 8);
    assert.equal((ep.inputs as Tensor).shape[0], 8);
    const first8 = Array.from((full.evalPred.losses as Tensor).data as Float32Array).slice(0, 8);
    assert.equal(dropped.evalLoss, Number(runPython(`import numpy as np; print(repr(float(np.mean(np.array(${JSON.stringify(first8)}, dtype=np.float32)))))`)));
    assert.equal(dropped.numSamples, 10, 'Trainer: num_samples = len(eval_dataset)');
    assert.equal(dropped.numSteps, 3, 'Trainer.evaluate: num_steps = ceil(num_samples / batch size)');
    // all rows in one incomplete batch: a clear error instead of Trainer's silent empty evaluation
    await assert.rejects(runLoop({ ...s, batchSize: 16, dataloaderDropLast: true }), /dataloader_drop_last with 10 rows and batch size 16: the only batch is incomplete/);
    // a multiple of the batch size drops nothing
    const even = await runLoop({ ...s, batchSize: 5, dataloaderDropLast: true });
    assert.equal((even.evalPred.predictions as Tensor).shape[0], 10);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('dataloader_drop_last in the generative loop: seq2seq keeps 2 full batches of 3', async () => {
  const dir = tempDir();
  try {
    const words = (i: number, n: number) => Array.from({ length: n }, (_, k) => GEN_WORDS[(i * 3 + k * 5) % GEN_WORDS.length]).join(' ');
    const s2s = path.join(dir, 's2s');
    writeSeq2SeqModel(s2s, 'three-file', { seed: 4 });
    const data = writeJsonl(path.join(dir, 'qa.jsonl'), Array.from({ length: 7 }, (_, i) => ({ question: words(i, 2), answer: words(i + 1, 2) })));
    const r = await runLoop(withDefaults({ model: s2s, dataset: data, batchSize: 3, textColumn: 'question', labelColumn: 'answer', dataloaderDropLast: true, includeForMetrics: ['loss'] }));
    assert.equal((r.evalPred.labelIds as Tensor).shape[0], 6);
    assert.equal((r.evalPred.losses as Tensor).size, 6);
    assert.equal(r.numSamples, 7);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('dataloader_drop_last: the rows-dropped lint names it; --max-samples evaluates the first N rows (max_eval_samples)', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 10, numLabels: 3 });
    const s = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 });
    const dropped = await runLoop({ ...s, dataloaderDropLast: true });
    const lints = lintEvalPrediction({ evalPred: dropped.evalPred, numSamples: dropped.numSamples, settings: { ...s, dataloaderDropLast: true } });
    const lint = lints.find((l) => l.id === 'rows-dropped');
    assert.ok(lint, JSON.stringify(lints));
    assert.match(lint.message, /predictions has 8 rows but the dataset has 10 samples/);
    const full = await runLoop(s);
    const first6 = await runLoop({ ...s, maxSamples: 6 });
    assert.equal(first6.numSamples, 6);
    assert.deepEqual((first6.evalPred.labelIds as Tensor).toArray(), ((full.evalPred.labelIds as Tensor).toArray() as number[]).slice(0, 6));
    assert.equal(lintEvalPrediction({ evalPred: full.evalPred, numSamples: full.numSamples, settings: s }).some((l) => l.id === 'rows-dropped'), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
