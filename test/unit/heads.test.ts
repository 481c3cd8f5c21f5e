// config.json reading (transformers' PretrainedConfig label rules), task detection, Trainer's logits
// structure from ONNX outputs (docs/trainer-semantics.md#predictions-from-model-outputs) and each head's loss dispatch (docs/trainer-semantics.md#losses-we-compute), on hand-computed cases.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModelConfig, parseConfig, readModelConfig } from '../../src/core/model/config';
import { headFor } from '../../src/core/model/heads';
import { SequenceClassificationHead } from '../../src/core/model/heads/sequenceClassification';
import { openModel } from '../../src/core/model/session';
import { isEvalpredError } from '../../src/core/errors';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { writeQaModel, writeTokenClsModel } from '../fixtures/models';
import { tempDir } from '../helpers/tempDir';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
function folderWithConfig(text: string | null): string {
  const d = path.join(root, `m${counter++}`);
  fs.mkdirSync(d);
  if (text !== null) fs.writeFileSync(path.join(d, 'config.json'), text);
  return d;
}
const cfg = (raw: Record<string, unknown>): ModelConfig => parseConfig(raw, '/models/x/config.json');
const f32 = (shape: number[], v: number[]) => Tensor.from('float32', shape, v);
const i64 = (shape: number[], v: number[]) => Tensor.from('int64', shape, v);
const LN2 = Math.fround(Math.log(2));
const LN3 = Math.fround(Math.log(3));

// ---- config.json ---------------------------------------------------------------------------------------

test('config.json: id2label keys become numbers, num_labels and label2id derive from it', () => {
  const c = readModelConfig(
    folderWithConfig(
      JSON.stringify({
        architectures: ['DistilBertForSequenceClassification'],
        model_type: 'distilbert',
        id2label: { '0': 'NEGATIVE', '1': 'POSITIVE', '2': 'NEUTRAL' },
        max_position_embeddings: 512,
        vocab_size: 30522,
        pad_token_id: 0,
      }),
    ),
  );
  assert.deepEqual(c.id2label, { 0: 'NEGATIVE', 1: 'POSITIVE', 2: 'NEUTRAL' });
  assert.equal(c.num_labels, 3);
  assert.deepEqual(c.label2id, { NEGATIVE: 0, POSITIVE: 1, NEUTRAL: 2 });
  assert.deepEqual(c.architectures, ['DistilBertForSequenceClassification']);
  assert.equal(c.model_type, 'distilbert');
  assert.equal(c.max_position_embeddings, 512);
  assert.equal(c.vocab_size, 30522);
  assert.equal(c.pad_token_id, 0);
  assert.equal(c.problem_type, undefined);
  assert.deepEqual(c.keys_to_ignore_at_inference, ['past_key_values']);
});

