// The pip-installable `evalpred` package (src/python): built as a wheel with build_wheel.py, installed into a
// fresh venv with no index (NumPy from the system site packages), then driven the way a training script uses it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { pythonWith } from '../helpers/python';
import { NPY_DESCRS } from '../../src/core/tensor/dtype';
import { CAPTURE_DIR, CAPTURE_SNIPPET } from '../../src/extension/captureSnippet';

const root = path.join(__dirname, '../../..');
const fake = path.join(root, 'test/python');
let dir: string;
let venvPython: string;

/** Run Python code in the venv; the fake Trainer module is importable. */
function py(code: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(venvPython, ['-c', code], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, PYTHONPATH: fake, EVALPRED_NO_TRANSFORMERS: '1', ...env },
  });
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-pypkg-'));
  const system = pythonWith(['numpy', 'sklearn']);
  const wheel = execFileSync(system, [path.join(root, 'src/python/build_wheel.py'), '--out', path.join(dir, 'wheels')], { encoding: 'utf8' }).trim();
  execFileSync(system, ['-m', 'venv', '--system-site-packages', path.join(dir, 'venv')]);
  venvPython = path.join(dir, 'venv/bin/python');
  execFileSync(venvPython, ['-m', 'pip', 'install', '--quiet', '--no-index', '--no-deps', wheel], { encoding: 'utf8' });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the wheel installs into a fresh venv and its version is the extension\'s', () => {
  const out = py('import evalpred, os; print(evalpred.__version__); print(os.path.dirname(evalpred.__file__))');
  const [version, where] = out.trim().split('\n');
  assert.equal(version, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  assert.ok(where.startsWith(path.join(dir, 'venv')), `imported from ${where}, not the venv`);
});

test('a training run is captured as a series; the fixed metric recomputed on every step equals scikit-learn', () => {
  const series = path.join(dir, 'run');
  // The "wrong" metric averages F1 over samples (micro) where the user meant macro: the bug found after training.
  const logged = JSON.parse(py(`import json
from evalpred import capture
from sklearn.metrics import f1_score
import fakeTrainer as ft
def wrong(ep):
    return {"f1": f1_score(ep.label_ids, ep.predictions.argmax(-1), average="micro")}
t = ft.Trainer(capture(wrong, ${JSON.stringify(series)}))
print(json.dumps([{k: float(v) for k, v in m.items()} for m in t.train(ft.evaluations())]))`));
  const index = JSON.parse(fs.readFileSync(path.join(series, 'series.json'), 'utf8'));
  assert.equal(index.format, 'evalpred-series/1');
  assert.deepEqual(index.steps.map((s: { dir: string; step: number; epoch: number }) => [s.dir, s.step, s.epoch]), [
    ['step-100', 100, 1],
    ['step-200', 200, 2],
    ['step-300', 300, 3],
  ]);
  assert.deepEqual(index.steps.map((s: { metrics: { f1: number } }) => s.metrics.f1), logged.map((m: { f1: number }) => m.f1));
  assert.equal(index.trainer_args.per_device_eval_batch_size, 4);
  const step = JSON.parse(fs.readFileSync(path.join(series, 'step-200/manifest.json'), 'utf8'));
  assert.equal(step.capture.step, 200);
  assert.equal(step.num_samples, 40);

  fs.writeFileSync(path.join(dir, 'fixed.py'), 'from sklearn.metrics import f1_score\ndef compute_metrics(ep):\n    return {"f1": f1_score(ep.label_ids, ep.predictions.argmax(-1), average="macro")}\n');
  const rows = JSON.parse(execFileSync(venvPython, ['-m', 'evalpred', 'metrics', series, path.join(dir, 'fixed.py'), '--json'], { encoding: 'utf8', cwd: dir }));
  const expected = JSON.parse(py(`import json
from sklearn.metrics import f1_score
import fakeTrainer as ft
print(json.dumps([float(f1_score(y, x.argmax(-1), average="macro")) for _, x, y in ft.evaluations()]))`));
  assert.deepEqual(rows.map((r: { step: number }) => r.step), [100, 200, 300]);
  assert.deepEqual(rows.map((r: { recomputed: { eval_f1: number } }) => r.recomputed.eval_f1), expected);
  assert.deepEqual(rows.map((r: { logged: { eval_f1: number } }) => r.logged.eval_f1), logged.map((m: { f1: number }) => m.f1));
  assert.notDeepEqual(expected, logged.map((m: { f1: number }) => m.f1), 'the fixture must make micro and macro differ');
});

