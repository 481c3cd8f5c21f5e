// The host-side view model without a browser: per-sample rows for each task on small hand-computed cases,
// filter/sort/windows, the confusion matrix, metrics deltas, raw row details and untrusted messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../../src/core/data';
import { Tensor } from '../../src/core/tensor/tensor';
import { PredictionViewModel, ViewInput } from '../../src/core/view/viewModel';
import type { RowDetail, RowQuery, RowsResult, SummaryResult, ToWebview } from '../../src/shared/protocol';

function memoryDataset(rows: Record<string, unknown>[]): Dataset {
  return { source: 'memory', format: 'jsonl', columns: Object.keys(rows[0]), numRows: rows.length, row: (i) => rows[i] };
}

/** The result of the reply to request `requestId` (the host answers synchronously when it can). */
function resultOf(reply: ToWebview | undefined, requestId: number): unknown {
  assert.ok(reply && reply.type === 'reply' && reply.requestId === requestId && 'result' in reply, `a reply to request ${requestId}: ${JSON.stringify(reply)}`);
  return reply.result;
}

function modelOf(input: Partial<ViewInput> & Pick<ViewInput, 'evalPred' | 'task'>) {
  const out: ToWebview[] = [];
  const m = new PredictionViewModel({ title: 't', ...input }, (x) => out.push(x));
  const rows = (query: RowQuery, start = 0, count = 100) => {
    m.receive({ type: 'request', requestId: 1, method: 'getRows', params: { query, start, count } });
    return resultOf(out.pop(), 1) as RowsResult;
  };
  return { m, out, rows };
}

const q = (filter: RowQuery['filter'] = {}, key: RowQuery['sort']['key'] = 'index', descending = false): RowQuery => ({ filter, sort: { key, descending } });
const close = (a: number | undefined, b: number, what: string) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

// logits [[0,0],[3,0],[0,3]], gold 0 for all: p_max = 1/2, 1/(1+e^-3) (argmax 0: right), 1/(1+e^-3) (argmax 1: wrong);
// cross-entropy -log p[0] = log 2, log(1+e^-3), log(1+e^3). argmax of a tie is the first index, as NumPy's.
const seq = () =>
  modelOf({
    task: 'sequence-classification',
    id2label: { 0: 'neg', 1: 'pos' },
    evalPred: { predictions: Tensor.from('float32', [3, 2], [0, 0, 3, 0, 0, 3]), labelIds: Tensor.from('int64', [3], [0, 0, 0]), inputs: null, losses: null },
    dataset: memoryDataset([{ text: 'a cat' }, { text: 'a dog' }, { text: 'the CAT sat' }]),
    textColumn: 'text',
  });

test('sequence classification rows: names, correctness, softmax confidence and cross-entropy', () => {
  const { rows } = seq();
  const r = rows(q());
  assert.equal(r.total, 3);
  assert.deepEqual(r.rows.map((x) => [x.text, x.prediction, x.label, x.correct]), [
    ['a cat', 'neg', 'neg', true],
    ['a dog', 'neg', 'neg', true],
    ['the CAT sat', 'pos', 'neg', false],
  ]);
  const s = 1 / (1 + Math.exp(-3));
  [0.5, s, s].forEach((c, i) => close(r.rows[i].confidence, c, `confidence ${i}`));
  [Math.log(2), Math.log(1 + Math.exp(-3)), Math.log(1 + Math.exp(3))].forEach((l, i) => close(r.rows[i].loss, l, `loss ${i}`));
});

test('filters (wrong only, gold, predicted, text search) and sorts (loss, confidence) give the right order', () => {
  const { rows } = seq();
  const idx = (query: RowQuery) => rows(query).rows.map((x) => x.index);
  assert.deepEqual(idx(q({ wrongOnly: true })), [2]);
  assert.deepEqual(idx(q({ predicted: 'pos' })), [2]);
  assert.deepEqual(idx(q({ gold: 'pos' })), []);
  assert.deepEqual(idx(q({ search: 'cat' })), [0, 2]); // case-insensitive
  assert.deepEqual(idx(q({}, 'loss', true)), [2, 0, 1]);
  assert.deepEqual(idx(q({}, 'confidence')), [0, 1, 2]); // tie between 1 and 2 keeps index order
  assert.deepEqual(idx(q({}, 'index', true)), [2, 1, 0]);
  // windows: [start, start + count) of the filtered, sorted order
  const w = rows(q({}, 'loss', true), 1, 1);
  assert.equal(w.total, 3);
  assert.deepEqual(w.rows.map((x) => x.index), [0]);
});

