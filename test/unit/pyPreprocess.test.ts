// A Python metric file's preprocess_logits_for_metrics runs per batch in the loop (docs/trainer-semantics.md#preprocess_logits_for_metrics): NumPy arrays
// when torch is not importable (forced with EVALPRED_NO_TORCH so the test is the same everywhere), torch
// tensors otherwise (checked with a fake `torch` on PYTHONPATH: from_numpy in, .numpy() out).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runLoop } from '../../src/core/loop/driver';
import type { LoopResult } from '../../src/core/loop/types';
import { withDefaults } from '../../src/core/loop/settings';
import { MetricRunners, MetricRunnersOptions } from '../../src/core/metrics/runMetrics';

// One owner of the metric processes at a time; a test that needs another environment swaps it.
let runners: MetricRunners | undefined;
async function configurePyRunner(opts: MetricRunnersOptions): Promise<void> {
  await runners?.close();
  runners = new MetricRunners(opts);
}
const preprocessFn = (file: string) => runners!.preprocessHook(file);
import { PyMetricRunner } from '../../src/core/metrics/pyRunner';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { tempDir, tokenClsWorkspace } from '../fixtures/workspace';
import { pythonWith } from '../helpers/python';

let dir: string;
let python: string;
let ws: ReturnType<typeof tokenClsWorkspace>;
let plain: LoopResult; // full logits, no preprocessing
let builtin: LoopResult; // --preprocess argmax

function write(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
  return p;
}

const settingsWith = (metrics?: string) => withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, metrics });

/** As the loop worker runs it: the file's preprocess from the test's runners (closed by the next configure / after). */
async function runLoopWith(file: string): Promise<LoopResult> {
  return runLoop(settingsWith(file), { preprocess: await preprocessFn(file) });
}

before(async () => {
  dir = tempDir();
  python = pythonWith(['numpy']);
  ws = tokenClsWorkspace(path.join(dir, 'ws'), { n: 10, numLabels: 3 });
  plain = await runLoop(settingsWith());
  builtin = await runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, preprocess: 'argmax' }));
});

