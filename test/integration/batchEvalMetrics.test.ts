// batch_eval_metrics (docs/trainer-semantics.md#batch_eval_metrics): compute_metrics(eval_pred, compute_result) once per
// batch with that batch's arrays, compute_result true on the last, and only the last result in the metrics (plus
// eval_loss and the speed fields). Checked against test/helpers/batch_eval_reference.py, a transcription of
// Trainer.evaluation_loop's batch path fed the same per-batch model outputs: every call's arrays (integers
// exactly, floats within 1e-6) and the metrics dictionary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { evaluate } from '../../src/core/evaluate';
import { loopKeySettings, withDefaults } from '../../src/core/loop/settings';
import { metricsForEvaluation, metricsFromCache } from '../../src/core/metrics/forEvaluation';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import { writeNpyFile } from '../../src/core/tensor/npy';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { packageRoot } from '../../src/core/paths';
import { loadTokenizer } from '../../src/core/text';
import { pythonWith } from '../helpers/python';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';

const REF = path.join(__dirname, '..', '..', '..', 'test', 'helpers', 'batch_eval_reference.py');

// A stateful metric as the transformers docs suggest for batch_eval_metrics; it prints what each call received.
const PY_METRIC = `import json
import numpy as np

state = {"correct": 0, "total": 0, "calls": 0}

def compute_metrics(eval_pred, compute_result):
    logits, labels = eval_pred.predictions, eval_pred.label_ids
    inputs = eval_pred.inputs
    rec = {
        "compute_result": compute_result,
        "type": type(eval_pred).__name__,
        "pred_shape": list(logits.shape), "pred_dtype": str(logits.dtype), "pred": np.asarray(logits, dtype=np.float64).tolist(),
        "labels_dtype": str(labels.dtype), "labels": np.asarray(labels).tolist(),
        "inputs": None if inputs is None else [[k, str(v.dtype), np.asarray(v).tolist()] for k, v in inputs.items()],
        "inputs_type": None if inputs is None else type(inputs).__name__,
        "inputs_attribute": None if inputs is None else all(getattr(inputs, k) is inputs[k] for k in inputs.keys()),
        "losses": None if eval_pred.losses is None else [str(eval_pred.losses.dtype), np.asarray(eval_pred.losses, dtype=np.float64).tolist()],
    }
    print("CALL " + json.dumps(rec))
    state["correct"] += int((np.asarray(logits).argmax(-1) == np.asarray(labels)).sum())
    state["total"] += int(labels.shape[0])
    state["calls"] += 1
    if not compute_result:
        return None
    out = {"accuracy": state["correct"] / state["total"], "calls": state["calls"], "last_logit": np.float32(np.asarray(logits)[-1, -1])}
    state.update(correct=0, total=0, calls=0)
    return out
`;

interface Call {
  compute_result: boolean;
  type: string;
  pred_shape: number[];
  pred_dtype: string;
  pred: number[][];
  labels_dtype: string;
  labels: number[];
  /** The batch mapping: [key, dtype, values] in its order. */
  inputs: [string, string, number[][] | number[]][] | null;
  inputs_type: string | null;
  inputs_attribute: boolean | null;
  losses: [string, number[]] | null;
}

const calls = (stdout: string): Call[] => stdout.split('\n').filter((l) => l.startsWith('CALL ')).map((l) => JSON.parse(l.slice(5)));
const listOf = (n: TensorNode | null): Tensor[] => (n && !(n instanceof Tensor) && 'list' in n ? (n.list as Tensor[]) : assert.fail('expected per-batch lists'));

