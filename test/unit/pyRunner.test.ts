import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { PyMetricRunner } from '../../src/core/metrics/pyRunner';
import { installLines } from '../../src/core/metrics/pythonInstall';
import { JsMetricRunner } from '../../src/core/metrics/jsRunner';
import { finalizeMetrics, MetricFunctionError } from '../../src/core/metrics/postprocess';
import { Tensor } from '../../src/core/tensor/tensor';
import { pythonWith, runPython } from '../helpers/python';
import { tempDir } from '../helpers/tempDir';

let dir: string;
let python: string;
let runner: PyMetricRunner;
let plain: string; // cache: predictions [4,3] float32, label_ids [4] int64
let withInputs: string; // same + inputs [4,2] int64 + losses [4] float32

// Same numbers as jsRunner.test.ts: argmax rows 2, 0, 1, 1 vs labels 2, 0, 0, 1 -> accuracy 0.75.
const logits = [0.1, 0.2, 0.9, 0.8, 0.1, 0.1, 0.3, 0.5, 0.2, 0.0, 1.0, -1.0];
const labels = [2, 0, 0, 1];

/** A cache folder written by NumPy with a hand-written manifest (the cache module's format). */
function makeCache(name: string, extra: boolean): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  runPython(
    `import numpy as np, json
np.save('predictions.npy', np.array(${JSON.stringify(logits)}, dtype=np.float32).reshape(4, 3))
np.save('label_ids.npy', np.array(${JSON.stringify(labels)}, dtype=np.int64))
np.save('inputs.npy', np.arange(8, dtype=np.int64).reshape(4, 2))
np.save('losses.npy', np.full(4, 0.5, dtype=np.float32))`,
    ['numpy'],
    d,
  );
  fs.writeFileSync(
    path.join(d, 'manifest.json'),
    JSON.stringify({
      format: 'evalpred-cache/1',
      num_samples: 4,
      key: name,
      producer: {},
      eval_prediction: {
        predictions: { npy: 'predictions.npy' },
        label_ids: { npy: 'label_ids.npy' },
        inputs: extra ? { npy: 'inputs.npy' } : null,
        losses: extra ? { npy: 'losses.npy' } : null,
      },
    }),
  );
  return d;
}

function write(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
  return p;
}

before(() => {
  dir = tempDir();
  python = pythonWith(['numpy']);
  plain = makeCache('plain', false);
  withInputs = makeCache('with-inputs', true);
  // No transformers in CI; force the stand-in so the test is the same everywhere.
  runner = new PyMetricRunner({ timeoutMs: 10_000, env: { EVALPRED_NO_TRANSFORMERS: '1' } });
});

