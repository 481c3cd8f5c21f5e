import { test } from 'node:test';
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
  assert.match(d.fix, /np\.where\(label_ids != -100/);
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
