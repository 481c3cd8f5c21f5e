// Built-in metrics for generative runs (`evalpred run` without --metrics): run_clm's shifted token accuracy for
// causal-lm, run_summarization's ROUGE x 100 + gen_len for seq2seq-lm under predict_with_generate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Evaluation } from '../../src/core/evaluate';
import { withDefaults } from '../../src/core/loop/settings';
import { builtinMetrics } from '../../src/core/metrics/builtin';
import { metricsForEvaluation } from '../../src/core/metrics/forEvaluation';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import { Described } from '../../src/core/metrics/postprocess';
import { EvalPredictionData, Tensor } from '../../src/core/tensor/tensor';
import { loadTokenizer } from '../../src/core/text';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { runPython } from '../helpers/python';
import { GEN_VOCAB } from '../fixtures/generative';
import { tempDir } from '../helpers/tempDir';

const ep = (p: Partial<EvalPredictionData>): EvalPredictionData => ({ predictions: null, labelIds: null, inputs: null, losses: null, ...p });
const asRecord = (d: Described | null): Record<string, number> => {
  assert.ok(d && d.type === 'mapping', 'expected a mapping of metrics');
  return Object.fromEntries(d.entries.map(([k, v]) => [(k as { value: string }).value, (v as { value: number }).value]));
};
const id = (w: string) => GEN_VOCAB.indexOf(w);

function tokenizerDir(): string {
  const dir = tempDir();
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(GEN_VOCAB);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  return dir;
}

test('causal-lm: accuracy of preds[:, :-1] against labels[:, 1:] over labels != -100, from logits, argmax ids or a tuple (NumPy reference)', () => {
  // deterministic pseudo-random logits [3, 6, 5] and labels with right padding (-100)
  const [N, L, V] = [3, 6, 5];
  const logits = Array.from({ length: N * L * V }, (_, i) => Math.round(Math.sin(i * 12.9898) * 1000) / 100);
  const labels = [1, 2, 3, 4, 0, 1, 4, 4, 2, 0, -100, -100, 2, 3, 1, -100, -100, -100];
  const expected = Number(
    runPython(
      `import numpy as np, json
logits = np.array(${JSON.stringify(logits)}, dtype=np.float32).reshape(${N}, ${L}, ${V})
labels = np.array(${JSON.stringify(labels)}).reshape(${N}, ${L})
preds = logits.argmax(-1)[:, :-1].reshape(-1)
refs = labels[:, 1:].reshape(-1)
m = refs != -100
print(float((preds[m] == refs[m]).mean()))`,
    ).trim(),
  );
  const lt = Tensor.from('float32', [N, L, V], logits);
  const lab = Tensor.from('int64', [N, L], labels);
  const fromLogits = asRecord(builtinMetrics(ep({ predictions: lt, labelIds: lab }), 'causal-lm'));
  assert.deepEqual(Object.keys(fromLogits), ['accuracy']);
  assert.ok(Math.abs(fromLogits.accuracy - expected) < 1e-12, `${fromLogits.accuracy} vs NumPy ${expected}`);
  // --preprocess argmax: int64 [N, L]; a tuple (logits, extra): predictions[0]
  assert.equal(asRecord(builtinMetrics(ep({ predictions: lt.argmax(-1), labelIds: lab }), 'causal-lm')).accuracy, fromLogits.accuracy);
  assert.equal(asRecord(builtinMetrics(ep({ predictions: { tuple: [lt, Tensor.full('float32', [N, 2])] }, labelIds: lab }), 'causal-lm')).accuracy, fromLogits.accuracy);
  // generated ids (prompt + continuation) are not scored position by position
  assert.equal(builtinMetrics(ep({ predictions: lt.argmax(-1), labelIds: lab }), 'causal-lm', undefined, { predictWithGenerate: true }), null);
});