test('a single evaluate() stays one cache, and evalpred.load gives back the same arrays, memory-mapped', () => {
  const dump = path.join(dir, 'single');
  const out = py(`import numpy as np, evalpred
import fakeTrainer as ft
_, logits, labels = ft.evaluations()[0]
t = ft.Trainer(evalpred.capture(lambda ep: {"n": len(ep.label_ids)}, ${JSON.stringify(dump)}))
t.state.global_step = 500
t.evaluation_loop(logits, labels)
ep = evalpred.load(${JSON.stringify(dump)})
print(type(ep.predictions).__name__, isinstance(ep.predictions.base, np.memmap) or isinstance(ep.predictions, np.memmap),
      bool((ep.predictions == logits).all()), bool((ep.label_ids == labels).all()), ep.meta["num_samples"], ep.meta["capture"]["step"])`);
  assert.equal(out.trim(), 'memmap True True True 40 500');
  assert.ok(fs.existsSync(path.join(dump, 'manifest.json')) && !fs.existsSync(path.join(dump, 'series.json')));
});

test('batch_eval_metrics: every batch is kept and written once, one list entry per call (no -100 between batches); inputs keeps the mapping\'s input_ids', () => {
  const dump = path.join(dir, 'batched');
  const out = py(`import numpy as np, evalpred
import fakeTrainer as ft
calls = []
def metric(ep, compute_result):
    calls.append(compute_result)
    return {"last": int(compute_result)}
t = ft.Trainer(evalpred.capture(metric, ${JSON.stringify(dump)}), batch_eval_metrics=True)
# ragged sequence widths per batch: 3, 5, 2 tokens
preds = [np.full((4, w), b, dtype=np.int64) for b, w in enumerate((3, 5, 2))]
labels = np.arange(12)
for b in range(3):
    batch = {"input_ids": preds[b] + 10, "attention_mask": np.ones_like(preds[b])}
    t.compute_metrics(ft.EvalPrediction(preds[b], labels[4 * b:4 * b + 4], inputs=batch), compute_result=b == 2)
ep = evalpred.load(${JSON.stringify(dump)})
p = ep.predictions
print(calls, type(p).__name__, [x.shape for x in p], p[0][0].tolist(), p[2][0].tolist(), np.concatenate(ep.label_ids).tolist() == list(range(12)),
      [x[0].tolist() for x in ep.inputs], ep.meta["capture"]["args"]["captured_batches"], ep.meta["capture"]["args"]["batch_eval_metrics"])`);
  assert.equal(
    out.trim(),
    "[False, False, True] list [(4, 3), (4, 5), (4, 2)] [0, 0, 0] [2, 2] True [[10, 10, 10], [11, 11, 11, 11, 11], [12, 12]] 3 True",
  );
});

test('only global rank 0 writes in a two-process run; every rank still gets its metrics', () => {
  const dump = path.join(dir, 'ranks');
  const code = `import json, evalpred
import fakeTrainer as ft
t = ft.Trainer(evalpred.capture(lambda ep: {"n": int(len(ep.label_ids))}, ${JSON.stringify(dump)}))
print(json.dumps(t.train(ft.evaluations())))`;
  const procs = ['0', '1'].map((rank) =>
    spawnSync(venvPython, ['-c', code], { encoding: 'utf8', cwd: dir, env: { ...process.env, PYTHONPATH: fake, RANK: rank, WORLD_SIZE: '2' } }),
  );
  for (const p of procs) {
    assert.equal(p.status, 0, p.stderr);
    assert.deepEqual(JSON.parse(p.stdout), [{ n: 40 }, { n: 40 }, { n: 40 }]);
  }
  const index = JSON.parse(fs.readFileSync(path.join(dump, 'series.json'), 'utf8'));
  assert.equal(index.steps.length, 3, 'rank 1 must not add steps');
  assert.deepEqual(fs.readdirSync(dump).sort(), ['series.json', 'step-100', 'step-200', 'step-300']);
});

test('capture never deletes a folder it did not write: it warns, the metric still runs, the files stay', () => {
  const mine = path.join(dir, 'notes');
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, 'notes.txt'), 'my notes');
  const out = py(`import warnings, numpy as np, evalpred
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    r = evalpred.capture(lambda ep: {"ok": 1}, ${JSON.stringify(mine)})((np.zeros((2, 2)), np.zeros(2)))
print(r, "|", str(w[0].message))`);
  assert.match(out, /^\{'ok': 1\} \| .*notes is not empty and is not an evalpred cache \(it holds notes\.txt\)/);
  assert.deepEqual(fs.readdirSync(mine), ['notes.txt']);
  assert.equal(fs.readFileSync(path.join(mine, 'notes.txt'), 'utf8'), 'my notes');
});

