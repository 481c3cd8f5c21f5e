// The prediction view's rows under num_return_sequences n (docs/trainer-semantics.md#generation-options):
// predictions hold N·n generated rows for N labels, each sample's n together, best first. A row carries all n
// sequences ranked, each scored against the sample's one label; the row's own prediction, correctness and metric
// values are the best's (sort, "Wrong only", export's single columns); search matches every sequence; the detail
// slices the sample's block of prediction rows; export writes every sequence. A decoder-only run's sequences
// show their new tokens apart from the prompt they start with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { loadTokenizerSync } from '../../src/core/text/tokenizer';
import type { LoadedTokenizer } from '../../src/core/text';
import { Tensor } from '../../src/core/tensor/tensor';
import { normalizeAnswer, squadF1 } from '../../src/core/metrics/library/squad';
import { SampleTable } from '../../src/core/view/samples';
import { promptEnd } from '../../src/core/view/samples/generation';
import { PredictionViewModel, ViewInput } from '../../src/core/view/viewModel';
import { computeOrder } from '../../src/core/view/query';
import { copyText, exportLines } from '../../src/core/view/export';
import { sampleViews } from '../../src/core/inspect/describe';
import { formatSamples } from '../../src/cli/summary';
import type { RowView, ToWebview } from '../../src/shared/protocol';
import { GEN_VOCAB } from '../fixtures/generative';
import { tempDir } from '../helpers/tempDir';

let tokenizer: LoadedTokenizer | undefined;
function tok(): LoadedTokenizer {
  if (tokenizer) return tokenizer;
  const dir = tempDir();
  const { tokenizer: tj, tokenizerConfig } = wordPieceTokenizerJson(GEN_VOCAB);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tj));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  tokenizer = loadTokenizerSync(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return tokenizer;
}

const id = (w: string) => GEN_VOCAB.indexOf(w);
/** Ids of the words, padded with `fill` to `width`. */
const ids = (text: string, width: number, fill = -100) => {
  const out = text ? text.split(' ').map(id) : [];
  return [...out, ...Array(width - out.length).fill(fill)];
};

// 3 samples x 3 sequences, best first; -100 right of the narrower batch, as Trainer pads across batches.
const LABELS = ['the cat sat', 'a dog ran', 'blue sky'];
const SEQS = [
  ['the cat', 'the cat sat', 'cat sat on'], // best partly right, #2 exact
  ['a dog ran', 'a big dog ran', 'dog'], // best exact
  ['red sun', 'big sun', 'small sun'], // none right
];
const W = 5;

function seq2seqInput(): ViewInput {
  const predictions = Tensor.from('int64', [9, W], SEQS.flat().flatMap((s) => ids(s, W)));
  const labelIds = Tensor.from('int64', [3, W], LABELS.flatMap((s) => ids(s, W)));
  return {
    title: 'beams',
    evalPred: { predictions, labelIds, inputs: null, losses: null },
    task: 'seq2seq-lm',
    tokenizer: tok(),
    generated: true,
    numReturnSequences: 3,
  };
}

test('a row holds its n sequences ranked, each scored against the one label; the row is the best', () => {
  const table = new SampleTable(seq2seqInput());
  assert.equal(table.n, 3, 'N samples, not N·n');
  assert.equal(table.sequencesPerSample, 3);
  assert.deepEqual(table.scores.map((s) => s.name), ['exact_match', 'f1']);
  for (let i = 0; i < 3; i++) {
    const r = table.row(i);
    assert.equal(r.label, LABELS[i]);
    assert.deepEqual(r.sequences?.map((s) => s.prediction), SEQS[i], `sample ${i}: every sequence, in generate()'s order`);
    r.sequences!.forEach((s, j) => {
      const em = normalizeAnswer(SEQS[i][j]) === normalizeAnswer(LABELS[i]);
      assert.equal(s.correct, em, `sample ${i} #${j + 1}`);
      assert.deepEqual(s.scores, [em ? 1 : 0, squadF1(SEQS[i][j], LABELS[i])]);
    });
    // the row itself is its best sequence
    assert.equal(r.prediction, SEQS[i][0]);
    assert.equal(r.correct, r.sequences![0].correct);
    assert.deepEqual(r.scores, r.sequences![0].scores);
  }
  assert.equal(table.row(0).sequences![1].correct, true, 'sample 0: the second sequence is exact');
  assert.equal(table.row(0).correct, false, 'but the sample is scored by its best');
});

