// The multi-GB check of issue 12 item 3 (`npm run test:scale`, not part of `npm test`; docs/testing.md):
// a 32,000-token causal LM evaluated with full logits over 4 GiB (past both the 2 GiB and the 4 GiB marks)
// through the built CLI. The run must finish with its memory bounded by a batch, not by the logits; the
// streamed file must hold, batch by batch, exactly what an in-memory run of that batch gives, with -100
// past each batch's width; NumPy (memory-mapped) and the TS file-backed reader must agree on the rows past
// 4 GiB; a Python metric (memory-mapped) and a TS metric (tensor.chunks()) must both run on it and agree; the
// Debug Console's reductions, the Variables view's statistics and the prediction view's cards must stream over
// it (test/scale/consoleProbe.ts) in bounded memory and slices, and agree with NumPy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLoop } from '../../src/core/loop/driver';
import { withDefaults } from '../../src/core/loop/settings';
import { openNpyFile } from '../../src/core/tensor/npy';
import { formatNumber } from '../../src/core/expr';
import { Tensor } from '../../src/core/tensor/tensor';
import { mulberry32 } from '../../src/demo/prng';
import { GEN_WORDS, writeCausalLmModel } from '../fixtures/generative';
import { tempDir } from '../helpers/tempDir';
import { PY_TOKEN_ACCURACY, TS_TOKEN_ACCURACY } from '../fixtures/tokenAccuracyMetrics';
import { runMeasured } from '../helpers/peakRss';
import { pythonWith } from '../helpers/python';

const VOCAB = 32_000;
const BATCH = 8;
const ROWS = Number(process.env.SCALE_ROWS ?? 576); // 576 x 60 x 32000 x 4 bytes = 4.12 GiB
const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** 50 to 58 words (52 to 60 tokens with [CLS]/[SEP]), one length per batch: batches have different widths, so -100 padding shows. */
function sentences(n: number): string[] {
  const rng = mulberry32(11);
  return Array.from({ length: n }, (_, i) => Array.from({ length: 50 + ((Math.floor(i / BATCH) * 5) % 9) }, () => GEN_WORDS[Math.floor(rng() * GEN_WORDS.length)]).join(' '));
}

