import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { importDump } from '../../src/core/cache/import';
import { readCache } from '../../src/core/cache/store';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { pythonWith, runPython } from '../helpers/python';
import { tempDir } from '../helpers/tempDir';

let dir: string;
let runners: MetricRunners;
const runMetricFile = (cache: string, file: string, opts: { python?: string } = {}) => runners.run(cache, file, opts);
const srcPython = path.join(__dirname, '../../../src/python');

before(async () => {
  dir = tempDir();
  const workerFile = path.join(dir, 'metricWorker.js');
  await esbuild.build({ entryPoints: [path.join(__dirname, '../../../src/core/metrics/jsWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerFile, logLevel: 'silent' });
  runners = new MetricRunners({ jsWorkerFile: workerFile, timeoutMs: 10_000 });
});

after(async () => {
  await runners.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function tensorAt(node: TensorNode | null): Tensor {
  assert.ok(node instanceof Tensor, 'expected a tensor');
  return node;
}

test('capture (real module, NumPy only) -> import -> run: tuple predictions, inputs, losses survive', async () => {
  const dump = path.join(dir, 'dump');
  // Drive evalpred.capture the way Trainer would: an EvalPrediction-like object with a tuple of outputs.
  const out = runPython(
    `import sys, json, numpy as np
sys.path.insert(0, ${JSON.stringify(srcPython)})
from evalpred import capture
class EP:
    def __init__(s, predictions, label_ids, inputs=None, losses=None):
        s.predictions, s.label_ids, s.inputs, s.losses = predictions, label_ids, inputs, losses
logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], dtype=np.float32)
hidden = np.arange(12, dtype=np.float16).reshape(3, 2, 2)
labels = np.array([1, 0, 0], dtype=np.int64)
inputs = np.array([[5, 6, -100], [7, 8, 9], [1, -100, -100]], dtype=np.int64)
losses = np.full(3, 0.25, dtype=np.float32)
def compute_metrics(ep):
    return {"accuracy": float((ep.predictions[0].argmax(-1) == ep.label_ids).mean())}
wrapped = capture(compute_metrics, ${JSON.stringify(dump)})
print(json.dumps(wrapped(EP((logits, hidden), labels, inputs, losses))))
wrapped(EP((logits, hidden), labels, inputs, losses))   # a second call replaces the dump atomically
`,
  );
  assert.deepEqual(JSON.parse(out), { accuracy: 2 / 3 }); // argmax 1,0,1 vs 1,0,0
  const manifest = JSON.parse(fs.readFileSync(path.join(dump, 'manifest.json'), 'utf8'));
  assert.equal(manifest.format, 'evalpred-cache/1');
  assert.equal(manifest.num_samples, 3);
  assert.deepEqual(manifest.eval_prediction.predictions, { tuple: [{ npy: 'predictions_0.npy' }, { npy: 'predictions_1.npy' }] });
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('evalpred-capture') || f.includes('.old-')), []);

  const cache = path.join(dir, 'cache-from-capture');
  await importDump(dump, cache);
  const { evalPred } = readCache(cache);
  assert.ok(evalPred.predictions && 'tuple' in evalPred.predictions);
  const hidden = tensorAt(evalPred.predictions.tuple[1]);
  assert.equal(hidden.dtype, 'float16');
  assert.deepEqual(hidden.shape, [3, 2, 2]);
  assert.equal(hidden.get(2, 1, 1), 11);
  assert.deepEqual(tensorAt(evalPred.inputs).toArray(), [[5, 6, -100], [7, 8, 9], [1, -100, -100]]);
  assert.deepEqual(tensorAt(evalPred.losses).toArray(), [0.25, 0.25, 0.25]);

  const ts = path.join(dir, 'acc.ts');
  fs.writeFileSync(ts, `export function computeMetrics(ep: any) {
    const p = ep.predictions[0].argmax(-1); let ok = 0;
    for (let i = 0; i < 3; i++) if (p.get(i) === ep.labelIds.get(i)) ok++;
    return { accuracy: ok / 3, kind: ep.predictions.kind === 'tuple' ? 1 : 0 };
  }`);
  const py = path.join(dir, 'acc.py');
  fs.writeFileSync(py, 'def compute_metrics(ep):\n    p, l, i, lo = ep\n    return {"accuracy": float((p[0].argmax(-1) == l).mean()), "kind": int(isinstance(p, tuple))}\n');
  const a = await runMetricFile(cache, ts);
  const b = await runMetricFile(cache, py, { python: pythonWith(['numpy']) });
  assert.deepEqual(a.metrics, { eval_accuracy: 2 / 3, eval_kind: 1 });
  assert.deepEqual(b.metrics, a.metrics);
});

test('import a .npz (named, tuple members) and a folder of .npy files', async () => {
  const npz = path.join(dir, 'dump.npz');
  const folder = path.join(dir, 'npys');
  fs.mkdirSync(folder);
  runPython(
    `import numpy as np
p0 = np.array([[1., 2.], [3., 0.]], dtype=np.float32); p1 = np.array([7, 8], dtype=np.int32)
np.savez(${JSON.stringify(npz)}, predictions_0=p0, predictions_1=p1, labels=np.array([1, 0]))
np.save(${JSON.stringify(path.join(folder, 'predictions.npy'))}, p0)
np.save(${JSON.stringify(path.join(folder, 'label_ids.npy'))}, np.array([1, 1], dtype=np.int64))`,
  );
  const c1 = path.join(dir, 'c-npz');
  await importDump(npz, c1);
  const e1 = readCache(c1).evalPred;
  assert.ok(e1.predictions && 'tuple' in e1.predictions);
  assert.deepEqual(tensorAt(e1.predictions.tuple[0]).toArray(), [[1, 2], [3, 0]]);
  assert.equal(tensorAt(e1.predictions.tuple[1]).dtype, 'int32');
  assert.deepEqual(tensorAt(e1.labelIds).toArray(), [1, 0]);
  assert.equal(e1.inputs, null);
  const c2 = path.join(dir, 'c-npy');
  await importDump(folder, c2);
  const e2 = readCache(c2).evalPred;
  assert.deepEqual(tensorAt(e2.predictions).shape, [2, 2]);
  assert.deepEqual(tensorAt(e2.labelIds).toArray(), [1, 1]);
  const js = path.join(dir, 'first.js');
  fs.writeFileSync(js, 'exports.computeMetrics = (ep) => ({ n: ep.labelIds.shape[0], p: ep.predictions.get(1, 0) });');
  assert.deepEqual((await runMetricFile(c2, js)).metrics, { eval_n: 2, eval_p: 3 });
});

test('bad dumps: unknown array names and missing files are named in the error', async () => {
  const npz = path.join(dir, 'bad.npz');
  runPython(`import numpy as np\nnp.savez(${JSON.stringify(npz)}, predictions=np.zeros(2), logits_extra=np.zeros(2))`);
  await assert.rejects(importDump(npz, path.join(dir, 'c-bad')), /unexpected array 'logits_extra'/);
  await assert.rejects(importDump(path.join(dir, 'nope.npz'), path.join(dir, 'c-bad2')), /nope\.npz does not exist/);
});