after(async () => {
  await runners?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function assertSameTensor(a: TensorNode, b: TensorNode, what: string): void {
  assert.ok(a instanceof Tensor && b instanceof Tensor, `${what}: tensors`);
  assert.equal(a.dtype, b.dtype, `${what}: dtype`);
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  assert.deepEqual(Array.from(a.data as ArrayLike<number | bigint>), Array.from(b.data as ArrayLike<number | bigint>), `${what}: values`);
}

test('a NumPy argmax preprocess_logits_for_metrics gives the same predictions as --preprocess argmax', async () => {
  await configurePyRunner({ python, env: { EVALPRED_NO_TORCH: '1', EVALPRED_NO_TRANSFORMERS: '1' } });
  const file = write(
    'pp_numpy.py',
    `import numpy as np
calls = []
def preprocess_logits_for_metrics(logits, labels):
    assert isinstance(logits, np.ndarray) and isinstance(labels, np.ndarray), (type(logits), type(labels))
    assert labels.shape == logits.shape[:2], (labels.shape, logits.shape)
    return np.argmax(logits, axis=-1)

def compute_metrics(eval_pred):
    return {}
`,
  );
  const hook = await preprocessFn(file);
  assert.ok(hook, 'the .py file defines a preprocessor');
  assert.equal(await preprocessFn(write('no_pp.py', 'def compute_metrics(ep):\n    return {}\n')), null);
  // Named in a comment only: the worker looks and finds no such function.
  assert.equal(await preprocessFn(write('comment_pp.py', '# no preprocess_logits_for_metrics here\ndef compute_metrics(ep):\n    return {}\n')), null);
  assert.match(hook.notes.join('\n'), /received NumPy arrays, not torch tensors .* because torch is not importable in /);
  const r = await runLoopWith(file);
  // --preprocess argmax is itself checked against the full logits in test/integration/loop.test.ts (O5).
  assertSameTensor(r.evalPred.predictions!, builtin.evalPred.predictions!, 'predictions');
  assertSameTensor(r.evalPred.labelIds!, plain.evalPred.labelIds!, 'label_ids');
  assert.equal(r.evalLoss, plain.evalLoss, 'the loss comes from the raw logits');
});

test('a tuple-returning preprocessor gives tuple predictions, each accumulated with -100 padding', async () => {
  await configurePyRunner({ python, env: { EVALPRED_NO_TORCH: '1', EVALPRED_NO_TRANSFORMERS: '1' } });
  const file = write(
    'pp_tuple.py',
    `def preprocess_logits_for_metrics(logits, labels):
    return (logits.argmax(-1), logits.max(-1))
`,
  );
  const r = await runLoopWith(file);
  const preds = r.evalPred.predictions!;
  assert.ok(!(preds instanceof Tensor) && 'tuple' in preds && preds.tuple.length === 2, 'predictions is a 2-tuple');
  assertSameTensor(preds.tuple[0], builtin.evalPred.predictions!, 'predictions[0] (argmax)');
  // predictions[1]: the max logit per position, computed here from the full logits. Padding positions hold
  // -100.0 in every class of the full logits, and the per-batch max is padded with -100.0 too: both give -100.
  const logits = plain.evalPred.predictions as Tensor;
  const [n, L, C] = logits.shape;
  const want = new Float32Array(n * L);
  for (let i = 0; i < n * L; i++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits.data[i * C + c] as number);
    want[i] = m;
  }
  assertSameTensor(preds.tuple[1], new Tensor('float32', [n, L], want), 'predictions[1] (max)');
});

test('an error in the preprocessor names file:line and says NumPy arrays were passed because torch is missing', async () => {
  await configurePyRunner({ python, env: { EVALPRED_NO_TORCH: '1', EVALPRED_NO_TRANSFORMERS: '1' } });
  const file = write(
    'pp_torchy.py',
    `# written for torch
def preprocess_logits_for_metrics(logits, labels):
    return logits.argmax(dim=-1)
`,
  );
  await assert.rejects(runLoopWith(file), (e: Error) => {
    assert.match(e.message, /^pp_torchy\.py:3: TypeError: .*dim/);
    assert.match(e.message, /preprocess_logits_for_metrics received NumPy arrays because torch is not importable in \S+/);
    return true;
  });
});

test('with torch importable the preprocessor gets torch.from_numpy tensors and its result comes back via .numpy()', async () => {
  // A fake torch: enough of the API for from_numpy / argmax(dim=) / detach / cpu / numpy, and a log of calls.
  const fake = path.join(dir, 'faketorch');
  fs.mkdirSync(path.join(fake, 'torch'), { recursive: true });
  fs.writeFileSync(
    path.join(fake, 'torch', '__init__.py'),
    `import numpy as _np
log = []
class Tensor:
    def __init__(self, a):
        self._a = a
    @property
    def shape(self):
        return self._a.shape
    def argmax(self, dim=None):
        return Tensor(self._a.argmax(axis=dim))
    def detach(self):
        log.append("detach")
        return self
    def cpu(self):
        log.append("cpu")
        return self
    def numpy(self):
        log.append("numpy")
        return self._a
def from_numpy(a):
    assert isinstance(a, _np.ndarray)
    log.append("from_numpy")
    return Tensor(a)
`,
  );
  await configurePyRunner({ python, env: { PYTHONPATH: fake, EVALPRED_NO_TRANSFORMERS: '1' } });
  const file = write(
    'pp_torch.py',
    `import torch
def preprocess_logits_for_metrics(logits, labels):
    assert type(logits) is torch.Tensor and type(labels) is torch.Tensor, (type(logits), type(labels))
    # a torch.Tensor back: the worker must turn it into an ndarray with .numpy() (else the batch fails)
    return logits.argmax(dim=-1)
`,
  );
  const hook = await preprocessFn(file);
  assert.ok(hook);
  assert.deepEqual(hook.notes, [], 'no NumPy note when torch is importable');
  const r = await runLoopWith(file);
  assertSameTensor(r.evalPred.predictions!, builtin.evalPred.predictions!, 'predictions');
});

test('runner: tuple labels and None labels arrive as such; dict, None and unsupported dtypes are clear errors', async () => {
  const runner = new PyMetricRunner({ timeoutMs: 10_000, env: { EVALPRED_NO_TORCH: '1', EVALPRED_NO_TRANSFORMERS: '1' } });
  try {
    const file = write(
      'pp_kinds.py',
      `import numpy as np
def preprocess_logits_for_metrics(logits, labels):
    if labels is None:
        return logits[0] * 2
    if isinstance(labels, tuple):
        return (logits[0] + labels[0], labels[1].astype(np.int32))
    if labels.sum() == 1:
        return {"a": logits}
    if labels.sum() == 2:
        return None
    return logits.astype(np.uint32)
`,
    );
    const logits = { tuple: [Tensor.from('float32', [2, 2], [1, 2, 3, 4]), Tensor.from('float32', [1], [9])] };
    const none = await runner.preprocess(file, logits, null, { python });
    // logits[0] * 2 on [[1,2],[3,4]] is [[2,4],[6,8]], float32 as NumPy keeps it
    assertSameTensor(none.result, Tensor.from('float32', [2, 2], [2, 4, 6, 8]), 'labels None');
    const tup = await runner.preprocess(file, logits, { tuple: [Tensor.from('float32', [2, 2], [10, 10, 10, 10]), Tensor.from('int64', [2], [5, 6])] }, { python });
    assert.ok(!(tup.result instanceof Tensor) && 'tuple' in tup.result);
    assertSameTensor(tup.result.tuple[0], Tensor.from('float32', [2, 2], [11, 12, 13, 14]), 'logits[0] + labels[0]');
    assertSameTensor(tup.result.tuple[1], Tensor.from('int32', [2], [5, 6]), 'labels[1] as int32');
    const x = Tensor.from('float32', [2], [1, 2]);
    await assert.rejects(runner.preprocess(file, x, Tensor.from('int64', [1], [1]), { python }), /pp_kinds\.py: preprocess_logits_for_metrics returned a dict/);
    await assert.rejects(runner.preprocess(file, x, Tensor.from('int64', [1], [2]), { python }), /pp_kinds\.py: preprocess_logits_for_metrics returned None/);
    await assert.rejects(runner.preprocess(file, x, Tensor.from('int64', [1], [3]), { python }), /returned a uint32 array at the top level.*astype/);
    // The batch files are removed as soon as each reply is read, and the folder on close.
    const batchDir = (runner as unknown as { batchDir: string }).batchDir;
    assert.deepEqual(fs.readdirSync(batchDir), []);
    await runner.close();
    assert.equal(fs.existsSync(batchDir), false);
  } finally {
    await runner.close();
  }
});
