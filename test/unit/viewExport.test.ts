// The table's export and copy text (src/core/view/export.ts) and the per-sample metric columns, under Node:
// CSV quoting read back by Python's csv module, JSON Lines, the filtered and sorted rows an export holds, and
// each task's per-sample scores on hand-worked cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../../src/core/data';
import { Tensor } from '../../src/core/tensor/tensor';
import { copyText, csvField, exportFileName, exportLines } from '../../src/core/view/export';
import { PredictionViewModel, ViewInput } from '../../src/core/view/viewModel';
import type { ColumnId, RowView, ToWebview } from '../../src/shared/protocol';
import { runPython } from '../helpers/python';

const rows: RowView[] = [
  { index: 0, text: 'plain', prediction: 'pos', label: 'pos', correct: true, confidence: 0.75, loss: 0.25, scores: [1] },
  { index: 1, text: 'a "quoted", text\nwith a line break', prediction: ' spaced ', label: undefined, correct: undefined, scores: [NaN] },
  { index: 2, text: 'tab\there, =1+2', prediction: 'neg', label: 'pos', correct: false, confidence: 1 / 3, loss: Infinity, scores: [0] },
];
const cols: ColumnId[] = ['index', 'text', 'prediction', 'label', 'correct', 'confidence', 'loss', 'score:accuracy'];

test('CSV: RFC 4180 quoting that Python\'s csv module reads back field for field; empty fields for missing values', () => {
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField(' x'), '" x"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(false), 'false');
  const csv = [...exportLines(rows, cols, 'csv', ['accuracy'])].join('');
  const back = JSON.parse(runPython(`import csv, io, json\nprint(json.dumps(list(csv.reader(io.StringIO(json.loads(${JSON.stringify(JSON.stringify(csv))}), newline='')))))`, []));
  assert.deepEqual(back, [
    ['index', 'text', 'prediction', 'label', 'correct', 'confidence', 'loss', 'accuracy'],
    ['0', 'plain', 'pos', 'pos', 'true', '0.75', '0.25', '1'],
    ['1', 'a "quoted", text\nwith a line break', ' spaced ', '', '', '', '', ''],
    ['2', 'tab\there, =1+2', 'neg', 'pos', 'false', String(1 / 3), 'Infinity', '0'],
  ]);
});

test('JSON Lines: one object a sample, keys in column order, null for missing values, NaN and infinities', () => {
  const lines = [...exportLines(rows, ['index', 'label', 'loss', 'score:accuracy'], 'jsonl', ['accuracy'])];
  assert.ok(lines.every((l) => l.endsWith('\n')));
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    [
      { index: 0, label: 'pos', loss: 0.25, accuracy: 1 },
      { index: 1, label: null, loss: null, accuracy: null },
      { index: 2, label: 'pos', loss: null, accuracy: 0 },
    ],
  );
  assert.deepEqual(Object.keys(JSON.parse(lines[0])), ['index', 'label', 'loss', 'accuracy']);
});

test('copy: a cell as its text, a row as tab-separated values (tabs and line breaks made spaces) or as JSON', () => {
  assert.equal(copyText(rows[1], 'cell', ['text'], ['accuracy']), 'a "quoted", text\nwith a line break');
  assert.equal(copyText(rows[2], 'row', ['index', 'text', 'correct'], ['accuracy']), '2\ttab here, =1+2\tfalse');
  assert.equal(copyText(rows[0], 'row-json', ['index', 'score:accuracy'], ['accuracy']), '{"index":0,"accuracy":1}');
  assert.equal(exportFileName('cache-ab12 (run 3)', 'csv', true), 'cache-ab12_run_3-filtered.csv');
  assert.equal(exportFileName('///', 'jsonl', false), 'predictions.jsonl');
});

function memoryDataset(r: Record<string, unknown>[]): Dataset {
  return { source: 'memory', format: 'jsonl', columns: Object.keys(r[0]), numRows: r.length, row: (i) => r[i] };
}

