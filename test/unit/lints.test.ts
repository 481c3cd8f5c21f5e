import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { lintEvalPrediction } from '../../src/core/lint/lints';
import { EvalPredictionData, Tensor } from '../../src/core/tensor/tensor';

const ep = (p: Partial<EvalPredictionData>): EvalPredictionData => ({ predictions: null, labelIds: null, inputs: null, losses: null, ...p });
const ids = (shape: number[], v: number[]) => Tensor.from('int64', shape, v);
const logits = (shape: number[], v: number[]) => Tensor.from('float32', shape, v);
const idsOf = (l: { id: string }[]) => l.map((x) => x.id);

test('decoding labels that hold -100 is flagged at the decode line, with the np.where fix', () => {
  const src = 'def compute_metrics(p):\n    preds, labels = p\n    texts = tokenizer.batch_decode(labels)\n';
  const l = lintEvalPrediction({ evalPred: ep({ predictions: ids([2, 3], [5, 6, 7, 5, 6, 7]), labelIds: ids([2, 3], [5, 6, -100, 5, -100, -100]) }), source: src });
  const d = l.find((x) => x.id === 'decode-minus-100');
  assert.ok(d);
  assert.equal(d.severity, 'warning');
  assert.equal(d.line, 3);
  assert.match(d.message, /label_ids/);
  assert.match(d.fix, /labels = np\.where\(labels != -100/); // the variable the decode receives
  // no decode in the source: no warning
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: ep({ labelIds: ids([1, 2], [1, -100]), predictions: ids([1, 2], [1, 1]) }), source: 'acc = (p == l).mean()' })).includes('decode-minus-100'));
});

test('tuple predictions + argmax on them; 2-way unpack with inputs included; attribute typos', () => {
  const src = 'def compute_metrics(eval_pred):\n    preds, labels = eval_pred\n    p = np.argmax(preds, -1)\n    x = eval_pred.label\n';
  const l = lintEvalPrediction({
    evalPred: ep({ predictions: { tuple: [logits([2, 2], [1, 2, 3, 4]), logits([2, 1], [0, 0])] }, labelIds: ids([2], [0, 1]), inputs: ids([2, 2], [1, 2, 3, 4]) }),
    source: src,
  });
  const byId = Object.fromEntries(l.map((x) => [x.id, x]));
  assert.equal(byId['tuple-predictions'].severity, 'warning');
  assert.equal(byId['tuple-predictions'].line, 3);
  assert.equal(byId['two-way-unpack'].line, 2);
  assert.match(byId['two-way-unpack'].message, /inputs/);
  assert.match(byId['attribute-typo'].fix, /label_ids/);
});

test('no labels, row mismatch, one-class predictions, logits used as probabilities, NaN', () => {
  assert.ok(idsOf(lintEvalPrediction({ evalPred: ep({ predictions: logits([2, 2], [1, 0, 1, 0]) }) })).includes('no-labels'));
  const rows = lintEvalPrediction({ evalPred: ep({ predictions: logits([3, 2], [1, 0, 0, 1, 1, 0]), labelIds: ids([2], [0, 1]) }) });
  assert.ok(idsOf(rows).includes('row-mismatch'));
  const one = lintEvalPrediction({ evalPred: ep({ predictions: logits([3, 2], [2, 0, 3, 1, 5, 1]), labelIds: ids([3], [0, 1, 1]) }) });
  assert.ok(idsOf(one).includes('one-class'));
  const prob = lintEvalPrediction({ evalPred: ep({ predictions: logits([2, 2], [3, -2, -1, 4]), labelIds: ids([2], [0, 1]) }), source: 'y = preds[:, 1] > 0.5' });
  assert.equal(prob.find((x) => x.id === 'logits-not-probabilities')?.line, 1);
  const probs = lintEvalPrediction({ evalPred: ep({ predictions: logits([2, 2], [0.3, 0.7, 0.6, 0.4]), labelIds: ids([2], [0, 1]) }), source: 'y = preds[:, 1] > 0.5' });
  assert.ok(!idsOf(probs).includes('logits-not-probabilities'));
  const nan = lintEvalPrediction({ evalPred: ep({ predictions: logits([2, 2], [NaN, 1, 0, Infinity]), labelIds: ids([2], [0, 1]) }) });
  assert.match(nan.find((x) => x.id === 'non-finite')!.message, /1 NaN and 1 infinite/);
});

