// src/core/metrics/qaPostprocess.ts against a NumPy transcription of utils_qa.postprocess_qa_predictions and
// run_qa's post_processing_function (test/helpers/qa_postprocess_reference.py), fed the same float32 logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../src/core/paths';
import type { QaExample, QaFeature, QaPostprocessOptions } from '../../src/core/loop/qaFeatures';
import { postprocessQaPredictions, qaEvalPrediction } from '../../src/core/metrics/qaPostprocess';
import { Tensor } from '../../src/core/tensor/tensor';
import { mulberry32 } from '../../src/demo/prng';
import { pythonWith } from '../helpers/python';

const REF = path.join(packageRoot(), 'test', 'helpers', 'qa_postprocess_reference.py');

/** Examples whose contexts are split into windows of `width` tokens (question and specials first, padding with -100 last). */
function scenario(seed: number) {
  const r = mulberry32(seed); // seeded, so a failure can be replayed
  const width = 12 + Math.floor(r() * 8);
  const examples: QaExample[] = [];
  const features: QaFeature[] = [];
  const nEx = 3 + Math.floor(r() * 5);
  for (let e = 0; e < nEx; e++) {
    const words = Array.from({ length: 5 + Math.floor(r() * 30) }, (_, k) => (k % 7 === 3 ? 'café' : `w${k}é`));
    const context = words.join(' ');
    examples.push({ id: `q${seed}-${e}`, context, answers: { text: [words[0]], answer_start: [0] } });
    // token k of the context covers word k
    const spans: [number, number][] = [];
    let p = 0;
    for (const w of words) {
      const len = Array.from(w).length;
      spans.push([p, p + len]);
      p += len + 1;
    }
    const q = 3, budget = width - q - 3, stride = Math.floor(budget / 3);
    for (let start = 0; ; start += budget - stride) {
      const win = spans.slice(start, start + budget);
      const offsets: ([number, number] | null)[] = [null, ...Array(q).fill(null), null, ...win, null];
      features.push({ exampleId: `q${seed}-${e}`, offsets });
      if (start + budget >= spans.length) break;
    }
  }
  const logits = () => {
    const v = new Float32Array(features.length * width);
    features.forEach((f, i) => {
      for (let j = 0; j < width; j++) v[i * width + j] = j < f.offsets.length ? (r() - 0.5) * 16 + (j === 0 && r() < 0.5 ? 10 : 0) : -100; // -100: padded across batches; a confident CLS now and then
    });
    return new Tensor('float32', [features.length, width], v);
  };
  return { examples, features, start: logits(), end: logits() };
}

function reference(s: ReturnType<typeof scenario>, o: QaPostprocessOptions) {
  const rows = (t: Tensor) => Array.from({ length: t.shape[0] }, (_, i) => Array.from((t.data as Float32Array).subarray(i * t.shape[1], (i + 1) * t.shape[1])));
  const input = JSON.stringify({
    examples: s.examples,
    features: s.features.map((f) => ({ example_id: f.exampleId, offset_mapping: f.offsets })),
    start_logits: rows(s.start),
    end_logits: rows(s.end),
    version_2_with_negative: o.version2WithNegative,
    n_best_size: o.nBestSize,
    max_answer_length: o.maxAnswerLength,
    null_score_diff_threshold: o.nullScoreDiffThreshold,
  });
  return JSON.parse(execFileSync(pythonWith(['numpy']), [REF], { input, encoding: 'utf8', maxBuffer: 64 << 20 }));
}

const CASES: [string, QaPostprocessOptions][] = [
  ['SQuAD v1 defaults', { version2WithNegative: false, nBestSize: 20, maxAnswerLength: 30, nullScoreDiffThreshold: 0 }],
  ['short answers, small n-best', { version2WithNegative: false, nBestSize: 3, maxAnswerLength: 2, nullScoreDiffThreshold: 0 }],
  ['SQuAD v2, threshold 0', { version2WithNegative: true, nBestSize: 20, maxAnswerLength: 30, nullScoreDiffThreshold: 0 }],
  ['SQuAD v2, threshold 1.5, n-best 5', { version2WithNegative: true, nBestSize: 5, maxAnswerLength: 4, nullScoreDiffThreshold: 1.5 }],
];

for (const [name, opts] of CASES) {
  test(`postprocess_qa_predictions: ${name}, equal to the NumPy transcription on 12 random scenarios`, () => {
    for (let seed = 1; seed <= 12; seed++) {
      const s = scenario(seed);
      const post = postprocessQaPredictions(s.examples, s.features, s.start, s.end, opts);
      const ours = qaEvalPrediction(s.examples, post, opts.version2WithNegative);
      const ref = reference(s, opts);
      assert.deepEqual(ours.predictions, ref.predictions, `seed ${seed}`);
      assert.deepEqual(ours.label_ids, ref.label_ids, `seed ${seed}`);
      if (opts.version2WithNegative) assert.deepEqual(Object.fromEntries(post.scoreDiffs), ref.score_diffs, `seed ${seed}`);
    }
  });
}

test('postprocess_qa_predictions: a v2 run picks some null answers and some spans (the scenarios exercise both branches)', () => {
  let nulls = 0, spans = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const s = scenario(seed);
    for (const t of postprocessQaPredictions(s.examples, s.features, s.start, s.end, CASES[2][1]).answers.values()) t === '' ? nulls++ : spans++;
  }
  assert.ok(nulls > 0 && spans > 0, `${nulls} null answers, ${spans} spans`);
});

test('postprocess_qa_predictions: logits whose rows do not match the features are an error naming the array', () => {
  const s = scenario(3);
  assert.throws(() => postprocessQaPredictions(s.examples, s.features.slice(1), s.start, s.end), /start_logits must be a float array \[\d+ features, tokens\]/);
});