test('wrong only and sorting use the best sequence; search matches any sequence', () => {
  const table = new SampleTable(seq2seqInput());
  assert.deepEqual([...computeOrder(table, { filter: { wrongOnly: true }, sort: { key: 'index', descending: false } })], [0, 2]);
  // f1 of the best: sample 1 (1.0), sample 0 (0.8), sample 2 (0)
  assert.deepEqual([...computeOrder(table, { filter: {}, sort: { key: 'score:f1', descending: true } })], [1, 0, 2]);
  // "on" is only in sample 0's third sequence, "small" only in sample 2's third
  assert.deepEqual([...computeOrder(table, { filter: { search: 'cat sat on' }, sort: { key: 'index', descending: false } })], [0]);
  assert.deepEqual([...computeOrder(table, { filter: { search: 'SMALL' }, sort: { key: 'index', descending: false } })], [2]);
  table.buildSearchIndex(10); // the background index answers the same
  assert.deepEqual([...computeOrder(table, { filter: { search: 'small' }, sort: { key: 'index', descending: false } })], [2]);
});

test('the view model: overview says n, the detail slices the sample\'s block of prediction rows, export writes every sequence', () => {
  const sent: ToWebview[] = [];
  const m = new PredictionViewModel(seq2seqInput(), (x) => sent.push(x));
  const o = m.overview(false);
  assert.equal(o.sequencesPerSample, 3);
  assert.equal(o.numSamples, 3);
  assert.ok(o.notes.some((n) => /num_return_sequences 3: .* each row shows all 3, ranked/.test(n)), o.notes.join('\n'));
  assert.equal(m.overview().sequencesPerSample, 3, 'the full overview too');
  const d = m.detail(1);
  const block = d.arrays.find((a) => a.path.startsWith('predictions'));
  assert.equal(block?.path, 'predictions[3:6]');
  assert.deepEqual(block?.shape, [3, W]);
  assert.deepEqual(Array.from(new BigInt64Array(block!.buffer), Number), SEQS[1].flatMap((s) => ids(s, W)));
  assert.equal(d.arrays.find((a) => a.path.startsWith('label_ids'))?.path, 'label_ids[1]');
  assert.deepEqual(d.row.sequences?.map((s) => s.prediction), SEQS[1]);

  const rows: RowView[] = [0, 1, 2].map((i) => m.table.row(i));
  const csv = [...exportLines(rows, ['index', 'prediction', 'label', 'correct', 'score:f1'], 'csv', ['exact_match', 'f1'], 3)].join('');
  assert.equal(csv.split('\r\n')[0], 'index,prediction,prediction_2,prediction_3,label,correct,f1');
  assert.equal(csv.split('\r\n')[1], `0,the cat,the cat sat,cat sat on,the cat sat,false,${squadF1('the cat', 'the cat sat')}`);
  const json = [...exportLines(rows, ['index', 'prediction', 'correct', 'score:exact_match'], 'jsonl', ['exact_match', 'f1'], 3)].map((l) => JSON.parse(l));
  assert.deepEqual(json[0], {
    index: 0,
    prediction: 'the cat',
    sequences: [
      { prediction: 'the cat', correct: false, exact_match: 0 },
      { prediction: 'the cat sat', correct: true, exact_match: 1 },
      { prediction: 'cat sat on', correct: false, exact_match: 0 },
    ],
    correct: false,
    exact_match: 0,
  });
  // a copied prediction cell is what the cell shows: every sequence, a line each; a copied row, the CSV's cells
  assert.equal(copyText(rows[2], 'cell', ['prediction'], ['exact_match', 'f1']), 'red sun\nbig sun\nsmall sun');
  assert.equal(copyText(rows[2], 'row', ['index', 'prediction', 'label'], ['exact_match', 'f1']), '2\tred sun\tbig sun\tsmall sun\tblue sky');
});