test('a clean classification EvalPrediction with a clean metric gets no warnings', () => {
  const l = lintEvalPrediction({
    evalPred: ep({ predictions: logits([3, 2], [2, 0, 0, 1, 1, 0]), labelIds: ids([3], [0, 1, 0]) }),
    source: 'def compute_metrics(p):\n    return {"accuracy": float((p.predictions.argmax(-1) == p.label_ids).mean())}\n',
    numSamples: 3,
  });
  assert.deepEqual(l.filter((x) => x.severity === 'warning'), []);
});

// Generation pitfalls (docs/trainer-semantics.md#generation and docs/trainer-semantics.md#pitfalls). Settings are what `evalpred run` records in the manifest;
// `generation` is the model folder's generation_config (max_length / max_new_tokens).
const genPreds = ep({ predictions: ids([2, 4], [0, 5, 6, 3, 0, 7, 3, 0]), labelIds: ids([2, 4], [5, 6, 3, -100, 7, 3, -100, -100]) });

test('#13: generation_max_length / max_new_tokens above model.generation_config.max_length is flagged; within it is not', () => {
  const wide = lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, generationMaxLength: 64 }, generation: { maxLength: 20 } });
  const w = wide.find((x) => x.id === 'generation-width');
  assert.ok(w);
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /generation_max_length 64.*max_length \(20\)/);
  // max_new_tokens 30 -> up to 31 tokens for an encoder-decoder (start token + 30) > 20
  assert.ok(idsOf(lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, maxNewTokens: 30 }, generation: { maxLength: 20 } })).includes('generation-width'));
  // max_new_tokens 19 -> at most 20 tokens: every batch is padded to 20, no -100 between batches
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, maxNewTokens: 19 }, generation: { maxLength: 20 } })).includes('generation-width'));
  // the model's own generation_config already allows 64: same widths
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, generationMaxLength: 64 }, generation: { maxLength: 64 } })).includes('generation-width'));
  // not generating: the setting is irrelevant
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, settings: { generationMaxLength: 64 }, generation: { maxLength: 20 } })).includes('generation-width'));
});

test('#13: predictions and labels widths differ under predict_with_generate: a warning at an elementwise compare, info otherwise', () => {
  const evalPred = ep({ predictions: ids([2, 5], [0, 5, 6, 3, 0, 0, 7, 3, 0, 0]), labelIds: ids([2, 3], [5, 6, 3, 7, 3, -100]) });
  const src = 'def compute_metrics(eval_pred):\n    preds, labels = eval_pred\n    acc = (preds == labels).mean()\n';
  const w = lintEvalPrediction({ evalPred, settings: { predictWithGenerate: true }, source: src }).find((x) => x.id === 'width-mismatch');
  assert.ok(w);
  assert.equal(w.severity, 'warning');
  assert.equal(w.line, 3);
  assert.match(w.message, /generated ids.*5 wide.*label_ids 3/);
  const decoded = lintEvalPrediction({ evalPred, settings: { predictWithGenerate: true }, source: 'texts = tokenizer.batch_decode(np.where(preds != -100, preds, 0))' });
  assert.equal(decoded.find((x) => x.id === 'width-mismatch')?.severity, 'info');
});

test('#14: decoder-only generate output includes the prompt (causal-lm + predict_with_generate only)', () => {
  const l = lintEvalPrediction({ evalPred: genPreds, task: 'causal-lm', settings: { predictWithGenerate: true, maxNewTokens: 8 }, generation: { maxLength: 20 } });
  const p = l.find((x) => x.id === 'generate-includes-prompt');
  assert.ok(p);
  assert.equal(p.severity, 'warning');
  assert.match(p.fix, /inputs\.shape\[1\]/);
  // a source that already cuts at the prompt width gets an info, not a warning
  const cut = lintEvalPrediction({ evalPred: genPreds, task: 'causal-lm', settings: { predictWithGenerate: true, maxNewTokens: 8 }, source: 'new = preds[:, eval_pred.inputs.shape[1]:]' });
  assert.equal(cut.find((x) => x.id === 'generate-includes-prompt')?.severity, 'info');
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, task: 'seq2seq-lm', settings: { predictWithGenerate: true, maxNewTokens: 8 } })).includes('generate-includes-prompt'));
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, task: 'causal-lm', settings: {} })).includes('generate-includes-prompt'));
});