test('config.json without labels: num_labels (default 2) makes LABEL_i, as PretrainedConfig does', () => {
  const three = cfg({ num_labels: 3 });
  assert.deepEqual(three.id2label, { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' });
  assert.deepEqual(three.label2id, { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 });
  const none = cfg({});
  assert.equal(none.num_labels, 2);
  // A given label2id is kept as written; id2label length wins over a conflicting num_labels.
  const c = cfg({ id2label: { '0': 'a' }, label2id: { A: 0 }, num_labels: 4, problem_type: 'regression', keys_to_ignore_at_inference: ['mems'] });
  assert.equal(c.num_labels, 1);
  assert.deepEqual(c.label2id, { A: 0 });
  assert.equal(c.problem_type, 'regression');
  assert.deepEqual(c.keys_to_ignore_at_inference, ['mems']);
});

test('no config.json is allowed, with documented defaults', () => {
  const c = readModelConfig(folderWithConfig(null));
  assert.equal(c.configFile, null);
  assert.deepEqual(c.architectures, []);
  assert.equal(c.id2label, undefined);
  assert.equal(c.num_labels, undefined);
  assert.deepEqual(c.keys_to_ignore_at_inference, ['past_key_values']);
});

test('invalid config.json: the error names the file, the line and the column', () => {
  const d = folderWithConfig('{\n  "architectures": ["BertForSequenceClassification"],\n  "id2label": {"0": "a",}\n}\n');
  assert.throws(
    () => readModelConfig(d),
    (e: unknown) => {
      assert.ok(isEvalpredError(e));
      const m = (e as Error).message;
      assert.ok(m.startsWith(path.join(d, 'config.json')), m);
      assert.match(m, /not valid JSON/);
      assert.match(m, /line 3, column 25/); // the '}' after the trailing comma: 2 spaces + '"id2label": {"0": "a",' is 24 chars
      return true;
    },
  );
  assert.throws(() => readModelConfig(folderWithConfig('[1, 2]')), /must hold a JSON object/);
  assert.throws(() => cfg({ problem_type: 'multi_label' }), /"problem_type" must be one of regression/);
  assert.throws(() => cfg({ id2label: { x: 'a' } }), /id2label key "x" is not an integer id/);
});

// ---- task detection ------------------------------------------------------------------------------------

test('the task comes from architectures[0], else from the outputs, else a clear error', () => {
  assert.equal(headFor(cfg({ architectures: ['RobertaForTokenClassification'] }), ['logits']).task, 'token-classification');
  assert.equal(headFor(cfg({ architectures: ['BertForQuestionAnswering'] }), ['start_logits', 'end_logits']).task, 'question-answering');
  assert.equal(headFor(cfg({ architectures: ['BertForSequenceClassification'] }), ['logits']).task, 'sequence-classification');
  assert.equal(headFor(cfg({}), ['end_logits', 'start_logits']).task, 'question-answering');
  const info = (dims: (number | string)[]) => [{ name: 'logits', type: 'float32', dims }];
  assert.equal(headFor(cfg({}), ['logits'], undefined, info(['batch', 'sequence', 9])).task, 'token-classification');
  assert.equal(headFor(cfg({}), ['logits'], undefined, info(['batch', 2])).task, 'sequence-classification');
  assert.equal(headFor(cfg({}), ['logits'], 'token-classification').task, 'token-classification');
  assert.throws(() => headFor(cfg({}), ['logits']), (e: unknown) => isEvalpredError(e) && /no architectures/.test((e as Error).message) && /logits/.test((e as Error).message));
  assert.throws(
    () => headFor(cfg({ architectures: ['GPT2LMHeadModel'] }), ['logits', 'present.0.key']),
    (e: unknown) => isEvalpredError(e) && /GPT2LMHeadModel/.test((e as Error).message) && /present\.0\.key/.test((e as Error).message),
  );
  assert.throws(() => headFor(cfg({ architectures: ['BertForQuestionAnswering'] }), ['logits']), /must output start_logits and end_logits/);
});

test('labelNames follow find_labels', () => {
  assert.deepEqual(headFor(cfg({ architectures: ['BertForQuestionAnswering'] }), ['start_logits', 'end_logits']).labelNames, ['start_positions', 'end_positions']);
  assert.deepEqual(headFor(cfg({ architectures: ['BertForTokenClassification'] }), ['logits']).labelNames, ['labels']);
});

// ---- logits structure ----------------------------------------------------------------------------------

test('logitsFrom: one output unwraps to a tensor; extra outputs follow in graph order, noted', () => {
  const logits = f32([1, 2], [1, 2]);
  const a = f32([1, 1], [3]);
  const b = f32([1, 1], [4]);
  const single = headFor(cfg({ architectures: ['BertForSequenceClassification'] }), ['logits']);
  assert.equal(single.logitsFrom({ logits }, ['logits']), logits);
  assert.deepEqual(single.notes, []);
  const names = ['hidden_b', 'logits', 'hidden_a'];
  const extra = headFor(cfg({ architectures: ['BertForSequenceClassification'] }), names);
  const node = extra.logitsFrom({ hidden_b: b, logits, hidden_a: a }, names) as { tuple: TensorNode[] };
  assert.deepEqual(node.tuple, [logits, b, a]);
  assert.ok(extra.notes.some((n) => n.includes('hidden_b, hidden_a') && n.includes('tuple')), extra.notes.join(' | '));
});

test('logitsFrom drops loss and the past_key_values cache (present.*), and honours keys_to_ignore_at_inference', () => {
  const logits = f32([1, 2], [1, 2]);
  const names = ['loss', 'logits', 'present.0.key', 'present.0.value'];
  const h = headFor(cfg({ architectures: ['BertForSequenceClassification'] }), names);
  const outs = { loss: f32([], [0.5]), logits, 'present.0.key': f32([1], [0]), 'present.0.value': f32([1], [0]) };
  assert.equal(h.logitsFrom(outs, names), logits);
  assert.ok(h.notes.some((n) => n.includes('loss, present.0.key, present.0.value')), h.notes.join(' | '));
  // keys_to_ignore_at_inference replaces the default: present.* is then kept, 'mems' dropped.
  const h2 = headFor(cfg({ architectures: ['XLNetForSequenceClassification'], keys_to_ignore_at_inference: ['mems'] }), ['logits', 'mems', 'present.0.key']);
  const node = h2.logitsFrom({ logits, mems: f32([1], [0]), 'present.0.key': outs['present.0.key'] }, ['logits', 'mems', 'present.0.key']) as { tuple: TensorNode[] };
  assert.deepEqual(node.tuple, [logits, outs['present.0.key']]);
});

test('QA logits are (start_logits, end_logits) whatever the graph order', () => {
  const s = f32([1, 3], [1, 2, 3]);
  const e = f32([1, 3], [4, 5, 6]);
  const h = headFor(cfg({ architectures: ['BertForQuestionAnswering'] }), ['end_logits', 'start_logits']);
  assert.deepEqual((h.logitsFrom({ end_logits: e, start_logits: s }, ['end_logits', 'start_logits']) as { tuple: TensorNode[] }).tuple, [s, e]);
});

test('with real tiny models: QA and token-classification heads from the session outputs', async () => {
  const qa = path.join(root, 'qa');
  writeQaModel(qa, { vocabSize: 8, hidden: 3 });
  const tok = path.join(root, 'tok');
  writeTokenClsModel(tok, { vocabSize: 8, hidden: 3, numLabels: 4 });
  for (const [d, task] of [
    [qa, 'question-answering'],
    [tok, 'token-classification'],
  ] as const) {
    const s = await openModel(d);
    try {
      const h = headFor(readModelConfig(d), s.outputNames, undefined, s.outputs);
      assert.equal(h.task, task);
      const out = await s.run({ input_ids: i64([2, 3], [1, 2, 3, 4, 5, 0]), attention_mask: i64([2, 3], [1, 1, 1, 1, 1, 0]) });
      const node = h.logitsFrom(out, s.outputNames);
      if (task === 'question-answering') {
        const t = (node as { tuple: Tensor[] }).tuple;
        assert.deepEqual(t, [out.start_logits, out.end_logits]);
        const loss = h.batchLoss(node, { tuple: [i64([2], [0, 2]), i64([2], [1, 2])] });
        assert.ok(typeof loss === 'number' && loss > 0);
      } else {
        assert.equal(node, out.logits);
        assert.deepEqual(out.logits.shape, [2, 3, 4]);
      }
      // Without config.json's architectures, the session's output ranks decide.
      assert.equal(headFor(cfg({}), s.outputNames, undefined, s.outputs).task, task);
    } finally {
      await s.close();
    }
  }
});

// ---- losses per head -----------------------------------------------------------------------------------

test('sequence classification: the problem type picks CE / MSE / BCE as transformers does', () => {
  const head = (raw: Record<string, unknown> = {}) => headFor(cfg({ architectures: ['BertForSequenceClassification'], ...raw }), ['logits']);
  // single label: logits [[0, 0]] -> softmax 1/2 -> CE = ln 2 (int64 labels)
  assert.equal(head().batchLoss(f32([1, 2], [0, 0]), i64([1], [1])), LN2);
  // regression (one logit): squeeze both; ([1 - 0]^2 + [3 - 1]^2) / 2 = 2.5
  assert.equal(head({ num_labels: 1 }).batchLoss(f32([2, 1], [1, 3]), f32([2], [0, 1])), 2.5);
  // regression on integer labels: torch's MSELoss raises, so there is no loss to reproduce
  assert.equal(head({ num_labels: 1 }).batchLoss(f32([2, 1], [1, 3]), i64([2], [0, 1])), null);
  // multi-label (float labels, 2 classes): x = 0 -> BCE = ln 2 per element
  assert.equal(head().batchLoss(f32([1, 2], [0, 0]), f32([1, 2], [1, 0])), LN2);
  // problem_type from config.json wins: float labels under single_label_classification cannot be class ids
  assert.equal(head({ problem_type: 'single_label_classification' }).batchLoss(f32([1, 2], [0, 0]), f32([1, 2], [1, 0])), null);
  // extra outputs: the loss reads the first tuple item
  const h = head();
  assert.equal(h.batchLoss({ tuple: [f32([1, 2], [0, 0]), f32([1, 1], [9])] }, i64([1], [0])), LN2);
});

test('sequence classification: the first batch fixes the problem type, as transformers writes it into config', () => {
  const h = headFor(cfg({ architectures: ['BertForSequenceClassification'] }), ['logits']) as SequenceClassificationHead;
  assert.equal(h.currentProblemType, undefined);
  assert.equal(h.batchLoss(f32([1, 2], [0, 0]), i64([1], [0])), LN2);
  assert.equal(h.currentProblemType, 'single_label_classification');
  // a later batch with float labels is still single-label (and so has no reproducible loss)
  assert.equal(h.batchLoss(f32([1, 2], [0, 0]), f32([1, 2], [1, 0])), null);
});

test('token classification: CE over non -100 positions', () => {
  const h = headFor(cfg({ architectures: ['BertForTokenClassification'] }), ['logits']);
  // 3 classes, uniform logits at the counted positions -> ln 3; the ignored position has a huge logit that must not count.
  const logits = f32([1, 3, 3], [0, 0, 0, 50, 0, 0, 0, 0, 0]);
  assert.equal(h.batchLoss(logits, i64([1, 3], [2, -100, 0])), LN3);
  assert.ok(Number.isNaN(h.batchLoss(logits, i64([1, 3], [-100, -100, -100])) as number), 'all ignored -> NaN, as torch');
});

test('question answering: (CE(start) + CE(end)) / 2 with positions clamped to [0, L]', () => {
  const h = headFor(cfg({ architectures: ['BertForQuestionAnswering'] }), ['start_logits', 'end_logits']);
  const zeros = f32([1, 3], [0, 0, 0]);
  const logits = { tuple: [zeros, f32([1, 3], [0, 0, 0])] };
  // L = 3, uniform -> each CE is ln 3; end position -100 clamps to 0 and still counts
  assert.equal(h.batchLoss(logits, { tuple: [i64([1], [1]), i64([1], [-100])] }), LN3);
  // both positions beyond L clamp to L = the ignore index -> 0/0 = NaN
  assert.ok(Number.isNaN(h.batchLoss(logits, { tuple: [i64([1], [7]), i64([1], [3])] }) as number));
  // labels that are not a (start, end) tuple give no loss
  assert.equal(h.batchLoss(logits, i64([1], [1])), null);
});