test('token classification: tags of the labelled tokens, word texts, mean confidence and loss, token confusion', () => {
  // sample 0: tokens [2,0] -> O (gold O), [0,1] -> B-PER (gold O), third token is -100 (a later sub-token).
  // sample 1: [0,3] -> B-PER (gold B-PER), second token -100, [0,0] -> O (tie: first) (gold O).
  const { m, rows } = modelOf({
    task: 'token-classification',
    id2label: { 0: 'O', 1: 'B-PER' },
    evalPred: {
      predictions: Tensor.from('float32', [2, 3, 2], [2, 0, 0, 1, 5, 5, 0, 3, 1, 0, 0, 0]),
      labelIds: Tensor.from('int64', [2, 3], [0, 0, -100, 1, -100, 0]),
      inputs: null,
      losses: null,
    },
    dataset: memoryDataset([{ tokens: ['John', 'runs'] }, { tokens: ['Paris', 'is'] }]),
    textColumn: 'tokens',
  });
  const r = rows(q()).rows;
  assert.deepEqual(r[0].tokens, [
    { token: 'John', pred: 'O', predId: 0, gold: 'O' },
    { token: 'runs', pred: 'B-PER', predId: 1, gold: 'O' },
  ]);
  assert.equal(r[0].correct, false);
  assert.equal(r[1].correct, true);
  assert.equal(r[0].text, 'John runs');
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  close(r[0].confidence, (sig(2) + sig(1)) / 2, 'confidence 0');
  close(r[0].loss, (Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.exp(1))) / 2, 'loss 0');
  close(r[1].confidence, (sig(3) + 0.5) / 2, 'confidence 1');
  close(r[1].loss, (Math.log(1 + Math.exp(-3)) + Math.log(2)) / 2, 'loss 1');
  assert.deepEqual(m.overview().confusion, { labels: ['O', 'B-PER'], counts: [[2, 1], [0, 1]] });
  // a confusion cell keeps the samples holding such a token
  assert.deepEqual(rows(q({ gold: 'O', predicted: 'B-PER' })).rows.map((x) => x.index), [0]);
  assert.deepEqual(rows(q({ gold: 'B-PER' })).rows.map((x) => x.index), [1]);
});

test('question answering: predicted span vs answer text, p(start) * p(end), mean of the two cross-entropies', () => {
  // sample 0: start argmax 1, end argmax 2 = gold (1, 2). sample 1: (0, 3) predicted, gold (1, 1).
  const { rows } = modelOf({
    task: 'question-answering',
    evalPred: {
      predictions: { tuple: [Tensor.from('float32', [2, 4], [0, 3, 0, 0, 4, 0, 0, 0]), Tensor.from('float32', [2, 4], [0, 0, 3, 0, 0, 0, 0, 4])] },
      labelIds: { tuple: [Tensor.from('int64', [2], [1, 1]), Tensor.from('int64', [2], [2, 1])] },
      inputs: null,
      losses: null,
    },
    dataset: memoryDataset([
      { question: 'q0', context: 'c0', answers: { text: ['big cat'], answer_start: [0] } },
      { question: 'q1', context: 'c1', answers: { text: ['dog'], answer_start: [0] } },
    ]),
    textColumn: 'question',
    pairColumn: 'context',
    labelColumn: 'answers',
  });
  const r = rows(q()).rows;
  assert.deepEqual(r.map((x) => [x.text, x.prediction, x.label, x.correct]), [
    ['q0 | c0', 'tokens 1–2', 'big cat', true],
    ['q1 | c1', 'tokens 0–3', 'dog', false],
  ]);
  const p3 = Math.exp(3) / (Math.exp(3) + 3);
  close(r[0].confidence, p3 * p3, 'confidence 0');
  close(r[1].loss, (Math.log(Math.exp(4) + 3) + Math.log(Math.exp(4) + 3)) / 2, 'loss 1');
});

test('already argmax-ed predictions have names but no confidence or loss', () => {
  const { rows } = modelOf({
    task: 'sequence-classification',
    evalPred: { predictions: Tensor.from('int64', [2], [1, 0]), labelIds: Tensor.from('int64', [2], [1, 1]), inputs: null, losses: null },
  });
  const r = rows(q()).rows;
  assert.deepEqual(r.map((x) => [x.prediction, x.label, x.correct, x.confidence, x.loss]), [
    ['1', '1', true, undefined, undefined],
    ['0', '1', false, undefined, undefined],
  ]);
});