test(`evalpred run with ${ROWS} rows of 32k-vocab full logits (> 4 GiB): bounded memory, exact streamed arrays, both metric runners`, { timeout: 3_600_000 }, async () => {
  const dir = tempDir();
  try {
    const model = path.join(dir, 'model');
    writeCausalLmModel(model, false, { vocabSize: VOCAB, hidden: 16, maxPositions: 128, seed: 3 });
    const texts = sentences(ROWS);
    const data = path.join(dir, 'lm.jsonl');
    fs.writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const cache = path.join(dir, 'cache');
    const run = await runMeasured(CLI, ['run', '--model', model, '--dataset', data, '--batch-size', String(BATCH), '--out', cache], dir, 3_600_000);
    assert.equal(run.code, 0, run.stderr);
    const file = path.join(cache, 'predictions.npy');
    const preds = openNpyFile(file);
    assert.equal(preds.shape[0], ROWS);
    assert.equal(preds.shape[2], VOCAB);
    assert.ok(preds.nbytes > 4 * 1024 ** 3, `predictions are ${preds.nbytes} bytes, meant to pass 4 GiB`);
    // O(batch), not O(N x seq x vocab): the peak is a small fraction of the logits
    const logitsMb = preds.nbytes / 1024 ** 2;
    assert.ok(run.peakMb < logitsMb / 4, `peak RSS ${run.peakMb.toFixed(0)} MB for ${logitsMb.toFixed(0)} MB of logits`);

    // Batch by batch (first, a middle one, the last), the streamed rows equal an in-memory run of that batch,
    // then -100 to the widest batch's width.
    const W = preds.shape[1];
    let narrower = false;
    for (const b of [0, Math.floor(ROWS / BATCH / 2) + 1, Math.ceil(ROWS / BATCH) - 1]) {
      const sub = path.join(dir, `batch${b}.jsonl`);
      fs.writeFileSync(sub, texts.slice(b * BATCH, (b + 1) * BATCH).map((text) => JSON.stringify({ text })).join('\n') + '\n');
      const one = (await runLoop(withDefaults({ model, dataset: sub, batchSize: BATCH }))).evalPred.predictions as Tensor;
      const got = preds.rows(b * BATCH, (b + 1) * BATCH);
      const w = one.shape[1];
      assert.ok(w <= W);
      narrower ||= w < W;
      for (let r = 0; r < one.shape[0]; r++) {
        const a = got.row(r).data as Float32Array;
        const e = one.row(r).data as Float32Array;
        assert.ok(Buffer.from(a.buffer, a.byteOffset, w * VOCAB * 4).equals(Buffer.from(e.buffer, e.byteOffset, e.byteLength)), `batch ${b} row ${r}`);
        for (let k = w * VOCAB; k < a.length; k++) if (a[k] !== -100) assert.fail(`batch ${b} row ${r}: element ${k} is ${a[k]}, not the -100 padding`);
      }
    }

    assert.ok(narrower, 'one of the batches checked is narrower than the widest, so its -100 padding was checked');

    // NumPy memory-maps the same file and agrees on the last rows (byte offsets past 4 GiB).
    const tail = preds.rows(ROWS - 2, ROWS);
    let sum = 0;
    for (let i = 0; i < tail.size; i++) sum += tail.at(i);
    const py = execFileSync(pythonWith(['numpy']), ['-c', `import numpy as np, sys\na = np.load(sys.argv[1], mmap_mode='r')\nprint(repr(float(a[-2:].astype(np.float64).sum())))`, file], { encoding: 'utf8' });
    assert.ok(Math.abs(Number(py) - sum) <= 1e-6 * Math.abs(sum), `NumPy ${py.trim()} vs TS ${sum}`);

    // Both metric runners on the whole cache: the Python one memory-mapped, the TS one chunk by chunk.
    fs.writeFileSync(path.join(dir, 'metric.py'), PY_TOKEN_ACCURACY);
    fs.writeFileSync(path.join(dir, 'metric.ts'), TS_TOKEN_ACCURACY);
    const out: Record<string, string> = {};
    for (const m of ['metric.py', 'metric.ts']) {
      out[m] = execFileSync(process.execPath, [CLI, 'metrics', '--cache', cache, '--metrics', m], { cwd: dir, encoding: 'utf8', env: { ...process.env, EVALPRED_PYTHON: pythonWith(['numpy']) }, maxBuffer: 1 << 24 });
    }
    const value = (s: string, k: string) => Number(new RegExp(`${k}\\W+([0-9.e+-]+)`).exec(s)?.[1]);
    for (const k of ['token_accuracy', 'counted']) {
      assert.ok(Number.isFinite(value(out['metric.py'], k)), `${k} in ${out['metric.py']}`);
      assert.equal(value(out['metric.ts'], k), value(out['metric.py'], k), `${k}: ${out['metric.ts']} vs ${out['metric.py']}`);
    }

    // The Debug Console, the Variables view and the prediction view on the same array (docs/cache-format.md#arrays-larger-than-memory):
    // in a process of their own, streamed block by block in slices: memory bounded by a block, the event loop
    // never held for long, and the results equal NumPy's over the memory-mapped file.
    const probeOut = path.join(dir, 'probe');
    fs.mkdirSync(probeOut);
    const load = os.loadavg()[0];
    const probe = execFileSync(process.execPath, [path.join(__dirname, 'consoleProbe.js'), cache, probeOut], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const lines = probe.trim().split('\n').map((l) => JSON.parse(l) as { name: string; ms: number; stallMs: number; value: unknown; maxRssMb: number; predictionsInMemory: boolean });
    const by = Object.fromEntries(lines.map((l) => [l.name, l]));
    console.log(`console and view over ${logitsMb.toFixed(0)} MB of logits (load average ${load.toFixed(1)} at the start):`);
    for (const l of lines) console.log(`  ${l.name}: ${l.name === 'process' ? `peak RSS ${l.maxRssMb} MB` : `${l.ms} ms, longest event-loop delay ${l.stallMs} ms`}${typeof l.value === 'string' || typeof l.value === 'number' ? `, ${l.value}` : ''}`);
    assert.equal(by.process.predictionsInMemory, false, 'the predictions were never loaded whole');
    assert.ok(by.process.maxRssMb < logitsMb / 8, `the console's peak RSS ${by.process.maxRssMb} MB for ${logitsMb.toFixed(0)} MB of logits`);
    for (const name of ['sum(predictions)', 'argmax(predictions, -1)', 'max(predictions, 0)', 'variables statistics', 'view cards']) {
      const l = by[name];
      assert.ok(l.stallMs < Math.max(250, l.ms / 10), `${name}: the event loop waited up to ${l.stallMs} ms in ${l.ms} ms: not run in slices`);
    }
    const np = JSON.parse(
      execFileSync(
        pythonWith(['numpy']),
        [
          '-c',
          `import numpy as np, sys, json, os
a = np.load(sys.argv[1], mmap_mode='r'); out = sys.argv[2]
am = np.load(os.path.join(out, 'argmax_last.npy')); mx = np.load(os.path.join(out, 'max_axis0.npy'))
counts, edges = np.histogram(a, bins=20)
print(json.dumps({'sum': float(a.sum(dtype=np.float64)), 'argmax': bool(np.array_equal(am, np.argmax(a, axis=-1))),
  'max0': bool(np.array_equal(mx, a.max(axis=0))), 'min': float(a.min()), 'max': float(a.max()),
  'counts': [int(c) for c in counts], 'edges': [float(e) for e in edges]}))`,
          file,
          probeOut,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      ),
    );
    const consoleSum = by['sum(predictions)'].value as number;
    assert.ok(Math.abs(consoleSum - np.sum) <= 1e-9 * Math.abs(np.sum) + 1e-3, `sum(predictions): ${consoleSum} vs NumPy ${np.sum} (float64, pairwise vs left to right)`);
    assert.ok(np.argmax, 'argmax(predictions, -1) equals NumPy');
    assert.ok(np.max0, 'max(predictions, 0) equals NumPy');
    const card = (by['view cards'].value as { path: string; min: number; max: number; counts: number[]; edges: number[] }[]).find((c) => c.path === 'predictions')!;
    assert.deepEqual([card.min, card.max], [np.min, np.max]);
    assert.deepEqual(card.counts, np.counts, 'the view\'s histogram counts equal np.histogram');
    assert.deepEqual(card.edges, np.edges);
    assert.match(by['variables statistics'].value as string, new RegExp(`^min ${formatNumber(Number(np.min.toPrecision(6))).replace('.', '\\.')}, max `));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