test('CLI samples and the debugger\'s sample list every sequence under the best', () => {
  const input = seq2seqInput();
  const views = sampleViews(input.evalPred, 3, { tokenizer: tok(), task: 'seq2seq-lm', numReturnSequences: 3 });
  assert.deepEqual(views.map((v) => v.sequences), SEQS);
  assert.deepEqual(views.map((v) => v.prediction), SEQS.map((s) => s[0]));
  const text = formatSamples(views);
  assert.match(text, /#0 {2}pred="the cat" {2}label="the cat sat"\n {5}pred #2 of 3="the cat sat"\n {5}pred #3 of 3="cat sat on"/);
});

test('decoder-only generate: each sequence\'s new tokens apart from the prompt it starts with', () => {
  // left padding with [PAD]=0, then the prompt, then the new tokens; labels are the prompt (pad -> -100)
  const prompts = ['the cat', 'a big dog'];
  const news = [['sat on mat', 'ran'], ['ran to park', '']];
  const P = 3;
  const W2 = P + 3;
  const row = (p: string, n: string) => {
    const pr = ids(p, p.split(' ').length);
    return ids([...Array(P - pr.length).fill('[PAD]'), p, n].filter(Boolean).join(' '), W2, 0);
  };
  const predictions = Tensor.from('int64', [4, W2], prompts.flatMap((p, i) => news[i].flatMap((n) => row(p, n))));
  // labels: the prompt, pad -> -100, then padded with [PAD] to the predictions' width (Seq2SeqTrainer's padding)
  const labelIds = Tensor.from('int64', [2, W2], prompts.flatMap((p) => [...Array(P - p.split(' ').length).fill(-100), ...p.split(' ').map(id), ...Array(W2 - P).fill(0)]));
  const table = new SampleTable({ evalPred: { predictions, labelIds, inputs: null, losses: null }, task: 'causal-lm', tokenizer: tok(), generated: true, numReturnSequences: 2 });
  assert.equal(table.n, 2);
  for (let i = 0; i < 2; i++) {
    const r = table.row(i);
    assert.deepEqual(r.sequences?.map((s) => s.continuation), news[i], `sample ${i}: the new tokens of each sequence`);
    assert.deepEqual(r.sequences?.map((s) => s.prediction), news[i].map((n) => `${prompts[i]}${n ? ` ${n}` : ''}`), 'the prediction is the whole row, as batch_decode gives it');
    assert.equal(r.continuation, news[i][0]);
  }
  // where the prompt ends: after left padding (a run of one id), or at the start; -1 when the row does not start with it
  assert.equal(promptEnd([0, 0, 5, 6, 7], [5, 6]), 4);
  assert.equal(promptEnd([0, 0, 5, 6, 7], [5, 6, 0, 0], 0), 4, 'the prompt labels\' padding is not part of the prompt');
  assert.equal(promptEnd([0, 0, 5, 6, 7], [5, 6, 0, 0]), -1, 'without knowing the pad id it is');
  assert.equal(promptEnd([5, 6, 7], [5, 6]), 2);
  assert.equal(promptEnd([0, 9, 5, 6, 7], [5, 6]), -1);
  assert.equal(promptEnd([5, 7], [5, 6]), -1);
});

test('one sequence per sample: no sequences on the row, nothing changes', () => {
  const predictions = Tensor.from('int64', [3, W], SEQS.flatMap((s) => ids(s[0], W)));
  const labelIds = Tensor.from('int64', [3, W], LABELS.flatMap((s) => ids(s, W)));
  const m = new PredictionViewModel({ title: 't', evalPred: { predictions, labelIds, inputs: null, losses: null }, task: 'seq2seq-lm', tokenizer: tok(), generated: true }, () => {});
  assert.equal(m.table.sequencesPerSample, 1);
  assert.equal(m.overview(false).sequencesPerSample, undefined);
  assert.equal(m.table.row(0).sequences, undefined);
  assert.equal(m.table.row(0).prediction, 'the cat');
  assert.equal(m.detail(0).arrays[0].path, 'predictions[0]');
});