test('ready sends the overview, then on request the summary (cards with -100/NaN counts); detail sends ArrayBuffers', () => {
  const { m, out } = modelOf({
    task: 'sequence-classification',
    evalPred: {
      predictions: { tuple: [Tensor.from('float16', [2, 2], [0.5, NaN, 1, 2]), Tensor.from('float32', [2, 1], [7, 8])] },
      labelIds: Tensor.from('int64', [2], [-100, 1]),
      inputs: null,
      losses: null,
    },
  });
  m.receive({ type: 'ready' });
  const init = out.pop() as Extract<ToWebview, { type: 'init' }>;
  assert.equal(init.type, 'init');
  assert.deepEqual(init.overview.structure[0], 'predictions: tuple(float16[2, 2], float32[2, 1])');
  assert.deepEqual(init.overview.cards, []); // the costly summary follows the first rows
  m.receive({ type: 'request', requestId: 1, method: 'getRows', params: { query: q(), start: 0, count: 10 } });
  assert.equal((resultOf(out.pop(), 1) as RowsResult).total, 2);
  m.receive({ type: 'request', requestId: 2, method: 'getSummary', params: {} });
  const summary = resultOf(out.pop(), 2) as SummaryResult;
  const o = m.overview();
  assert.deepEqual(summary.cards, o.cards);
  assert.deepEqual(o.cards.map((c) => [c.path, c.dtype, c.shape.join('x'), c.nanCount, c.minus100Count]), [
    ['predictions[0]', 'float16', '2x2', 1, 0],
    ['predictions[1]', 'float32', '2x1', 0, 0],
    ['label_ids', 'int64', '2', 0, 1],
  ]);
  assert.equal(o.cards[0].histogram.counts.length, 20);
  assert.equal(o.cards[0].histogram.counts.reduce((a, b) => a + b, 0), 3); // NaN is not binned
  m.receive({ type: 'request', requestId: 7, method: 'getDetail', params: { index: 1 } });
  const d = { detail: resultOf(out.pop(), 7) as RowDetail };
  assert.deepEqual(d.detail.arrays.map((a) => [a.path, a.dtype, a.shape]), [
    ['predictions[0][1]', 'float32', [2]], // float16 widened for the browser
    ['predictions[1][1]', 'float32', [1]],
    ['label_ids[1]', 'int64', []],
  ]);
  assert.deepEqual(Array.from(new Float32Array(d.detail.arrays[0].buffer)), [1, 2]);
  assert.deepEqual(Array.from(new BigInt64Array(d.detail.arrays[2].buffer)), [1n]);
});

test('untrusted messages: malformed ones are ignored, bad indices answer with an error naming the range', () => {
  const { m, out } = seq();
  const bad = [
    null,
    'ready',
    { type: 'request', method: 'getRows' },
    { type: 'request', requestId: 1, method: 'getRows', params: { start: -1, count: 5, query: q() } },
    { type: 'request', requestId: 1, method: 'getRows', params: null },
    { type: 'request', requestId: 1, method: 'toString', params: {} },
    { type: 'request', requestId: 1, method: 'rm -rf', params: {} },
    { type: 'rm -rf' },
  ];
  for (const b of bad) m.receive(b);
  assert.equal(out.length, 0);
  m.receive({ type: 'request', requestId: 3, method: 'getDetail', params: { index: 99 } });
  const e = out.pop();
  assert.ok(e && e.type === 'reply' && 'error' in e, `an error reply: ${JSON.stringify(e)}`);
  assert.equal(e.requestId, 3);
  assert.match(e.error, /sample 99 is out of range: the evaluation has 3 samples/);
});

test('metrics history keeps deltas from the previous run for keys both runs have', () => {
  const { m, out } = seq();
  m.addMetrics({ eval_accuracy: 0.5, eval_loss: 1 });
  m.addMetrics({ eval_accuracy: 0.625, note: 'text is dropped' });
  const last = out.pop() as Extract<ToWebview, { type: 'metrics' }>;
  assert.equal(last.history.length, 2);
  assert.deepEqual(last.history[1].metrics, { eval_accuracy: 0.625 });
  assert.deepEqual(last.history[1].deltas, { eval_accuracy: 0.125 });
  assert.deepEqual(m.overview().metrics.length, 2);
});