test('#15: preprocess_logits_for_metrics (or --preprocess) under predict_with_generate, at the def line', () => {
  const src = 'import numpy as np\n\ndef preprocess_logits_for_metrics(logits, labels):\n    return logits.argmax(-1)\n';
  const l = lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, generationMaxLength: 20 }, source: src });
  const p = l.find((x) => x.id === 'preprocess-under-generate');
  assert.ok(p);
  assert.equal(p.line, 3);
  assert.match(p.message, /generated token ids/);
  assert.ok(idsOf(lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, preprocess: 'argmax' } })).includes('preprocess-under-generate'));
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, settings: {}, source: src })).includes('preprocess-under-generate'));
});

test('#16: generation capped at the default 20 tokens only when no length is set anywhere', () => {
  const base = { evalPred: genPreds, settings: { predictWithGenerate: true } };
  assert.ok(idsOf(lintEvalPrediction({ ...base, generation: { maxLength: 20, maxNewTokens: null } })).includes('generation-capped-20'));
  assert.ok(idsOf(lintEvalPrediction({ ...base, generation: {} })).includes('generation-capped-20')); // no max_length in the file: default 20
  assert.ok(!idsOf(lintEvalPrediction({ ...base, generation: { maxLength: 128 } })).includes('generation-capped-20'));
  assert.ok(!idsOf(lintEvalPrediction({ ...base, generation: { maxLength: 20, maxNewTokens: 50 } })).includes('generation-capped-20'));
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, generationMaxLength: 20 }, generation: { maxLength: 20 } })).includes('generation-capped-20'));
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: genPreds, settings: { predictWithGenerate: true, maxNewTokens: 10 }, generation: { maxLength: 20 } })).includes('generation-capped-20'));
  assert.ok(!idsOf(lintEvalPrediction({ ...base })).includes('generation-capped-20')); // model config unknown: no claim
});

test('#19: causal-LM accuracy without the one-token shift, at the compare line; the run_clm shift is clean', () => {
  const clm = ep({ predictions: ids([1, 4], [5, 6, 7, 3]), labelIds: ids([1, 4], [2, 5, 6, 7]) });
  const naive = 'def compute_metrics(eval_pred):\n    preds, labels = eval_pred\n    mask = labels != -100\n    return {"accuracy": float((preds == labels)[mask].mean())}\n';
  const l = lintEvalPrediction({ evalPred: clm, task: 'causal-lm', source: naive });
  const s = l.find((x) => x.id === 'causal-lm-no-shift');
  assert.ok(s);
  assert.equal(s.line, 4);
  assert.match(s.fix, /labels\[:, 1:\]; preds = preds\[:, :-1\]/);
  const reversed = 'acc = (eval_pred.label_ids == eval_pred.predictions).mean()';
  assert.ok(idsOf(lintEvalPrediction({ evalPred: clm, task: 'causal-lm', source: reversed })).includes('causal-lm-no-shift'));
  const shifted = 'def compute_metrics(eval_preds):\n    preds, labels = eval_preds\n    labels = labels[:, 1:].reshape(-1)\n    preds = preds[:, :-1].reshape(-1)\n    return {"accuracy": float((preds == labels).mean())}\n';
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: clm, task: 'causal-lm', source: shifted })).includes('causal-lm-no-shift'));
  // same naive source on a classifier: no shift expected there
  assert.ok(!idsOf(lintEvalPrediction({ evalPred: clm, task: 'token-classification', source: naive })).includes('causal-lm-no-shift'));
});

