// evaluate(): the loop in its worker thread, the cache (keyed, reused, atomic), cancellation, and the
// errors a user meets with bad inputs — each one paragraph naming the file, column or row at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { evaluate } from '../../src/core/evaluate';
import { CancelledError } from '../../src/core/loop/types';
import { withDefaults } from '../../src/core/loop/settings';
import { Tensor } from '../../src/core/tensor/tensor';
import { runPython } from '../helpers/python';
import { VOCAB, seqClsWorkspace, tempDir, writeJsonl } from '../fixtures/workspace';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';

async function withWorkspace(fn: (dir: string) => Promise<void>) {
  const dir = tempDir();
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a run writes a cache NumPy can read, and the same model + dataset + settings reuse it', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir, { n: 12 });
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 5, includeForMetrics: ['inputs'] });
    const first = await evaluate(settings, { cwd: dir });
    assert.equal(first.fromCache, false);
    assert.ok(first.cacheDir.startsWith(path.join(dir, '.evalpred', 'cache')));
    const again = await evaluate(settings, { cwd: dir });
    assert.equal(again.fromCache, true);
    assert.equal(again.cacheDir, first.cacheDir);
    assert.deepEqual((again.evalPred.predictions as Tensor).toArray(), (first.evalPred.predictions as Tensor).toArray());
    assert.equal(again.loop.evalLoss, first.loop.evalLoss);
    // plain NumPy, no evalpred: the manifest names the arrays
    const out = runPython(
      `import json, numpy as np\nm=json.load(open('manifest.json'))\nep=m['eval_prediction']\n` +
        `p=np.load(ep['predictions']['npy']); l=np.load(ep['label_ids']['npy']); x=np.load(ep['inputs']['npy'])\n` +
        `print(m['format'], m['num_samples'], p.dtype, p.shape, l.dtype, x.shape[0], int((x==-100).sum()>0))`,
      ['numpy'],
      first.cacheDir,
    );
    const w = (first.evalPred.inputs as Tensor).shape;
    assert.equal(out.trim(), `evalpred-cache/1 12 float32 (12, 3) int64 ${w[0]} 1`);
  }));

test('two different models, or one model with another setting, never share a cache entry', () =>
  withWorkspace(async (dir) => {
    const a = seqClsWorkspace(path.join(dir, 'a'), { n: 8, seed: 1 });
    const b = seqClsWorkspace(path.join(dir, 'b'), { n: 8, seed: 2 });
    // same dataset for both: only the model differs
    const base = { dataset: a.dataset, batchSize: 4 };
    const ra = await evaluate(withDefaults({ model: a.modelDir, ...base }), { cwd: dir });
    const rb = await evaluate(withDefaults({ model: b.modelDir, ...base }), { cwd: dir });
    assert.equal(rb.fromCache, false);
    assert.notEqual(ra.cacheDir, rb.cacheDir);
    assert.notDeepEqual((ra.evalPred.predictions as Tensor).toArray(), (rb.evalPred.predictions as Tensor).toArray());
    const rc = await evaluate(withDefaults({ model: a.modelDir, ...base, maxLength: 5 }), { cwd: dir });
    assert.equal(rc.fromCache, false);
    assert.notEqual(rc.cacheDir, ra.cacheDir);
    // an explicit --out folder holding another key's cache is replaced, not served
    const out = path.join(dir, 'out');
    await evaluate(withDefaults({ model: a.modelDir, ...base, cache: out }), { cwd: dir });
    const rd = await evaluate(withDefaults({ model: b.modelDir, ...base, cache: out }), { cwd: dir });
    assert.equal(rd.fromCache, false);
    assert.deepEqual((rd.evalPred.predictions as Tensor).toArray(), (rb.evalPred.predictions as Tensor).toArray());
  }));

test('cancelling mid-loop rejects with CancelledError and leaves no cache', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir, { n: 400 });
    const ac = new AbortController();
    const cache = path.join(dir, 'cache');
    let batches = 0;
    const p = evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 1, cache }), {
      signal: ac.signal,
      // progress is reported for the first batch at once, later at most every 100 ms: abort on the first report
      onProgress: () => {
        if (++batches === 1) ac.abort();
      },
    });
    await assert.rejects(p, CancelledError);
    assert.ok(batches < 400);
    assert.equal(fs.existsSync(path.join(cache, 'manifest.json')), false);
  }));

//#region BAD INPUT — each error names what is at fault
test('EXPECTED FAILURE - missing model.onnx names the folder', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir);
    fs.rmSync(path.join(ws.modelDir, 'model.onnx'));
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset }), { cwd: dir }), (e: Error) => {
      assert.equal(e.name, 'EvalpredError');
      assert.match(e.message, /model\.onnx/);
      assert.ok(e.message.includes(ws.modelDir));
      return true;
    });
  }));

test('EXPECTED FAILURE - a corrupt model.onnx is named', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir);
    fs.writeFileSync(path.join(ws.modelDir, 'model.onnx'), Buffer.from('this is not a protobuf'));
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset }), { cwd: dir }), (e: Error) => {
      assert.equal(e.name, 'EvalpredError');
      assert.match(e.message, /model\.onnx/);
      return true;
    });
  }));

test('EXPECTED FAILURE - missing tokenizer.json names the folder', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir);
    fs.rmSync(path.join(ws.modelDir, 'tokenizer.json'));
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset }), { cwd: dir }), /tokenizer\.json/);
  }));

test('EXPECTED FAILURE - a text column that does not exist lists the columns that do', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir);
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset, textColumn: 'review_text' }), { cwd: dir }), (e: Error) => {
      assert.match(e.message, /review_text/);
      assert.match(e.message, /sentence/);
      assert.match(e.message, /label/);
      assert.ok(e.message.includes('data.jsonl'));
      return true;
    });
  }));

test('EXPECTED FAILURE - an empty dataset is named', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir);
    fs.writeFileSync(ws.dataset, '');
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset }), { cwd: dir }), (e: Error) => {
      assert.match(e.message, /empty|no rows|0 rows/i);
      assert.ok(e.message.includes('data.jsonl'));
      return true;
    });
  }));

test('EXPECTED FAILURE - a label name not in label2id names the row and the known labels', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir, { numLabels: 3 });
    const cfgPath = path.join(ws.modelDir, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    const names = Object.keys(cfg.label2id);
    writeJsonl(ws.dataset, [
      { sentence: 'good movie', label: names[0] },
      { sentence: 'bad movie', label: 'meh' },
    ]);
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset }), { cwd: dir }), (e: Error) => {
      assert.match(e.message, /meh/);
      assert.match(e.message, /row 1/);
      assert.ok(e.message.includes(names[0]));
      return true;
    });
  }));

test('EXPECTED FAILURE - a tokenizer whose ids exceed the model vocabulary says they do not fit', () =>
  withWorkspace(async (dir) => {
    const ws = seqClsWorkspace(dir);
    // a bigger vocabulary: ids beyond the model's embedding table
    const big = [...VOCAB, ...Array.from({ length: 50 }, (_, i) => `word${i}`)];
    const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(big, { lowercase: true, modelMaxLength: 64 });
    fs.writeFileSync(path.join(ws.modelDir, 'tokenizer.json'), JSON.stringify(tokenizer));
    fs.writeFileSync(path.join(ws.modelDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    writeJsonl(ws.dataset, [{ sentence: 'word49 good', label: 0 }]);
    await assert.rejects(evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset }), { cwd: dir }), (e: Error) => {
      assert.equal(e.name, 'EvalpredError');
      assert.match(e.message, /vocab/i);
      return true;
    });
  }));
//#endregion