test('causal-lm: the shift is really applied (hand-worked case where unshifted accuracy is 0 and shifted is 1)', () => {
  // labels [5, 6, 7, 3]; the model predicts at t the token at t+1: ids [6, 7, 3, 9] -> shifted 3/3 correct, unshifted 0/4
  const r = asRecord(builtinMetrics(ep({ predictions: Tensor.from('int64', [1, 4], [6, 7, 3, 9]), labelIds: Tensor.from('int64', [1, 4], [5, 6, 7, 3]) }), 'causal-lm'));
  assert.equal(r.accuracy, 1);
});

// Hand-worked seq2seq case (rouge_score tokenization: lowercase words; F = 2PR/(P+R)):
//  row 0  pred "the cat sat"  (ids: start 0, the cat sat, eos 3, then -100 from cross-batch padding)
//         ref  "the cat sat on mat"
//         rouge1: 3 shared unigrams, P 3/3, R 3/5 -> F 0.75; rouge2: 2 shared bigrams, P 2/2, R 2/4 -> F 2/3; rougeL: LCS 3 -> 0.75
//  row 1  pred "dog ran"      (start 0, dog ran, eos 3, pad 0 0)      ref "a dog ran"
//         rouge1: P 1, R 2/3 -> F 0.8; rouge2: P 1/1, R 1/2 -> F 2/3; rougeL: LCS 2 -> 0.8
//  means x 100: rouge1 77.5, rouge2 66.6667 (rounded to 4 places), rougeL 77.5
//  gen_len: non-pad ids per row after -100 -> pad: row 0 the cat sat eos = 4, row 1 dog ran eos = 3 -> 3.5
const PRED = [0, id('the'), id('cat'), id('sat'), 3, -100, 0, id('dog'), id('ran'), 3, 0, 0];
const LABEL = [id('the'), id('cat'), id('sat'), id('on'), id('mat'), 3, -100, id('a'), id('dog'), id('ran'), 3, -100, -100, -100];
const EXPECTED = { rouge1: 77.5, rouge2: 66.6667, rougeL: 77.5, gen_len: 3.5 };

test('seq2seq-lm under predict_with_generate: decode (-100 -> pad, special tokens skipped), ROUGE x 100 and gen_len', async () => {
  const dir = tokenizerDir();
  try {
    const tokenizer = await loadTokenizer(dir);
    const evalPred = ep({ predictions: Tensor.from('int64', [2, 6], PRED), labelIds: Tensor.from('int64', [2, 7], LABEL) });
    assert.deepEqual(asRecord(builtinMetrics(evalPred, 'seq2seq-lm', undefined, { tokenizer, predictWithGenerate: true })), EXPECTED);
    // without generation (teacher-forced logits) or without a tokenizer there is nothing built-in
    assert.equal(builtinMetrics(evalPred, 'seq2seq-lm', undefined, { tokenizer }), null);
    assert.equal(builtinMetrics(evalPred, 'seq2seq-lm', undefined, { predictWithGenerate: true }), null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('metricsForEvaluation loads the tokenizer from the model folder for seq2seq and prefixes eval_', async () => {
  const dir = tokenizerDir();
  try {
    const evalPred = ep({ predictions: Tensor.from('int64', [2, 6], PRED), labelIds: Tensor.from('int64', [2, 7], LABEL) });
    const loop = { task: 'seq2seq-lm', info: { columns: { task: 'seq2seq-lm', notes: [] } }, evalLoss: 1.5, runtimeSeconds: 1, numSamples: 2, numSteps: 1, notes: [] };
    const ev = { cacheDir: dir, fromCache: false, manifest: {}, evalPred, loop } as unknown as Evaluation;
    const settings = withDefaults({ model: dir, dataset: path.join(dir, 'd.jsonl'), predictWithGenerate: true, batchSize: 2 });
    const runners = new MetricRunners();
    const out = await metricsForEvaluation(runners, ev, settings).finally(() => runners.close());
    const m = out.metrics as Record<string, unknown>;
    assert.equal(m.eval_loss, 1.5);
    for (const [k, v] of Object.entries(EXPECTED)) assert.equal(m[`eval_${k}`], v, `eval_${k}`);
    assert.deepEqual(out.warnings.filter((w) => /no built-in/.test(w)), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
