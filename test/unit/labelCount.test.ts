// config.json's label count against the logits: a mismatch is an error naming both, never wrong names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/core/model/config';
import { checkLabelCount } from '../../src/core/model/labelCount';
import { Tensor } from '../../src/core/tensor/tensor';

const logits2 = Tensor.from('float32', [3, 2], [0, 1, 1, 0, 0.5, 0.5]);

test('id2label, num_labels and the logits width must agree; each mismatch names both sides', () => {
  const cfg = (raw: Record<string, unknown>) => parseConfig(raw, '/m/config.json');
  // agreeing configs pass, including transformers' default (no label maps: nothing declared, nothing checked)
  checkLabelCount(cfg({ id2label: { 0: 'NEG', 1: 'POS' }, num_labels: 2 }), 'sequence-classification', logits2, '/m/model.onnx');
  checkLabelCount(cfg({}), 'sequence-classification', logits2, '/m/model.onnx');
  checkLabelCount(cfg({ id2label: { 0: 'a', 1: 'b', 2: 'c' } }), 'question-answering', logits2, '/m/model.onnx');
  assert.throws(
    () => checkLabelCount(cfg({ id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' } }), 'sequence-classification', logits2, '/m/model.onnx'),
    /^EvalpredError: \/m\/config\.json: "id2label" names 3 labels \("negative", "neutral", "positive"\), but the model's logits have 2 columns \(float32\[3, 2\] from \/m\/model\.onnx\)/,
  );
  assert.throws(
    () => checkLabelCount(cfg({ num_labels: 5 }), 'token-classification', Tensor.from('float32', [1, 4, 2], new Array(8).fill(0)), '/m/model.onnx'),
    /"num_labels" is 5, but the model's logits have 2 columns \(float32\[1, 4, 2\]/,
  );
  assert.throws(
    () => checkLabelCount(cfg({ num_labels: 2, id2label: { 0: 'a', 1: 'b', 2: 'c' } }), 'sequence-classification', logits2, '/m/model.onnx'),
    /"num_labels" is 2 but "id2label" names 3 labels \("a", "b", "c"\)/,
  );
});