function closeTo(got: unknown, want: unknown, where: string): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got) && got.length === want.length, `${where}: length`);
    want.forEach((w, i) => closeTo((got as unknown[])[i], w, `${where}[${i}]`));
  } else if (typeof want === 'number' && !Number.isInteger(want)) {
    assert.ok(typeof got === 'number' && Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${where}: ${got} vs ${want}`);
  } else assert.deepEqual(got, want, where);
}

test('batch_eval_metrics: one call per batch with that batch only, compute_result on the last, the last result as metrics (against the Trainer transcription)', async () => {
  const dir = tempDir();
  // No torch here (EVALPRED_NO_TORCH): the calls get NumPy arrays, and the run says so.
  const runners = new MetricRunners({ python: pythonWith(['numpy']), env: { EVALPRED_NO_TRANSFORMERS: '1', EVALPRED_NO_TORCH: '1' } });
  try {
    // a model taking token_type_ids: the batch mapping is input_ids, token_type_ids, attention_mask, labels
    const ws = seqClsWorkspace(dir, { n: 10, numLabels: 3, tokenTypeIds: true });
    const metric = path.join(dir, 'metric.py');
    fs.writeFileSync(metric, PY_METRIC);
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs', 'loss'], batchEvalMetrics: true, metrics: metric });
    const ev = await evaluate(settings, { cwd: dir });
    // The cache keeps each batch (4, 4, 2 rows), with no -100 between them.
    const preds = listOf(ev.evalPred.predictions);
    assert.deepEqual(preds.map((t) => t.shape), [[4, 3], [4, 3], [2, 3]]);
    assert.equal((ev.manifest.producer as { settings: { batchEvalMetrics?: boolean } }).settings.batchEvalMetrics, true);
    const out = await metricsForEvaluation(runners, ev, settings);
    const got = calls(out.stdout);

    // The reference, fed the same per-batch logits and labels, and each batch's rows as the tokenizer returns them
    // (unpadded, with their label), which it collates as DataCollatorWithPadding does.
    const feed = path.join(dir, 'feed');
    fs.mkdirSync(feed);
    const labels = listOf(ev.evalPred.labelIds);
    const tok = await loadTokenizer(ws.modelDir);
    fs.writeFileSync(path.join(feed, 'collator.json'), JSON.stringify({ pad_token_id: tok.padTokenId, padding_side: tok.padSide }));
    preds.forEach((t, b) => {
      writeNpyFile(path.join(feed, `batch${b}_logits.npy`), t);
      writeNpyFile(path.join(feed, `batch${b}_labels.npy`), labels[b]);
      const rows = ws.texts.slice(b * 4, b * 4 + 4).map((text, i) => {
        const e = tok.encode(text, undefined, { maxLength: ev.loop.info.maxLength });
        return { input_ids: e.ids, token_type_ids: e.typeIds, attention_mask: e.attentionMask, label: (b * 4 + i) % 3 };
      });
      fs.writeFileSync(path.join(feed, `batch${b}_features.json`), JSON.stringify(rows));
    });
    const ref = execFileSync(pythonWith(['numpy']), [REF, feed, '4', '10', 'inputs,loss', metric], { encoding: 'utf8' });
    const want = calls(ref);
    assert.equal(want.length, 3);
    assert.deepEqual(want.map((c) => c.compute_result), [false, false, true]);
    assert.equal(got.length, want.length, out.stdout);
    want.forEach((w, i) => {
      const g = got[i];
      assert.equal(g.compute_result, w.compute_result, `call ${i}: compute_result`);
      assert.equal(g.type, w.type);
      assert.deepEqual([g.pred_shape, g.pred_dtype, g.labels_dtype], [w.pred_shape, w.pred_dtype, w.labels_dtype], `call ${i}: shapes and dtypes`);
      assert.deepEqual(g.labels, w.labels, `call ${i}: labels`);
      assert.deepEqual(g.inputs, w.inputs, `call ${i}: inputs (the whole batch mapping, its keys in the collator's order, no -100 from other batches)`);
      assert.deepEqual(g.inputs?.map(([k]) => k), ['input_ids', 'token_type_ids', 'attention_mask', 'labels'], `call ${i}: the batch's keys`);
      // BatchEncoding's attribute access (inputs.attention_mask) works on the stand-in too
      assert.deepEqual([g.inputs_type, g.inputs_attribute], ['BatchEncoding', true], `call ${i}: the mapping's class`);
      closeTo(g.pred, w.pred, `call ${i}: predictions`);
      assert.equal(g.losses?.[0], w.losses?.[0], `call ${i}: losses dtype`);
      closeTo(g.losses?.[1], w.losses?.[1], `call ${i}: losses (gather_for_metrics keeps ${w.losses?.[1].length} copies)`);
    });
    assert.deepEqual(got.map((c) => c.losses?.[1].length), [4, 4, 2]);
    // metrics: the last call's result, denumpified, eval_loss, prefixed; plus the speed fields
    const wantMetrics = JSON.parse(ref.split('\n').find((l) => l.startsWith('METRICS '))!.slice(8)) as Record<string, number>;
    const { eval_runtime: rt, eval_samples_per_second: sps, eval_steps_per_second: stps, ...rest } = out.metrics as Record<string, number>;
    assert.deepEqual(Object.keys(rest), Object.keys(wantMetrics));
    assert.equal(rest.eval_accuracy, wantMetrics.eval_accuracy);
    assert.equal(rest.eval_calls, 3);
    assert.equal(rest.eval_last_logit, wantMetrics.eval_last_logit);
    assert.equal(rest.eval_loss, wantMetrics.eval_loss);
    assert.ok(typeof rt === 'number' && typeof sps === 'number' && typeof stps === 'number');
    assert.equal(out.batch?.calls.length, 3);
    assert.equal(out.warnings.filter((w) => /under batch_eval_metrics compute_metrics is given NumPy arrays, not torch tensors/.test(w)).length, 1, out.warnings.join('\n'));

    // A TS metric gets the same mapping as an object: the same keys in the same order, that batch's tensors.
    const shapes = (v: unknown): string => (Array.isArray(v) ? `${v.length}${Array.isArray(v[0]) ? `x${v[0].length}` : ''}` : '');
    const expected = got.map((c) => c.inputs!.map(([k, , v]) => `${k}=${shapes(v)}`).join(',')).join(';');
    const tsMetric = path.join(dir, 'keys.ts');
    fs.writeFileSync(
      tsMetric,
      `const seen: string[] = [];
export function computeMetrics(p: any, computeResult: boolean) {
` +
        `  seen.push(Object.entries(p.inputs).map(([k, t]: [string, any]) => k + '=' + t.shape.join('x')).join(','));
` +
        `  if (!computeResult) return undefined;
  const r = { same: seen.join(';') === ${JSON.stringify(expected)} ? 1 : 0, calls: seen.length };
  seen.length = 0;
  return r;
}
`,
    );
    const ts = await metricsFromCache(runners, ev.cacheDir, ev.loop, tsMetric, {});
    assert.deepEqual([ts.metrics.eval_same, ts.metrics.eval_calls], [1, 3], expected);

    // A rerun on the cache replays the three calls (the manifest says batch_eval_metrics); the state was reset by the last.
    const again = await metricsFromCache(runners, ev.cacheDir, ev.loop, metric, { batchSize: 4 });
    assert.deepEqual(calls(again.stdout).map((c) => c.compute_result), [false, false, true]);
    assert.equal(again.metrics.eval_accuracy, rest.eval_accuracy);
    assert.equal(again.metrics.eval_loss, rest.eval_loss);
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('batch_eval_metrics: a TS metric gets (evalPred, computeResult); Trainer\'s signature check; a concatenated cache and the last call returning None', async () => {
  const dir = tempDir();
  const runners = new MetricRunners({ python: pythonWith(['numpy']), env: { EVALPRED_NO_TRANSFORMERS: '1' } });
  try {
    const ws = seqClsWorkspace(dir, { n: 7, numLabels: 2 });
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 3, batchEvalMetrics: true });
    const ev = await evaluate(settings, { cwd: dir });
    const preds = listOf(ev.evalPred.predictions);
    const labels = listOf(ev.evalPred.labelIds);
    const ts = path.join(dir, 'metric.ts');
    fs.writeFileSync(
      ts,
      `let rows = 0, correct = 0;\nconst seen: boolean[] = [];\n` +
        `export function computeMetrics(p: any, computeResult: boolean) {\n` +
        `  seen.push(computeResult);\n  const ids = p.predictions.argmax(-1);\n` +
        `  for (let i = 0; i < ids.shape[0]; i++) { rows++; if (Number(ids.at(i)) === Number(p.labelIds.at(i))) correct++; }\n` +
        `  if (!computeResult) return undefined;\n  const r = { accuracy: correct / rows, rows, calls: seen.length, flags: seen.reduce((a, f, i) => a + (f ? 2 ** i : 0), 0) };\n  rows = correct = 0; seen.length = 0;\n  return r;\n}\n`,
    );
    const out = await metricsFromCache(runners, ev.cacheDir, ev.loop, ts, {});
    let correct = 0;
    preds.forEach((p, b) => {
      const ids = p.argmax(-1);
      for (let i = 0; i < ids.shape[0]; i++) if (Number(ids.at(i)) === Number(labels[b].at(i))) correct++;
    });
    assert.equal(out.metrics.eval_rows, 7);
    assert.equal(out.metrics.eval_accuracy, correct / 7);
    // three calls (3, 3 and 1 rows), computeResult true on the third only
    assert.deepEqual([out.metrics.eval_calls, out.metrics.eval_flags], [3, 4]);

    // Trainer.__init__ refuses a compute_metrics without compute_result under batch_eval_metrics.
    const plain = path.join(dir, 'plain.py');
    fs.writeFileSync(plain, 'def compute_metrics(eval_pred):\n    return {"n": 1}\n');
    await assert.rejects(metricsFromCache(runners, ev.cacheDir, ev.loop, plain, {}), /must take a `compute_result` boolean argument/);

    // The last call returning None: Trainer reports {} plus eval_loss (metrics is None -> {}).
    const none = path.join(dir, 'none.py');
    fs.writeFileSync(none, 'def compute_metrics(eval_pred, compute_result=False):\n    return None\n');
    const n = await metricsFromCache(runners, ev.cacheDir, ev.loop, none, {});
    assert.deepEqual(Object.keys(n.metrics), ['eval_loss', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']);
    assert.ok(n.warnings.some((w) => /returned None for compute_result=True/.test(w)), n.warnings.join('\n'));

    // A cache of concatenated batches cannot be replayed per batch: the error names the cache and the flag.
    const concat = await evaluate({ ...settings, batchEvalMetrics: false }, { cwd: dir });
    await assert.rejects(metricsFromCache(runners, concat.cacheDir, concat.loop, ts, { batchEvalMetrics: true }), (e: Error) => {
      assert.match(e.message, /concatenated across batches/);
      assert.ok(e.message.includes(concat.cacheDir));
      assert.match(e.message, /--batch-eval-metrics/);
      return true;
    });
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('batch_eval_metrics: a dump evalpred.capture wrote during a real batch_eval_metrics run replays one call per captured batch', async () => {
  const dir = tempDir();
  const runners = new MetricRunners({ python: pythonWith(['numpy']), env: { EVALPRED_NO_TRANSFORMERS: '1' } });
  try {
    const dump = path.join(dir, 'dump');
    // test/python/fakeTrainer.py calls compute_metrics per batch of 4 with compute_result on the last, as Trainer does.
    const code = `import json, numpy as np, evalpred
import fakeTrainer as ft
rng = np.random.default_rng(0)
logits = rng.normal(size=(10, 3)).astype(np.float32)
labels = np.arange(10) % 3
ids = rng.integers(5, 50, size=(10, 6))
mask = (rng.random(size=(10, 6)) > 0.3).astype(np.int64)
t = ft.Trainer(evalpred.capture(lambda ep, compute_result: {"n": 1}, ${JSON.stringify(dump)}), batch_eval_metrics=True)
t.evaluation_loop(logits, labels, batch={"input_ids": ids, "attention_mask": mask, "labels": labels})
print(json.dumps({"accuracy": float((logits.argmax(-1) == labels).mean()), "ids": ids.tolist(), "mask": mask.tolist()}))`;
    const env = { ...process.env, PYTHONPATH: [path.join(packageRoot(), 'src/python'), path.join(packageRoot(), 'test/python')].join(path.delimiter), EVALPRED_NO_TRANSFORMERS: '1' };
    const made = JSON.parse(execFileSync(pythonWith(['numpy']), ['-c', code], { encoding: 'utf8', env }).trim()) as { accuracy: number; ids: number[][]; mask: number[][] };
    const accuracy = made.accuracy;
    const metric = path.join(dir, 'metric.py');
    fs.writeFileSync(metric, PY_METRIC);
    const out = await metricsFromCache(runners, dump, undefined, metric, {});
    const got = calls(out.stdout);
    assert.deepEqual(got.map((c) => [c.pred_shape[0], c.compute_result]), [[4, false], [4, false], [2, true]]);
    // the capture kept each call's whole batch mapping (docs/cache-format.md#batch-inputs): the rerun hands it back, keys in order
    got.forEach((c, i) => {
      assert.deepEqual(c.inputs?.map(([k]) => k), ['input_ids', 'attention_mask', 'labels'], `call ${i}: keys`);
      assert.deepEqual(c.inputs?.[0][2], made.ids.slice(i * 4, i * 4 + 4), `call ${i}: input_ids`);
      assert.deepEqual(c.inputs?.[1][2], made.mask.slice(i * 4, i * 4 + 4), `call ${i}: attention_mask`);
      assert.deepEqual(c.inputs?.[2][2], c.labels, `call ${i}: labels`);
    });
    assert.equal(out.metrics.eval_accuracy, accuracy);
    assert.equal(out.metrics.eval_calls, 3);
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('batch_eval_metrics keys the cache only when on: "batchEvalMetrics": false reuses the cache of a run without it', () => {
  const base = withDefaults({ model: 'm', dataset: 'd.jsonl', batchSize: 4 });
  assert.deepEqual(loopKeySettings({ ...base, batchEvalMetrics: false }), loopKeySettings(base));
  assert.equal(loopKeySettings({ ...base, batchEvalMetrics: true }).batchEvalMetrics, true);
  assert.notDeepEqual(loopKeySettings({ ...base, batchEvalMetrics: true }), loopKeySettings(base));
});

test('batch_eval_metrics: with torch importable every call gets torch tensors (every key of the inputs mapping too), as Trainer hands them', async () => {
  const dir = tempDir();
  // A fake torch: from_numpy and the calls the metric makes.
  const fake = path.join(dir, 'faketorch');
  fs.mkdirSync(path.join(fake, 'torch'), { recursive: true });
  fs.writeFileSync(
    path.join(fake, 'torch', '__init__.py'),
    'import numpy as _np\nclass Tensor:\n    def __init__(self, a):\n        self._a = a\n        self.shape = a.shape\n' +
      '    def argmax(self, dim=None):\n        return Tensor(self._a.argmax(axis=dim))\n    def numpy(self):\n        return self._a\n' +
      'def from_numpy(a):\n    assert isinstance(a, _np.ndarray)\n    return Tensor(a)\n',
  );
  const runners = new MetricRunners({ python: pythonWith(['numpy']), env: { EVALPRED_NO_TRANSFORMERS: '1', PYTHONPATH: fake } });
  try {
    const ws = seqClsWorkspace(dir, { n: 6, numLabels: 2 });
    const ev = await evaluate(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs', 'loss'], batchEvalMetrics: true }), { cwd: dir });
    const metric = path.join(dir, 'metric.py');
    fs.writeFileSync(
      metric,
      'import torch\nseen = []\ndef compute_metrics(eval_pred, compute_result):\n' +
        '    fields = [eval_pred.predictions, eval_pred.label_ids, eval_pred.losses, eval_pred.inputs["input_ids"]]\n' +
        '    fields += [eval_pred.inputs[k] for k in eval_pred.inputs]\n' +
        '    seen.append(all(isinstance(f, torch.Tensor) for f in fields) and list(eval_pred.inputs) == ["input_ids", "attention_mask", "labels"])\n' +
        '    rows = eval_pred.predictions.argmax(dim=-1).shape[0]\n' +
        '    if compute_result:\n        out = {"torch_calls": sum(seen), "calls": len(seen), "last_rows": rows}\n        seen.clear()\n        return out\n',
    );
    const out = await metricsFromCache(runners, ev.cacheDir, ev.loop, metric, {});
    assert.deepEqual([out.metrics.eval_torch_calls, out.metrics.eval_calls, out.metrics.eval_last_rows], [2, 2, 2]);
    assert.ok(!out.warnings.some((w) => /NumPy arrays/.test(w)), out.warnings.join('\n'));
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
