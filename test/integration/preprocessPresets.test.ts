// The built-in --preprocess presets against a Python transcription of the example functions they stand for
// (test/helpers/preprocess_reference.py), fed the same logits: plain tensors, ties, NaN, tuples as seq2seq
// models return them, and the whole loop on a seq2seq model evaluated by teacher forcing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { argmaxPreprocess } from '../../src/core/loop/accumulate';
import { runLoop } from '../../src/core/loop/driver';
import { withDefaults } from '../../src/core/loop/settings';
import { readNpyFile, writeNpyFile } from '../../src/core/tensor/npy';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { pythonWith } from '../helpers/python';
import { GEN_WORDS, writeSeq2SeqModel } from '../fixtures/generative';
import { seqClsWorkspace, tempDir, writeJsonl } from '../fixtures/workspace';

const REF = path.join(__dirname, '..', '..', '..', 'test', 'helpers', 'preprocess_reference.py');

/** The example's function, run by Python on `logits` (a tensor or a tuple of tensors). */
function reference(preset: string, logits: Tensor | Tensor[]): Tensor {
  const dir = tempDir();
  try {
    (Array.isArray(logits) ? logits : [logits]).forEach((t, k) => writeNpyFile(path.join(dir, `in_${k}.npy`), t));
    execFileSync(pythonWith(['numpy']), [REF, preset, dir]);
    return readNpyFile(path.join(dir, 'out.npy'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function randomLogits(shape: number[], seed: number, opts: { ties?: boolean; nan?: boolean } = {}): Tensor {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const n = shape.reduce((a, b) => a * b, 1);
  // ties: values on a coarse grid so that several classes share the maximum
  const data = Float32Array.from({ length: n }, () => (opts.ties ? Math.floor(rnd() * 3) : rnd() * 8 - 4));
  if (opts.nan) for (let i = 5; i < n; i += 17) data[i] = NaN;
  return Tensor.from('float32', shape, data);
}

function assertSameIds(got: Tensor, want: Tensor, what: string) {
  assert.equal(got.dtype, 'int64', `${what} dtype`);
  assert.deepEqual(got.shape, want.shape, `${what} shape`);
  assert.deepEqual(Array.from(got.data as BigInt64Array), Array.from(want.data as BigInt64Array), `${what} ids`);
}

test('--preprocess argmax equals run_clm.py preprocess_logits_for_metrics on tensors (classification, tokens, ties, NaN)', () => {
  const cases: [string, Tensor][] = [
    ['[6, 3] classification logits', randomLogits([6, 3], 1)],
    ['[4, 7, 11] token logits', randomLogits([4, 7, 11], 2)],
    ['[5, 4, 6] with ties', randomLogits([5, 4, 6], 3, { ties: true })],
    ['[3, 5, 9] with NaN', randomLogits([3, 5, 9], 4, { nan: true })],
  ];
  for (const [what, logits] of cases) assertSameIds(argmaxPreprocess(logits), reference('argmax', logits), what);
});

test('--preprocess argmax on a tuple keeps its first member only, as run_clm.py does (not one argmax per member)', () => {
  // (logits [N, T, V], encoder_last_hidden_state [N, S, H]): the old preset gave a second argmax over H
  const lg = randomLogits([4, 5, 13], 5, { ties: true });
  const enc = randomLogits([4, 6, 8], 6);
  const got = argmaxPreprocess({ tuple: [lg, enc] });
  assertSameIds(got, reference('argmax', [lg, enc]), '(logits, encoder_last_hidden_state)');
  assert.deepEqual(got.shape, [4, 5]);
  // a list (eval_do_concat_batches=False never reaches the preprocessor as one) and an empty tuple are refused clearly
  assert.throws(() => argmaxPreprocess({ list: [lg] }), /needs logits as a tensor or a tuple whose first member is the logits tensor, but the model gave a list/);
  assert.throws(() => argmaxPreprocess({ tuple: [] as TensorNode[] }), /gave an empty tuple/);
});

test('the loop: seq2seq by teacher forcing with --preprocess argmax gives one int64 [N, T] of token ids, -100 across batches', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeSeq2SeqModel(modelDir, 'three-file', { seed: 4 });
    const words = (i: number, n: number) => Array.from({ length: n }, (_, k) => GEN_WORDS[(i * 3 + k * 5) % GEN_WORDS.length]).join(' ');
    const rows = Array.from({ length: 7 }, (_, i) => ({ question: words(i, 1 + (i % 4)), answer: words(i + 1, 1 + ((i * 2) % 5)) }));
    const dataset = writeJsonl(path.join(dir, 'qa.jsonl'), rows);
    const base = withDefaults({ model: modelDir, dataset, batchSize: 3, textColumn: 'question', labelColumn: 'answer' });
    const raw = await runLoop(base);
    const pre = await runLoop({ ...base, preprocess: 'argmax' });
    const tuple = (raw.evalPred.predictions as { tuple: Tensor[] }).tuple;
    assert.equal(tuple.length, 2);
    const want = reference('argmax', tuple);
    const got = pre.evalPred.predictions as Tensor;
    assert.ok(got instanceof Tensor, 'one tensor, not a tuple of two argmaxes');
    assert.deepEqual(got.shape, tuple[0].shape.slice(0, 2));
    // Trainer preprocesses each batch before padding across batches, so a padded place holds -100, where the
    // argmax of the concatenated logits (all -100.0 there) would be 0; everywhere else they agree.
    const [N, T, V] = tuple[0].shape;
    let padded = 0;
    for (let i = 0; i < N; i++) {
      for (let t = 0; t < T; t++) {
        if (tuple[0].get(i, t, 0) === -100 && tuple[0].get(i, t, V - 1) === -100) {
          padded++;
          assert.equal(got.get(i, t), -100, `[${i}, ${t}] padded`);
        } else assert.equal(got.get(i, t), want.get(i, t), `[${i}, ${t}]`);
      }
    }
    assert.ok(padded > 0, 'the data has batches of different target widths');
    assert.equal(pre.evalLoss, raw.evalLoss, 'the loss comes from the raw logits');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the loop: a classifier exporting extra outputs (logits, pooled) gets the ids of the logits only', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 9, numLabels: 3, extraOutputs: true });
    const raw = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 }));
    const pre = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, preprocess: 'argmax' }));
    const node = raw.evalPred.predictions as TensorNode;
    const parts = node instanceof Tensor ? [node] : (node as { tuple: Tensor[] }).tuple;
    assertSameIds(pre.evalPred.predictions as Tensor, reference('argmax', parts.length === 1 ? parts[0] : parts), 'classifier ids');
    assert.deepEqual((pre.evalPred.predictions as Tensor).shape, [9]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