after(async () => {
  await runner.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ACCURACY_PY = `
import numpy as np
def compute_metrics(eval_pred):
    preds, labels = eval_pred
    print("shapes", preds.shape, labels.shape)
    return {"accuracy": (preds.argmax(-1) == labels).mean(), "f32": np.float32(0.3), "n": np.int64(4)}
`;

test('a correct function: NumPy scalars converted as Trainer does, prints captured', async () => {
  const r = await runner.run(write('acc.py', ACCURACY_PY), plain, { python });
  // np.float32(0.3).item() is the float32 nearest 0.3 widened to a double: Math.fround gives the same.
  assert.deepEqual(finalizeMetrics(r.raw).metrics, { eval_accuracy: 0.75, eval_f32: Math.fround(0.3), eval_n: 4 });
  assert.equal(Math.fround(0.3), 0.30000001192092896);
  assert.equal(r.stdout, 'shapes (4, 3) (4,)\n');
  assert.equal(r.evalPrediction, 'stand-in');
});

test('preds, labels = eval_pred fails when inputs/losses are included, with the exact ValueError and a hint', async () => {
  const f = write('unpack.py', ACCURACY_PY);
  await assert.rejects(runner.run(f, withInputs, { python }), (e: Error) => {
    assert.ok(e instanceof MetricFunctionError);
    assert.match(e.message, /^unpack\.py:4: ValueError: too many values to unpack \(expected 2\)/);
    assert.match(e.message, /preds, labels, \*_ = eval_pred/);
    assert.match(e.traceback, /Traceback/);
    return true;
  });
});

test('the stand-in EvalPrediction behaves as docs/trainer-semantics.md#the-evalprediction-object says', async () => {
  const f = write('standin.py', `
def compute_metrics(ep):
    out = {}
    out["ep2_is_inputs"] = ep[2] is ep.inputs
    out["ep3_is_losses"] = ep[3] is ep.losses
    out["items"] = len(list(ep))
    for name, op in [("neg", lambda: ep[-1]), ("slice", lambda: ep[0:2]), ("len", lambda: len(ep)), ("ep4", lambda: ep[4])]:
        try:
            op(); out[name] = "no error"
        except Exception as e:
            out[name] = type(e).__name__ + ": " + str(e)
    out["is_tuple"] = isinstance(ep, tuple)
    p, l, *rest = ep
    out["rest"] = len(rest)
    import numpy as np
    ep.label_ids[0] = -100   # writable, as Trainer's arrays
    return {k: (1 if v is True else 0 if v is False else v) for k, v in out.items()}
`);
  const r = await runner.run(f, withInputs, { python });
  const entries = Object.fromEntries(
    (r.raw as { entries: Array<[{ value: string }, { value: unknown }]> }).entries.map(([k, v]) => [k.value, v.value]),
  );
  assert.deepEqual(entries, {
    ep2_is_inputs: 1,
    ep3_is_losses: 1,
    items: 4,
    neg: 'IndexError: tuple index out of range',
    slice: "TypeError: '<' not supported between instances of 'slice' and 'int'",
    len: "TypeError: object of type 'EvalPrediction' has no len()",
    ep4: 'IndexError: tuple index out of range',
    is_tuple: 0,
    rest: 2,
  });
});

test('an exception names the user file and line (last frame in their file), with the traceback', async () => {
  const f = write('boom.py', 'import numpy as np\n\ndef helper(x):\n    return x.nonexistent\n\ndef compute_metrics(ep):\n    return {"a": helper(ep.predictions)}\n');
  await assert.rejects(runner.run(f, plain, { python }), (e: Error) => {
    assert.ok(e instanceof MetricFunctionError);
    assert.match(e.message, /^boom\.py:4: AttributeError: 'numpy\.ndarray' object has no attribute 'nonexistent'/);
    assert.equal(e.place.line, 4);
    assert.match(e.traceback, /line 7, in compute_metrics/);
    return true;
  });
});

test('a syntax error names file and line; a missing function lists what is defined', async () => {
  const f = write('syntax.py', 'def compute_metrics(ep):\n    return {"a": 1\n\nx = 2\n');
  await assert.rejects(runner.run(f, plain, { python }), (e: Error) => {
    assert.match(e.message, /^syntax\.py:2: SyntaxError: '\{' was never closed\n    return \{"a": 1$/);
    assert.equal((e as MetricFunctionError).place.line, 2);
    return true;
  });
  const g = write('nofn.py', 'def metrics(ep):\n    return {}\n');
  await assert.rejects(runner.run(g, plain, { python }), /no function compute_metrics or computeMetrics in nofn\.py; functions defined there: metrics/);
  assert.deepEqual(finalizeMetrics((await runner.run(g, plain, { python, functionName: 'metrics' })).raw).metrics, {});
});

test('an endless loop times out, the worker is killed, and the next run works', async () => {
  const quick = new PyMetricRunner({ timeoutMs: 1500, env: { EVALPRED_NO_TRANSFORMERS: '1' } });
  try {
    const f = write('loop.py', 'def compute_metrics(ep):\n    while True:\n        pass\n');
    await assert.rejects(quick.run(f, plain, { python }), /did not finish within 1\.5 s; the Python worker was killed/);
    const g = write('ok.py', 'def compute_metrics(ep):\n    return {"n": int(ep.label_ids.shape[0])}\n');
    // The fresh worker's start (NumPy import) may take seconds on a loaded machine: what matters is that it works.
    assert.deepEqual(finalizeMetrics((await quick.run(g, plain, { python, timeoutMs: 30_000 })).raw).metrics, { eval_n: 4 });
  } finally {
    await quick.close();
  }
});

test('returns a string / a list / NaN / an ndarray value', async () => {
  const raw = async (body: string, name: string) => (await runner.run(write(name, body), plain, { python })).raw;
  const s = await raw('def compute_metrics(ep):\n    return "0.5"\n', 's.py');
  assert.throws(() => finalizeMetrics(s), /compute_metrics returned a string: "0\.5"/);
  const l = await raw('def compute_metrics(ep):\n    return [0.5, 0.3]\n', 'l.py');
  assert.throws(() => finalizeMetrics(l), /compute_metrics returned a list: \[0\.5, 0\.3\]/);
  const n = await raw('import numpy as np\ndef compute_metrics(ep):\n    return {"f1": np.float64("nan"), "inf": float("inf")}\n', 'n.py');
  const r = finalizeMetrics(n);
  assert.ok(Number.isNaN(r.metrics.eval_f1));
  assert.equal(r.metrics.eval_inf, Infinity);
  assert.equal(r.warnings.length, 2);
  const a = await raw('import numpy as np\ndef compute_metrics(ep):\n    return {"per_class": np.array([0.5, 1.0])}\n', 'a.py');
  assert.throws(() => finalizeMetrics(a), /ndarray \(float64, shape \(2,\)\).*for key "per_class"/);
});

test('imports a helper module beside the metric file, and sees edits to it', async () => {
  write('pkg_helpers.py', 'def scale():\n    return 2\n');
  const f = write('usehelper.py', 'from pkg_helpers import scale\ndef compute_metrics(ep):\n    return {"v": scale() * int(ep.label_ids.sum())}\n');
  assert.deepEqual(finalizeMetrics((await runner.run(f, plain, { python })).raw).metrics, { eval_v: 6 }); // 2 * (2+0+0+1)
  fs.writeFileSync(path.join(dir, 'pkg_helpers.py'), 'def scale():\n    return 10\n');
  fs.utimesSync(path.join(dir, 'pkg_helpers.py'), new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(finalizeMetrics((await runner.run(f, plain, { python })).raw).metrics, { eval_v: 30 });
});

test('the -100 decode trap and attribute typos point at the fix', async () => {
  // A stand-in for a fast tokenizer's batch_decode, which raises this exact OverflowError on negative ids.
  write('fake_tok.py', 'def batch_decode(rows):\n    for r in rows:\n        for i in r:\n            if i < 0:\n                raise OverflowError("out of range integral type conversion attempted")\n    return ["x"] * len(rows)\n');
  const f = write('decode.py', 'import numpy as np\nfrom fake_tok import batch_decode\ndef compute_metrics(ep):\n    labels = np.where(ep.label_ids == 0, -100, ep.label_ids)[None]\n    return {"n": len(batch_decode(labels))}\n');
  await assert.rejects(runner.run(f, plain, { python }), (e: Error) => {
    assert.match(e.message, /^decode\.py:5: OverflowError: out of range integral type conversion attempted/);
    assert.match(e.message, /np\.where\(labels != -100, labels, tokenizer\.pad_token_id\)/);
    return true;
  });
  const t = write('typo.py', 'def compute_metrics(ep):\n    return {"n": len(ep.labels)}\n');
  await assert.rejects(runner.run(t, plain, { python }), /typo\.py:2: AttributeError: 'EvalPrediction' object has no attribute 'labels'.*`label_ids`, not `labels`/);
});

test('the same metric in TypeScript and Python gives identical numbers on one cache', async () => {
  const py = write('same.py', `import numpy as np
def compute_metrics(ep):
    p = ep.predictions.astype(np.float64)
    m = p.max(-1, keepdims=True)
    logz = m[:, 0] + np.log(np.exp(p - m).sum(-1))
    nll = logz - p[np.arange(4), ep.label_ids]
    return {"accuracy": float((p.argmax(-1) == ep.label_ids).mean()), "nll": float(nll.mean())}
`);
  const ts = write('same.ts', `export function computeMetrics(ep: any) {
  const n = ep.labelIds.shape[0], c = ep.predictions.shape[1];
  let ok = 0, nll = 0;
  const am = ep.predictions.argmax(-1);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: c }, (_, j) => ep.predictions.get(i, j));
    const m = Math.max(...row);
    const logz = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    nll += logz - row[ep.labelIds.get(i)];
    if (am.get(i) === ep.labelIds.get(i)) ok++;
  }
  return { accuracy: ok / n, nll: nll / n };
}`);
  const workerFile = path.join(dir, 'metricWorker.js');
  await esbuild.build({ entryPoints: [path.join(__dirname, '../../../src/core/metrics/jsWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerFile, logLevel: 'silent' });
  const js = new JsMetricRunner({ workerFile });
  try {
    const tsOut = finalizeMetrics(
      (await js.run(ts, { key: 'same', load: () => ({ predictions: Tensor.from('float32', [4, 3], logits), labelIds: Tensor.from('int64', [4], labels), inputs: null, losses: null }) })).raw,
    ).metrics;
    const pyOut = finalizeMetrics((await runner.run(py, plain, { python })).raw).metrics;
    assert.equal(tsOut.eval_accuracy, 0.75);
    assert.ok(Math.abs((tsOut.eval_nll as number) - (pyOut.eval_nll as number)) < 1e-12, `${tsOut.eval_nll} vs ${pyOut.eval_nll}`);
    assert.equal(pyOut.eval_accuracy, tsOut.eval_accuracy);
  } finally {
    await js.close();
  }
});

test('a missing interpreter says how to fix it', async () => {
  const r = new PyMetricRunner();
  try {
    await assert.rejects(r.run(write('x.py', 'def compute_metrics(ep):\n    return {}\n'), plain, { python: '/nonexistent/python3' }), /not found.*pip install numpy.*conda install numpy.*python3-numpy.*--python \(or EVALPRED_PYTHON\).*selected in the Python extension.*evalpred\.pythonPath/);
  } finally {
    await r.close();
  }
});

test('a missing module names the interpreter that ran and the pip line for it; in a conda env also conda install -p', async () => {
  const r = new PyMetricRunner();
  const file = write('needs_module.py', 'import numpy as np\nimport evalpred_no_such_module.sub\n\ndef compute_metrics(ep):\n    return {}\n');
  const sk = write('needs_sklearn.py', 'from sklearn_not_here_either import metrics\n\ndef compute_metrics(ep):\n    return {}\n');
  // A stand-in conda environment: a venv over the system Python (its NumPy visible) with conda's marker folder.
  const env = path.join(dir, 'fake conda env');
  spawnSync(python, ['-m', 'venv', '--without-pip', '--system-site-packages', env], { encoding: 'utf8' });
  fs.mkdirSync(path.join(env, 'conda-meta'), { recursive: true });
  const envPython = path.join(env, 'bin', 'python');
  try {
    const exe = runPython('import sys; print(sys.executable)').trim();
    await assert.rejects(r.run(file, plain, { python }), (e: Error) => {
      assert.match(e.message, /needs_module\.py:2: ModuleNotFoundError: No module named 'evalpred_no_such_module'/);
      assert.ok(e.message.includes(`ran in ${exe}, which has no module 'evalpred_no_such_module'`), e.message);
      assert.ok(e.message.includes(`\`${exe} -m pip install evalpred_no_such_module\``), e.message);
      assert.doesNotMatch(e.message, /conda install -p/);
      assert.match(e.message, /--python \(or EVALPRED_PYTHON\), the interpreter selected in the Python extension, or the setting evalpred\.pythonPath/);
      return true;
    });
    await assert.rejects(r.run(sk, plain, { python: envPython }), (e: Error) => {
      assert.ok(e.message.includes(`\`conda install -p "${env}" sklearn_not_here_either\``), e.message);
      assert.ok(e.message.includes(`-m pip install sklearn_not_here_either`), e.message);
      assert.ok(e.message.includes(`ran in ${envPython}`), e.message);
      return true;
    });
  } finally {
    await r.close();
  }
});

test('the import name sklearn installs as scikit-learn (pip and conda)', () => {
  assert.equal(installLines('sklearn', '/v/bin/python'), '`/v/bin/python -m pip install scikit-learn`');
  assert.equal(installLines('cv2', '/c/bin/python', '/c'), '`conda install -p /c opencv` (a conda environment) or `/c/bin/python -m pip install opencv-python`');
});

test('a capture folder written by evalpred.capture runs directly with the Python runner', async () => {
  const dump = path.join(dir, 'captured');
  const srcPython = path.join(__dirname, '../../../src/python');
  runPython(`import sys, numpy as np
sys.path.insert(0, ${JSON.stringify(srcPython)})
from evalpred import capture
class EP:
    predictions = [np.array([[0., 1.]], dtype=np.float32), np.array([[1., 0.], [0., 1.]], dtype=np.float32)]
    label_ids = np.array([1, 0, 1]); inputs = None; losses = None
capture(lambda ep: {}, ${JSON.stringify(dump)})(EP())`);
  const f = write('captured.py', 'import numpy as np\ndef compute_metrics(ep):\n    preds, labels = ep\n    p = np.concatenate(preds)\n    return {"acc": float((p.argmax(-1) == labels).mean()), "is_list": isinstance(preds, list)}\n');
  // Per-batch list (eval_do_concat_batches=False) comes back as a list: argmax 1,0,1 == labels -> 1.0.
  assert.deepEqual(finalizeMetrics((await runner.run(f, dump, { python })).raw).metrics, { eval_acc: 1, eval_is_list: true });
});