// decode-minus-100 follows the data, not the names (issue 11 item 6): five ways to remove -100 before the decode
// silence it; the same file without the removal (or with it applied to another variable) warns and names the
// variable that actually reaches the decode.
const decodeEp = ep({ predictions: ids([2, 3], [5, 6, 7, 5, 6, 7]), labelIds: ids([2, 3], [5, 6, -100, 5, -100, -100]) });
const decodeLint = (source: string) => lintEvalPrediction({ evalPred: decodeEp, source }).find((x) => x.id === 'decode-minus-100');
const REMOVALS: [string, string, string][] = [
  // [how, with the removal, the same source without it]
  [
    'np.where under another name',
    'def compute_metrics(eval_pred):\n    preds, refs = eval_pred\n    refs = np.where(refs != -100, refs, tok.pad_token_id)\n    gold = tok.batch_decode(refs, skip_special_tokens=True)\n',
    'def compute_metrics(eval_pred):\n    preds, refs = eval_pred\n    gold = tok.batch_decode(refs, skip_special_tokens=True)\n',
  ],
  [
    'boolean-mask assignment',
    'def compute_metrics(p):\n    y = p.label_ids.copy()\n    y[y == -100] = tok.pad_token_id\n    gold = tok.batch_decode(y)\n',
    'def compute_metrics(p):\n    y = p.label_ids.copy()\n    gold = tok.batch_decode(y)\n',
  ],
  [
    'np.maximum into a new variable',
    'def compute_metrics(p):\n    preds, labels = p\n    safe = np.maximum(labels, 0)\n    gold = tok.batch_decode(safe)\n',
    'def compute_metrics(p):\n    preds, labels = p\n    safe = labels.copy()\n    gold = tok.batch_decode(safe)\n',
  ],
  [
    'a TypeScript map',
    'export function computeMetrics(evalPred) {\n  const { predictions, labelIds } = evalPred;\n  const ys = labelIds.map((row) => row.map((v) => (v === -100 ? pad : v)));\n  const gold = tok.batchDecode(ys);\n}\n'.replace(/batchDecode/g, 'batch_decode'),
    'export function computeMetrics(evalPred) {\n  const { predictions, labelIds } = evalPred;\n  const ys = labelIds.map((row) => row.map((v) => v));\n  const gold = tok.batch_decode(ys);\n}\n',
  ],
  [
    'a filtered comprehension in a zip loop',
    'def compute_metrics(p):\n    out = []\n    for pr, lab in zip(p.predictions, p.label_ids):\n        out.append(tok.decode([t for t in lab if t != -100]))\n',
    'def compute_metrics(p):\n    out = []\n    for pr, lab in zip(p.predictions, p.label_ids):\n        out.append(tok.decode(lab))\n',
  ],
  [
    'a mask variable and np.putmask',
    'def compute_metrics(p):\n    preds, labels = p\n    pad_here = labels == -100\n    np.putmask(labels, pad_here, 0)\n    gold = tok.batch_decode(labels)\n',
    'def compute_metrics(p):\n    preds, labels = p\n    pad_here = labels == 0\n    np.putmask(labels, pad_here, 0)\n    gold = tok.batch_decode(labels)\n',
  ],
];

for (const [how, clean, dirty] of REMOVALS) {
  test(`decode-minus-100: -100 removed by ${how} silences the warning; without the removal it warns at the decode`, () => {
    assert.equal(decodeLint(clean), undefined, clean);
    const w = decodeLint(dirty);
    assert.ok(w, dirty);
    assert.equal(w.severity, 'warning');
    assert.equal(w.line, dirty.split('\n').findIndex((l) => /decode\(/.test(l)) + 1);
  });
}

test('decode-minus-100: the fix names the variable that reaches the decode, not the field or a cleaned neighbour', () => {
  // preds are cleaned (the name matches the old regex), labels are decoded raw: still a warning, about refs
  const src = 'def compute_metrics(eval_pred):\n    preds, refs = eval_pred\n    preds = np.where(preds != -100, preds, 0)\n    a = tok.batch_decode(preds)\n    b = tok.batch_decode(refs)\n';
  const w = decodeLint(src);
  assert.ok(w);
  assert.equal(w.line, 5);
  assert.match(w.fix, /refs = np\.where\(refs != -100, refs,/);
  assert.match(w.message, /label_ids/);
  // only the predictions are decoded, and the label_ids never reach a decode: no warning for label_ids
  const onlyPreds = lintEvalPrediction({ evalPred: decodeEp, source: 'preds, labels = eval_pred\nt = tok.batch_decode(preds)\n' });
  assert.ok(!onlyPreds.some((x) => x.id === 'decode-minus-100'));
});

test('lint text cites docs/ pages or public issues, never internal documents', () => {
  const all = [
    ...lintEvalPrediction({ evalPred: decodeEp, source: 'x = tok.batch_decode(labels)\nacc = (preds == labels).mean()\n', settings: { predictWithGenerate: true, generationMaxLength: 64 }, generation: { maxLength: 20 }, task: 'causal-lm' }),
    ...lintEvalPrediction({ evalPred: ep({ predictions: logits([2, 2], [1, 0, 1, 0]) }) }),
  ];
  assert.ok(all.length >= 4);
  for (const l of all) {
    const text = `${l.message} ${l.fix}`;
    assert.doesNotMatch(text, /spec\s*§|§|pitfall\s*#?\d|\.\.\/shared|issue \d+ item/i, text);
    for (const doc of text.match(/docs\/[\w./-]+\.md/g) ?? []) assert.ok(fs.existsSync(path.join(__dirname, '../../..', doc)), doc);
  }
});
