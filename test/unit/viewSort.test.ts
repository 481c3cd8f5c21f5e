// The view's column sort (radix over float32 order bits) against a plain comparator sort, and the webview's
// formatting helpers (media/format.ts), under Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortByColumn } from '../../src/core/view/query';
import { countLine, headerSort, summaryLine } from '../../media/format';
import { cellText } from '../../src/core/view/samples/arrays';
import { answerTexts } from '../../src/core/view/samples/questionAnswering';

function reference(order: number[], col: Float64Array, desc: boolean): number[] {
  return [...order].sort((a, b) => {
    const x = col[a], y = col[b];
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y) ? a - b : Number.isNaN(x) ? 1 : -1;
    return x === y ? a - b : (x < y ? -1 : 1) * (desc ? -1 : 1);
  });
}

test('sortByColumn orders like a comparator sort: negatives, zeros, infinities, NaN last, ties by index', () => {
  let s = 3;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  const n = 5000;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    col[i] = r < 0.05 ? NaN : r < 0.1 ? 0.5 : r < 0.12 ? -Infinity : r < 0.14 ? Infinity : r < 0.16 ? -0 : Math.fround((rnd() - 0.5) * 1e4);
  }
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 1);
  for (const desc of [false, true]) {
    assert.deepEqual(Array.from(sortByColumn(Int32Array.from(order), col, desc)), reference(order, col, desc), `descending ${desc}`);
  }
});

test('view formatting: task titles, a count that says "no sample matches", header clicks flip the sort', () => {
  assert.equal(summaryLine('seq2seq-lm', 300), 'seq2seq generation · 300 samples');
  assert.equal(summaryLine('causal-lm', 1_000_000), 'causal language model · 1,000,000 samples');
  assert.equal(countLine(0, 300), 'no sample matches (of 300)');
  assert.equal(countLine(12, 1300), '12 of 1,300 samples');
  assert.deepEqual(headerSort({ key: 'index', descending: false }, 'loss'), { key: 'loss', descending: true });
  assert.deepEqual(headerSort({ key: 'loss', descending: true }, 'loss'), { key: 'loss', descending: false });
  assert.deepEqual(headerSort({ key: 'loss', descending: true }, 'confidence'), { key: 'confidence', descending: false });
});

test('dataset cells that are not strings are shown as text, never "[object Object]"; QA answers in every SQuAD shape', () => {
  assert.equal(cellText(42), '42');
  assert.equal(cellText(null), '');
  assert.equal(cellText(['a', 1, true]), 'a 1 true');
  assert.equal(cellText({ q: 'x', n: 10n }), '{"q":"x","n":"10"}');
  assert.deepEqual(answerTexts({ text: ['Paris', 'paris'], answer_start: [3, 9] }), ['Paris', 'paris']);
  assert.deepEqual(answerTexts({ text: [], answer_start: [] }), []);
  assert.deepEqual(answerTexts('Paris'), ['Paris']);
  assert.deepEqual(answerTexts([7, 'x']), ['7', 'x']);
  assert.equal(answerTexts(undefined), undefined);
  assert.equal(answerTexts(3), undefined);
});
