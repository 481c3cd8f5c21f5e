// The webview's DOM-free parts under Node: typed request/response correlation (src/shared/messaging.ts), the
// LRU row cache, word diffs, cell and raw-array text, and the saved state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestClient, RequestFailed, ReplyMessage, answer, isRequest } from '../../src/shared/messaging';
import { MAX_SEQUENCE_LINES, cellNumber, correctMark, rawValuesText, sequenceLines, summaryLine } from '../../media/format';
import { diffWords, words } from '../../media/common/wordDiff';
import { RowCache } from '../../media/predictionView/rowCache';
import { restoreState, stateToSave, withFilter } from '../../media/predictionView/state';

type Api = { double: { params: { x: number }; result: number }; fail: { params: Record<string, never>; result: never }; later: { params: { x: number }; result: string } };

test('requests get their own reply by id, in any order; errors reject with the host\'s text; stray replies are dropped', async () => {
  const sent: unknown[] = [];
  const client = new RequestClient<Api>((m) => sent.push(m));
  const replies: ReplyMessage[] = [];
  const handlers = {
    double: ({ x }: { x: number }) => 2 * x,
    fail: () => {
      throw new Error('no such sample');
    },
    later: async ({ x }: { x: number }) => `x=${x}`,
  };
  const a = client.request('double', { x: 2 });
  const b = client.request('double', { x: 5 });
  const c = client.request('fail', {});
  const d = client.request('later', { x: 1 });
  assert.equal(client.inFlight, 4);
  assert.deepEqual(
    sent.map((m) => (m as { requestId: number }).requestId),
    [1, 2, 3, 4],
  );
  const checks = { double: (p: Record<string, unknown>) => typeof p.x === 'number', fail: () => true, later: () => true };
  for (const m of sent) assert.ok(isRequest<Api>(m, checks));
  // answered in reverse order: each promise still gets its own result
  for (const m of [...sent].reverse()) if (isRequest<Api>(m, checks)) answer<Api>(m, handlers, (r) => replies.push(r), (e) => (e as Error).message);
  // the synchronous handlers answered at once, the async one after a tick
  assert.equal(replies.length, 3);
  await new Promise((r) => setImmediate(r));
  assert.equal(replies.length, 4);
  for (const r of replies) assert.equal(client.handle(r), true);
  assert.equal(await a, 4);
  assert.equal(await b, 10);
  await assert.rejects(c, (e: unknown) => e instanceof RequestFailed && e.message === 'no such sample' && e.method === 'fail');
  assert.equal(await d, 'x=1');
  assert.equal(client.inFlight, 0);
  assert.equal(client.handle({ type: 'reply', requestId: 99, result: 1 }), true, 'a reply to nothing is still a reply (dropped)');
  assert.equal(client.handle({ type: 'init' }), false);
  assert.equal(isRequest<Api>({ type: 'request', requestId: 1, method: 'double', params: { x: 'no' } }, checks), false);
  assert.equal(isRequest<Api>({ type: 'request', requestId: 1, method: 'hasOwnProperty', params: {} }, checks), false);
});

test('the row cache keeps the most recently used blocks and evicts the oldest', () => {
  const c = new RowCache<string>(10, 3);
  for (const b of [0, 1, 2]) c.put(b * 10, Array.from({ length: 10 }, (_, k) => `r${b * 10 + k}`));
  assert.equal(c.get(15), 'r15');
  assert.equal(c.get(35), undefined);
  c.touch(0, 5); // block 0 used again: block 1 is now the oldest
  c.put(30, ['r30']);
  assert.deepEqual(c.heldBlocks(), [2, 0, 3]);
  assert.equal(c.hasBlock(1), false);
  assert.equal(c.get(30), 'r30');
  assert.equal(c.get(31), undefined, 'a short last block holds only its rows');
  c.touch(25, 31); // blocks 2 and 3
  c.put(40, ['r40']);
  assert.deepEqual(c.heldBlocks(), [2, 3, 4]);
  c.clear();
  assert.deepEqual(c.heldBlocks(), []);
  assert.throws(() => new RowCache(0, 1), /at least 1/);
});