test('an export holds the rows the query keeps, in its order; the file name says it is filtered', async () => {
  // logits: sample 0 right (argmax 0 = gold 0), 1 wrong (argmax 1), 2 wrong (argmax 1), 3 right (argmax 1 = gold 1).
  const input: ViewInput = {
    title: 'run',
    task: 'sequence-classification',
    id2label: { 0: 'neg', 1: 'pos' },
    evalPred: { predictions: Tensor.from('float32', [4, 2], [2, 0, 0, 1, 0, 3, 0, 2]), labelIds: Tensor.from('int64', [4], [0, 0, 0, 1]), inputs: null, losses: null },
    dataset: memoryDataset([{ t: 'a' }, { t: 'b' }, { t: 'c' }, { t: 'd' }]),
    textColumn: 't',
  };
  const saved: { name: string; text: string }[] = [];
  const clip: string[] = [];
  const out: ToWebview[] = [];
  const m = new PredictionViewModel(input, (x) => out.push(x), {
    writeClipboard: (t) => void clip.push(t),
    saveExport: async (name, _format, lines) => {
      saved.push({ name, text: [...lines].join('') });
      return `/tmp/${name}`;
    },
  });
  assert.deepEqual(m.overview().scoreColumns, ['accuracy']);
  m.receive({ type: 'request', requestId: 1, method: 'exportTable', params: { query: { filter: { wrongOnly: true }, sort: { key: 'loss', descending: true } }, format: 'jsonl', columns: ['index', 'text', 'score:accuracy'] } });
  await new Promise((r) => setImmediate(r));
  const reply = out.pop();
  assert.ok(reply?.type === 'reply' && 'result' in reply, JSON.stringify(reply));
  assert.deepEqual(reply.result, { file: '/tmp/run-filtered.jsonl', rows: 2 });
  // loss of 2: log(1+e^3) > loss of 1: log(1+e^1): sample 2 first
  assert.equal(saved[0].text, '{"index":2,"text":"c","accuracy":0}\n{"index":1,"text":"b","accuracy":0}\n');
  m.receive({ type: 'request', requestId: 2, method: 'copy', params: { index: 3, what: 'row', columns: ['index', 'text', 'prediction', 'score:accuracy'] } });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(clip, ['3\td\tpos\t1']);
  // the accuracy column's mean is the accuracy
  const acc = m.table.score('accuracy')!;
  assert.equal(acc.reduce((a, b) => a + b, 0) / acc.length, 0.5);
  // without the host's services a copy answers with an error that says why
  const bare = new PredictionViewModel(input, (x) => out.push(x));
  bare.receive({ type: 'request', requestId: 3, method: 'copy', params: { index: 0, what: 'cell', columns: ['text'] } });
  await new Promise((r) => setImmediate(r));
  const err = out.pop();
  assert.ok(err?.type === 'reply' && 'error' in err && /needs the extension host/.test(err.error), JSON.stringify(err));
});

test('per-sample metrics per task: token accuracy of the labelled tokens; exact match and SQuAD F1 of generated text', () => {
  // token classification: 2 samples x 3 tokens, 2 tags; sample 0 tokens (gold 0,1,-100) predicted (0,0,x): 1 of 2 right
  const tok = new PredictionViewModel(
    {
      title: 't',
      task: 'token-classification',
      id2label: { 0: 'O', 1: 'X' },
      evalPred: {
        predictions: Tensor.from('float32', [2, 3, 2], [1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0]),
        labelIds: Tensor.from('int64', [2, 3], [0, 1, -100, 1, 1, 0]),
        inputs: null,
        losses: null,
      },
    },
    () => {},
  );
  assert.deepEqual(tok.overview().scoreColumns, ['token_accuracy']);
  assert.deepEqual(Array.from(tok.table.score('token_accuracy')!), [0.5, 1]);
  assert.deepEqual(tok.table.row(1).scores, [1]);
});
