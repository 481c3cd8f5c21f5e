// Whole-array operations on file-backed arrays of any size (docs/cache-format.md#arrays-larger-than-memory):
// the Debug Console's reductions, argmax/argmin, count, unique, indexing and masks, and the view's statistics
// and histogram stream block by block (src/core/tensor/blocks.ts). Here the whole-array limit is forced to a
// few bytes (so any load of the whole array throws) and blocks to 7 elements (so every pass crosses dozens of
// block edges, inside rows and across them); every result must equal the in-memory array's, bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { evaluateExpression, evaluationOf, formatValue, runSliced, statisticsText, Value } from '../../src/core/expr';
import { VariableStore } from '../../src/debug/variables';
import { PredictionViewModel } from '../../src/core/view/viewModel';
import type { SummaryResult, ToWebview } from '../../src/shared/protocol';
import { histogram, histogramOf, statsOf, tensorStats } from '../../src/core/tensor/stats';
import { runToEnd } from '../../src/core/tensor/blocks';
import { tensorCards, tensorCardsOf } from '../../src/core/view/cards';
import { openNpyFile, writeNpyFile } from '../../src/core/tensor/npy';
import { EvalPredictionData, Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { lintEvalPrediction, lintEvalPredictionSliced, lintPass } from '../../src/core/lint/lints';
import { DType } from '../../src/core/tensor/dtype';
import { tempDir } from '../helpers/tempDir';

/** Values with NaN, ±inf, -100, zeros and ties placed across block edges. */
function values(n: number, seed: number, dtype: DType): number[] {
  return Array.from({ length: n }, (_, i) => {
    const k = (i * 7919 + seed * 104729) % 1009;
    if (dtype.startsWith('float')) {
      if (k === 3 || k === 500) return NaN;
      if (k === 11) return Infinity;
      if (k === 12) return -Infinity;
    }
    if (k % 97 === 0) return -100;
    if (k % 31 === 0) return 0;
    return dtype.startsWith('float') ? (k - 500) / 8 : (k % 41) - 20;
  });
}

function withEnv<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** What the Debug Console would show for a value, plus the raw bits of an array (dtype, shape, bytes). */
function shown(v: Value): string {
  if (v instanceof Tensor) {
    const d = v.data;
    return `${v.dtype}[${v.shape.join(',')}] ${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex')}`;
  }
  return typeof v === 'number' ? `number ${Object.is(v, -0) ? '-0' : String(v)}` : formatValue(v);
}

const SMALL = { EVALPRED_WHOLE_ARRAY_BYTES: '8', EVALPRED_BLOCK_ELEMENTS: '7' };

function fileBacked(dir: string, name: string, t: Tensor): Tensor {
  const file = path.join(dir, `${name}.npy`);
  writeNpyFile(file, t);
  return withEnv(SMALL, () => openNpyFile(file));
}

const EXPRESSIONS = [
  'sum(predictions)', 'mean(predictions)', 'min(predictions)', 'max(predictions)',
  'sum(predictions, 0)', 'sum(predictions, 1)', 'mean(predictions, -1)', 'min(predictions, 0)', 'max(predictions, 1)', 'max(predictions, -1)',
  'argmax(predictions)', 'argmin(predictions)', 'argmax(predictions, 0)', 'argmax(predictions, 1)', 'argmax(predictions, -1)', 'argmin(predictions, 0)', 'argmin(predictions, -1)',
  'predictions.argmax(-1)', 'count(predictions > 0)', 'count(predictions)', 'unique(label_ids)', 'count(label_ids == -100)',
  'sum(label_ids)', 'mean(label_ids, 1)', 'min(label_ids, 0)', 'argmax(label_ids, 0)', 'argmin(label_ids)', 'max(label_ids == 3)',
  'predictions[:, 0, :3]', 'predictions[2:6, 1]', 'predictions[::-2, 3, ::3]', 'predictions[5]', 'predictions[-1, -1, -1]',
  'predictions[label_ids[:, 0] > 0]', 'predictions[predictions > 50]', 'predictions[unique(label_ids)[-3:] % 9]', 'sum(predictions[1:4], 2)',
];

test('Debug Console operations on a file-backed array equal the in-memory array, bit for bit, across block edges, without loading it', () => {
  const dir = tempDir();
  try {
    for (const dtype of ['float32', 'float16', 'float64', 'int64'] as DType[]) {
      const memPreds = Tensor.from(dtype, [9, 5, 11], values(9 * 5 * 11, 1, dtype));
      const memLabels = Tensor.from('int64', [9, 5], values(45, 2, 'int64'));
      const mem: EvalPredictionData = { predictions: memPreds, labelIds: memLabels, inputs: null, losses: null };
      const disk: EvalPredictionData = { predictions: fileBacked(dir, `p-${dtype}`, memPreds), labelIds: fileBacked(dir, `l-${dtype}`, memLabels), inputs: null, losses: null };
      for (const src of EXPRESSIONS) {
        const want = withEnv({ EVALPRED_BLOCK_ELEMENTS: undefined }, () => shown(evaluateExpression(src, { evalPred: mem })));
        const got = withEnv(SMALL, () => shown(evaluateExpression(src, { evalPred: disk })));
        assert.equal(got, want, `${dtype}: ${src}`);
      }
      assert.equal((disk.predictions as Tensor).inMemory, false, `${dtype}: the file-backed predictions were never loaded whole`);
      assert.equal((disk.labelIds as Tensor).inMemory, false);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('known values through the streamed path: NaN propagates, ties take the first, the first NaN wins', () => {
  const dir = tempDir();
  try {
    const m = Tensor.from('float32', [4, 5], [1, 9, 3, 9, 2, 5, 5, 5, 5, 5, -1, NaN, 7, NaN, 8, 0, 0, 0, 0, -3]);
    const ep: EvalPredictionData = { predictions: fileBacked(dir, 'k', m), labelIds: null, inputs: null, losses: null };
    withEnv(SMALL, () => {
      const ev = (s: string) => evaluateExpression(s, { evalPred: ep });
      assert.deepEqual((ev('argmax(predictions, -1)') as Tensor).toArray(), [1, 0, 1, 0]);
      assert.deepEqual((ev('argmin(predictions, 1)') as Tensor).toArray(), [0, 0, 1, 4]);
      assert.deepEqual((ev('argmax(predictions, 0)') as Tensor).toArray(), [1, 2, 2, 2, 2]);
      assert.ok(Number.isNaN((ev('max(predictions, 1)') as Tensor).at(2)));
      assert.deepEqual(((ev('sum(predictions, 0)') as Tensor).toArray() as number[]).map(String), ['5', 'NaN', '15', 'NaN', '12']);
      assert.equal(ev('sum(predictions[0])'), 24);
      assert.equal(ev('argmax(predictions)'), 11); // the 9 at 1 comes first, but the NaN at 11 wins
      assert.equal(ev('count(predictions == 5)'), 5);
      assert.ok(Number.isNaN(ev('min(predictions)') as number));
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('statistics and histogram of a file-backed array equal the in-memory ones, with and without the known range', () => {
  const dir = tempDir();
  try {
    for (const dtype of ['float32', 'float16', 'float64', 'int64', 'bool'] as DType[]) {
      const n = 3 * 7 * 13;
      const mem = Tensor.from(dtype, [3, 7, 13], dtype === 'bool' ? values(n, 3, 'int64').map((v) => (v > 0 ? 1 : 0)) : values(n, 3, dtype));
      const disk = fileBacked(dir, `s-${dtype}`, mem);
      const want = { stats: tensorStats(mem), hist: histogram(mem, 20), ranged: histogram(mem, 7, [-30, 30]) };
      withEnv(SMALL, () => {
        const stats = tensorStats(disk);
        assert.deepEqual(stats, want.stats, dtype);
        assert.deepEqual(histogram(disk, 20), want.hist, dtype);
        assert.deepEqual(histogram(disk, 7, [-30, 30]), want.ranged, dtype);
        // The view passes the min/max tensorStats found: the same histogram without the extra pass.
        assert.deepEqual(runToEnd(histogramOf(disk, 20, undefined, stats)), want.hist, dtype);
        // The prediction view's cards: the same statistics and histogram, computed in slices.
        const cards = runToEnd(tensorCardsOf({ predictions: disk, labelIds: null, inputs: null, losses: null }));
        assert.deepEqual(cards, tensorCards({ predictions: mem, labelIds: null, inputs: null, losses: null }), dtype);
        // statsOf yields within the pass, at least once per block, so a caller can run it in slices; a file-backed
        // array's statistics are then kept (the file does not change), so the lints and the Variables view reuse them.
        const fresh = fileBacked(dir, `s2-${dtype}`, mem);
        let yields = 0;
        const g = statsOf(fresh);
        let r = g.next();
        for (; !r.done; r = g.next()) yields++;
        assert.ok(yields >= Math.ceil(n / 7), `${dtype}: ${yields} yields over ${Math.ceil(n / 7)} blocks`);
        assert.deepEqual(r.value, want.stats);
        const again = statsOf(fresh).next();
        assert.ok(again.done, 'the second time: no pass over the file');
        assert.deepEqual(again.value, want.stats);
      });
      assert.equal(disk.inMemory, false);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a sliced evaluation over a file-backed array gives the event loop turns and stops when cancelled', async () => {
  const dir = tempDir();
  const saved = { ...process.env };
  try {
    const n = 400_000;
    const mem = Tensor.from('float32', [400, 1000], values(n, 5, 'float32'));
    const want = evaluateExpression('mean(predictions, 0)', { evalPred: { predictions: mem, labelIds: null, inputs: null, losses: null } }) as Tensor;
    process.env.EVALPRED_WHOLE_ARRAY_BYTES = '8';
    process.env.EVALPRED_BLOCK_ELEMENTS = '50000';
    const file = path.join(dir, 'p.npy');
    writeNpyFile(file, mem);
    const ep: EvalPredictionData = { predictions: openNpyFile(file), labelIds: null, inputs: null, losses: null };
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      // Slices of 0 ms: the event loop gets a turn at every yield, so the count below does not depend on speed.
      const got = (await runSliced(evaluationOf('mean(predictions, 0)', { evalPred: ep }), undefined, 0)) as Tensor;
      assert.deepEqual(got.data, want.data);
    } finally {
      clearInterval(ticker);
    }
    assert.ok(turns > 0, 'timers ran while the file-backed array was reduced');
    const ctl = new AbortController();
    const p = runSliced(evaluationOf('argmax(predictions, 0)', { evalPred: ep }), ctl.signal, 0);
    setImmediate(() => ctl.abort('the run went on'));
    await assert.rejects(p, /evaluation cancelled: the run went on/);
  } finally {
    process.env.EVALPRED_WHOLE_ARRAY_BYTES = saved.EVALPRED_WHOLE_ARRAY_BYTES;
    process.env.EVALPRED_BLOCK_ELEMENTS = saved.EVALPRED_BLOCK_ELEMENTS;
    if (saved.EVALPRED_WHOLE_ARRAY_BYTES === undefined) delete process.env.EVALPRED_WHOLE_ARRAY_BYTES;
    if (saved.EVALPRED_BLOCK_ELEMENTS === undefined) delete process.env.EVALPRED_BLOCK_ELEMENTS;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the Variables view statistics of a file-backed array are computed in slices and equal the in-memory ones', async () => {
  const dir = tempDir();
  try {
    const mem = Tensor.from('float32', [9, 5, 11], values(9 * 5 * 11, 4, 'float32'));
    const disk = fileBacked(dir, 'v', mem);
    const want = tensorStats(mem);
    const store = new VariableStore({ evalPred: { predictions: disk, labelIds: null, inputs: null, losses: null }, tokenIdField: () => false });
    await withEnvAsync(SMALL, async () => {
      const preds = (await store.variables(store.evalPredScope())).find((v) => v.name === 'predictions')!;
      const stats = (await store.variables(preds.variablesReference, 'named')).find((v) => v.name === 'statistics')!;
      const [s] = await store.variables(stats.variablesReference);
      assert.equal(s.value, statisticsText(want));
      const fields = await store.variables(s.variablesReference);
      assert.equal(fields.find((f) => f.name === 'nanCount')?.value, String(want.nanCount));
      assert.equal(fields.find((f) => f.name === 'minus100Count')?.value, String(want.minus100Count));
    });
    assert.equal(disk.inMemory, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function withEnvAsync<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('the prediction view answers getSummary for file-backed arrays in slices, with the in-memory cards', async () => {
  const dir = tempDir();
  try {
    const memPreds = Tensor.from('float32', [40, 3], values(120, 6, 'float32'));
    const labels = Tensor.from('int64', [40], Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? -100 : i % 3)));
    const inMemory = new PredictionViewModel({ title: 't', task: 'sequence-classification', evalPred: { predictions: memPreds, labelIds: labels, inputs: null, losses: null } }, () => {});
    const want = inMemory.overview().cards;
    const out: ToWebview[] = [];
    const disk = fileBacked(dir, 'view', memPreds);
    let diskModel: PredictionViewModel | undefined;
    await withEnvAsync(SMALL, async () => {
      const m = (diskModel = new PredictionViewModel({ title: 't', task: 'sequence-classification', evalPred: { predictions: disk, labelIds: labels, inputs: null, losses: null } }, (x) => out.push(x)));
      m.receive({ type: 'request', requestId: 2, method: 'getSummary', params: {} });
      assert.equal(out.length, 0, `a file-backed array: the summary is computed in slices, not before receive() returns: ${JSON.stringify(out)}`);
      while (!out.length) await new Promise((r) => setImmediate(r));
    });
    const reply = out[0];
    assert.ok(reply.type === 'reply' && reply.requestId === 2 && 'result' in reply, JSON.stringify(reply));
    assert.deepEqual((reply.result as SummaryResult).cards, want);
    // The per-sample rows (prediction, confidence, loss) read the file-backed logits a window at a time: the same rows.
    const rows = (model: PredictionViewModel, sink: ToWebview[]) => {
      model.receive({ type: 'request', requestId: 3, method: 'getRows', params: { query: { filter: {}, sort: { key: 'loss', descending: true } }, start: 0, count: 40 } });
      const r = sink.pop();
      assert.ok(r && r.type === 'reply' && 'result' in r);
      return r.result;
    };
    const memOut: ToWebview[] = [];
    const memModel = new PredictionViewModel({ title: 't', task: 'sequence-classification', evalPred: { predictions: memPreds, labelIds: labels, inputs: null, losses: null } }, (x) => memOut.push(x));
    assert.deepEqual(rows(diskModel!, out), rows(memModel, memOut));
    assert.equal(disk.inMemory, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The result's dtype, shape and raw bytes: equal strings are equal bits. */
function bits(t: Tensor): string {
  const d = t.data;
  return `${t.dtype}[${t.shape.join(',')}] ${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex')}`;
}

test('Tensor.argmax over axis 0 of a file-backed tensor streams and equals the in-memory argmax bit for bit: ties, NaN, -0/+0, int64 past 2^53, float16', () => {
  const dir = tempDir();
  try {
    const big = 2n ** 60n; // big and big + 1n are the same JS number: only a bigint comparison orders them
    const cases: Array<[string, DType, number[], Array<number | bigint>]> = [
      // [rows, columns]: column 0 ties (first wins), 1 a NaN after a larger value (the NaN wins), 2 two NaNs
      // (the first wins), 3 -0 then +0 (equal: the first), 4 a NaN in row 0 (it stays), 5 a later larger value.
      ['f32', 'float32', [4, 6], [5, 1, 1, -0, NaN, 1, 5, 9, NaN, 0, 9, 2, 3, NaN, 4, 0, 9, 3, 5, 9, NaN, 0, 9, 4]],
      ['f16', 'float16', [4, 6], [5, 1, 1, -0, NaN, 1, 5, 9, NaN, 0, 9, 2, 3, NaN, 4, 0, 9, 3, 5, 9, NaN, 0, 9, 65504]],
      ['f64', 'float64', [4, 6], [5, 1, 1, -0, NaN, -Infinity, 5, 9, NaN, 0, 9, 2, 3, NaN, 4, 0, Infinity, Infinity, 5, 9, NaN, 0, 9, 4]],
      ['i64', 'int64', [3, 3], [big, -big, 7n, big + 1n, -big - 1n, 7n, big + 1n, -big, -3n]],
      ['u8', 'uint8', [3, 2], [4, 0, 4, 255, 3, 255]],
      ['bool', 'bool', [3, 3], [0, 1, 0, 1, 1, 0, 1, 0, 0]],
      ['i8', 'int8', [2, 2], [-128, 5, -127, 5]],
      ['1d', 'float32', [7], [3, 8, -1, 8, NaN, 9, NaN]],
      ['3d', 'float32', [5, 2, 3], values(30, 7, 'float32')],
      ['3d-f16', 'float16', [5, 2, 3], values(30, 8, 'float16')],
      ['3d-i16', 'int16', [6, 5, 4], values(120, 9, 'int16')],
    ];
    for (const [name, dtype, shape, vals] of cases) {
      const mem = Tensor.from(dtype, shape, vals);
      const disk = fileBacked(dir, `am-${name}`, mem);
      const want = bits(mem.argmax(0));
      // Whole-array loads refused (8 bytes), 7-element blocks: every block edge falls inside a row or between rows.
      for (const block of ['1', '2', '7', '1000']) {
        const got = withEnv({ ...SMALL, EVALPRED_BLOCK_ELEMENTS: block }, () => bits(disk.argmax(0)));
        assert.equal(got, want, `${name}, blocks of ${block}`);
      }
      if (shape.length === 1) assert.equal(withEnv(SMALL, () => bits(disk.argmax(-1))), want, `${name}: axis -1 of a 1-d tensor is axis 0`);
      assert.equal(disk.inMemory, false, `${name}: never loaded whole`);
    }
    // The rules themselves, not only agreement with the in-memory loop (NumPy's answers for these arrays).
    const at = (name: string, dtype: DType, shape: number[], vals: Array<number | bigint>) =>
      withEnv(SMALL, () => fileBacked(dir, `known-${name}`, Tensor.from(dtype, shape, vals)).argmax(0).toArray());
    assert.deepEqual(at('f32', 'float32', [4, 6], cases[0][3]), [0, 2, 1, 0, 0, 3]);
    assert.deepEqual(at('f16', 'float16', [4, 6], cases[1][3]), [0, 2, 1, 0, 0, 3]);
    assert.deepEqual(at('i64', 'int64', [3, 3], cases[3][3]), [1, 0, 0]);
    assert.deepEqual(at('1d', 'float32', [7], cases[7][3]), 4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the lints over file-backed arrays run in slices and find what they find in memory: statistics and one-class passes block by block', async () => {
  const dir = tempDir();
  try {
    const source = 'def compute_metrics(p):\n    t = tok.batch_decode(p.label_ids)\n    return {"auc": roc_auc_score(p.label_ids, p.predictions)}\n';
    // 2-d logits whose argmax is class 2 in every row but one late row (one-class must read that far), or in
    // every row (one-class fires); float predictions with NaN and -100 (non-finite, padded); int64 labels with -100.
    const oneClassRows = (n: number, odd: number | undefined) =>
      Array.from({ length: n * 3 }, (_, i) => (i % 3 === 2 ? 5 : i === odd ? 9 : (i % 7) - 3));
    const cases: Array<[string, () => EvalPredictionData]> = [
      ['one class', () => ({ predictions: Tensor.from('float32', [40, 3], oneClassRows(40, undefined)), labelIds: Tensor.from('int64', [40], values(40, 2, 'int64')), inputs: null, losses: null })],
      ['late other class', () => ({ predictions: Tensor.from('float32', [40, 3], oneClassRows(40, 37 * 3)), labelIds: Tensor.from('int64', [40], values(40, 2, 'int64')), inputs: null, losses: null })],
      ['non-finite, padded, -100 labels', () => ({ predictions: Tensor.from('float16', [40, 5, 11], values(40 * 55, 1, 'float16')), labelIds: Tensor.from('int64', [40, 5], values(200, 2, 'int64')), inputs: Tensor.from('int32', [40, 4], values(160, 3, 'int32')), losses: null })],
    ];
    const expected = [['decode-minus-100', 'logits-not-probabilities', 'one-class'], ['decode-minus-100', 'logits-not-probabilities'], ['decode-minus-100', 'non-finite', 'padded-float-predictions', 'logits-not-probabilities']];
    for (const [c, [name, make]] of cases.entries()) {
      const mem = make();
      const want = lintEvalPrediction({ evalPred: mem, source, numSamples: 40 });
      assert.deepEqual(want.map((l) => l.id).sort(), expected[c].sort(), `${name}: the lints this case is made to trip`);
      const file = (t: TensorNode | null, f: string) => (t instanceof Tensor ? fileBacked(dir, `lint-${name}-${f}`, t) : null);
      const disk = (): EvalPredictionData => ({ predictions: file(mem.predictions, 'p'), labelIds: file(mem.labelIds, 'l'), inputs: file(mem.inputs, 'i'), losses: null });
      const fileInput = disk();
      await withEnvAsync(SMALL, async () => {
        assert.deepEqual(await lintEvalPredictionSliced({ evalPred: fileInput, source, numSamples: 40 }), want, name);
        // The pass yields as it goes, at least once per block of the arrays it reads (fresh tensors: no kept statistics).
        const fresh = disk();
        const g = lintPass({ evalPred: fresh, source, numSamples: 40 });
        let yields = 0;
        let r = g.next();
        for (; !r.done; r = g.next()) yields++;
        assert.deepEqual(r.value, want, name);
        const preds = fresh.predictions as Tensor;
        assert.ok(yields >= Math.ceil(preds.size / 7), `${name}: ${yields} yields for ${Math.ceil(preds.size / 7)} blocks of predictions`);
        // Run in slices, the event loop gets turns between them (0 ms slices: a turn at every yield). Counted by an
        // immediate that schedules itself, not a timer: a timer waits at least 1 ms, longer than these small passes.
        let turns = 0;
        let ticking = true;
        const tick = () => {
          if (!ticking) return;
          turns++;
          setImmediate(tick);
        };
        setImmediate(tick);
        try {
          assert.deepEqual(await runSliced(lintPass({ evalPred: disk(), source, numSamples: 40 }), undefined, 0), want, name);
        } finally {
          ticking = false;
        }
        assert.ok(turns > 0, `${name}: timers ran during the lints`);
      });
      for (const t of [fileInput.predictions, fileInput.labelIds, fileInput.inputs]) if (t instanceof Tensor) assert.equal(t.inMemory, false, `${name}: never loaded whole`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