test('word diff marks the words of one text missing from the other (longest common subsequence)', () => {
  assert.deepEqual(words('  the  cat sat '), ['the', 'cat', 'sat']);
  assert.deepEqual(diffWords(words('the black cat sat'), words('the cat sat down')), [false, true, false, false]);
  assert.deepEqual(diffWords(words('a b c'), words('c b a')), [true, true, false]);
  assert.deepEqual(diffWords([], words('x')), []);
  assert.deepEqual(diffWords(words('x y'), []), [true, true]);
});

test('cell text: three decimals or nothing, ✓ / ✗ with a spoken label, raw slices by last axis', () => {
  assert.equal(cellNumber(undefined), '');
  assert.equal(cellNumber(0.12345), '0.123');
  assert.deepEqual(correctMark(true), { text: '✓', label: 'correct' });
  assert.deepEqual(correctMark(false), { text: '✗', label: 'wrong' });
  assert.deepEqual(correctMark(undefined), { text: '', label: '' });
  const f = new Float32Array([0.5, -1.25, 3, 1e-7, 2, 4]);
  assert.equal(rawValuesText({ path: 'p', dtype: 'float32', shape: [2, 3], buffer: f.buffer }), '0.5 -1.25 3\n1.00e-7 2 4');
  const big = new BigInt64Array([1n, -100n, 9007199254740993n]);
  assert.equal(rawValuesText({ path: 'l', dtype: 'int64', shape: [3], buffer: big.buffer }), '1 -100 9007199254740993');
  const many = new Int32Array(10).map((_, k) => k);
  assert.equal(rawValuesText({ path: 'i', dtype: 'int32', shape: [10], buffer: many.buffer }, 4), '0 1 2 3\n… 6 more');
});

test('saved state: the view\'s fields come back, everything else is the host\'s; a filter patch drops empty entries', () => {
  const q = { filter: { wrongOnly: true }, sort: { key: 'loss' as const, descending: true } };
  const saved = stateToSave({ cacheDir: '/c' }, q, 240, 7);
  const back = restoreState(saved);
  assert.deepEqual(back, { query: q, offset: 240, lines: 1, selected: 7, hidden: [], hostState: { cacheDir: '/c' } });
  // num_return_sequences: the offset counts rows of `lines` lines, so the lines come back with it
  assert.equal(restoreState(stateToSave({}, q, 1440, 20, [], 3)).lines, 3);
  assert.equal(restoreState({ ...saved, lines: -2 }).lines, 1, 'a damaged state falls back to one line');
  assert.deepEqual(restoreState(stateToSave({}, q, 0, 0, ['text', 'score:f1'])).hidden, ['text', 'score:f1']);
  assert.deepEqual(restoreState({ ...saved, hidden: ['text', '<img>', 7] as never }).hidden, ['text'], 'a damaged state keeps only real column ids');
  const fresh = restoreState(undefined);
  assert.deepEqual(fresh.query, { filter: {}, sort: { key: 'index', descending: false } });
  assert.equal(fresh.offset, undefined);
  assert.deepEqual(withFilter(q, { wrongOnly: false, search: '', gold: 'pos' }).filter, { gold: 'pos' });
});

test('num_return_sequences: the header says n, a row takes a line per sequence up to MAX_SEQUENCE_LINES', () => {
  assert.equal(summaryLine('seq2seq-lm', 1200), 'seq2seq generation · 1,200 samples');
  assert.equal(summaryLine('seq2seq-lm', 1200, 1), 'seq2seq generation · 1,200 samples');
  assert.equal(summaryLine('causal-lm', 7, 4), 'causal language model · 7 samples × 4 sequences (num_return_sequences)');
  assert.deepEqual([1, 2, 3, MAX_SEQUENCE_LINES, MAX_SEQUENCE_LINES + 1, 50].map(sequenceLines), [1, 2, 3, MAX_SEQUENCE_LINES, MAX_SEQUENCE_LINES, MAX_SEQUENCE_LINES]);
  assert.equal(sequenceLines(0), 1);
});