test('evalpred.load trusts nothing in the manifest: escapes, links and pickles are refused, naming the array', () => {
  const cache = path.join(dir, 'hostile');
  py(`import numpy as np, evalpred
evalpred.write_dump((np.zeros((2, 2), dtype=np.float32), np.zeros(2, dtype=np.int64)), ${JSON.stringify(cache)})`);
  const manifestPath = path.join(cache, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const outside = path.join(dir, 'outside.npy');
  fs.copyFileSync(path.join(cache, 'predictions.npy'), outside);
  const tryLoad = (): string => {
    const r = spawnSync(venvPython, ['-c', `import evalpred\ntry:\n    evalpred.load(${JSON.stringify(cache)})\n    print("loaded")\nexcept evalpred.CacheError as e:\n    print(e)`], { encoding: 'utf8' });
    return r.stdout.trim() + r.stderr;
  };
  for (const escape of ['../outside.npy', outside]) {
    fs.writeFileSync(manifestPath, JSON.stringify({ ...manifest, eval_prediction: { ...manifest.eval_prediction, predictions: { npy: escape } } }));
    assert.match(tryLoad(), /predictions points outside the cache folder/);
  }
  fs.writeFileSync(manifestPath, JSON.stringify(manifest));
  fs.rmSync(path.join(cache, 'predictions.npy'));
  fs.symlinkSync(outside, path.join(cache, 'predictions.npy'));
  assert.match(tryLoad(), /predictions points outside the cache folder/);
  fs.rmSync(path.join(cache, 'predictions.npy'));
  py(`import numpy as np\nnp.save(${JSON.stringify(path.join(cache, 'predictions.npy'))}, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)`);
  assert.match(tryLoad(), /predictions \(predictions\.npy\) has dtype object; .*never Python objects/);
  // A header that claims more than the file holds (a truncated copy) is damage, found before mapping.
  py(`import numpy as np\nnp.save(${JSON.stringify(path.join(cache, 'predictions.npy'))}, np.zeros((100, 4), dtype=np.float32))`);
  fs.truncateSync(path.join(cache, 'predictions.npy'), 1000);
  assert.match(tryLoad(), /is damaged: its header declares float32 \(100, 4\) \(1728 bytes with the header\) but the file has 1000 bytes/);
  assert.equal(tryLoad().includes('Traceback'), false);
});

test('evalpred.load and capture accept exactly the dtypes every other cache reader does; capture widens uint16/32/64', () => {
  const out = JSON.parse(py(`import json, numpy as np, evalpred
from evalpred import cache
evalpred.write_dump((np.ones((2, 2), np.uint16), np.array([1, 2], np.uint64)), "widened")
ep = evalpred.load("widened")
print(json.dumps({"dtypes": sorted(cache.CACHE_DTYPES), "widened": [str(ep.predictions.dtype), str(ep.label_ids.dtype)]}))`));
  const ts = [...new Set([...NPY_DESCRS.keys()].map((d) => d.slice(1)))].sort();
  assert.deepEqual(out.dtypes, ts);
  assert.deepEqual(out.widened, ['int32', 'int64']);
});

test('the palette\'s capture snippet (EvalPred: Copy Trainer Capture Snippet) runs as written against the installed package', () => {
  const work = path.join(dir, 'snippet');
  fs.mkdirSync(work);
  // The two lines verbatim, after what a training script already has: Trainer (here a stand-in taking the
  // same call) and the user's compute_metrics. `...` is valid Python (Ellipsis), so nothing is edited.
  const script = `import numpy as np
class Trainer:
    def __init__(self, *args, compute_metrics=None):
        self.compute_metrics = compute_metrics
def compute_metrics(ep):
    return {"accuracy": float((ep[0].argmax(-1) == ep[1]).mean())}
${CAPTURE_SNIPPET}
logits = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype=np.float32)
labels = np.array([0, 1, 1])
print(trainer.compute_metrics((logits, labels))["accuracy"])
import evalpred
ep = evalpred.load(${JSON.stringify(CAPTURE_DIR)})
print(ep.predictions.tolist() == logits.tolist(), ep.label_ids.tolist())
`;
  const out = execFileSync(venvPython, ['-c', script], { encoding: 'utf8', cwd: work, env: { ...process.env, EVALPRED_NO_TRANSFORMERS: '1' } });
  assert.deepEqual(out.trim().split('\n'), ['0.6666666666666666', 'True [0, 1, 1]']);
  assert.ok(fs.existsSync(path.join(work, CAPTURE_DIR, 'manifest.json')));
});
