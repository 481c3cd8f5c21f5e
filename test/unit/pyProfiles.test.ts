// EvalPrediction version profiles (docs/trainer-semantics.md#the-evalprediction-object): each stand-in, probed from a real Python
// compute_metrics through the runner, against the behaviour table of the spec (expected values are written
// out by hand from that table, not taken from the worker). Plus: the installed transformers wins over the
// profile (with a warning), and the CLI flag is validated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { metricsCommand } from '../../src/cli/commands/metrics';
import { EvalPredictionProfile } from '../../src/core/loop/settings';
import { metricsFromCache } from '../../src/core/metrics/forEvaluation';
import { MetricRunners, MetricRunnersOptions, RunMetricOptions } from '../../src/core/metrics/runMetrics';

// One owner of the metric processes at a time; a test that needs another environment swaps it.
let runners: MetricRunners | undefined;
async function configurePyRunner(opts: MetricRunnersOptions): Promise<void> {
  await runners?.close();
  runners = new MetricRunners(opts);
}
const runMetricFile = (cache: string, file: string, opts: RunMetricOptions = {}) => runners!.run(cache, file, opts);
import { tempDir } from '../fixtures/workspace';
import { pythonWith, runPython } from '../helpers/python';

let dir: string;
let python: string;
const caches: Record<'plain' | 'inputs' | 'losses' | 'both', string> = { plain: '', inputs: '', losses: '', both: '' };
let probe: string;

/** A cache written by NumPy with a hand-written manifest: predictions [4,3], label_ids [4], optional inputs/losses. */
function makeCache(name: string, inputs: boolean, losses: boolean): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  runPython(
    `import numpy as np
np.save('predictions.npy', np.arange(12, dtype=np.float32).reshape(4, 3))
np.save('label_ids.npy', np.array([2, 2, 0, 1], dtype=np.int64))
np.save('inputs.npy', np.arange(8, dtype=np.int64).reshape(4, 2))
np.save('losses.npy', np.full(4, 0.5, dtype=np.float32))`,
    ['numpy'],
    d,
  );
  const eval_prediction = {
    predictions: { npy: 'predictions.npy' },
    label_ids: { npy: 'label_ids.npy' },
    inputs: inputs ? { npy: 'inputs.npy' } : null,
    losses: losses ? { npy: 'losses.npy' } : null,
  };
  fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ format: 'evalpred-cache/1', num_samples: 4, key: name, producer: {}, eval_prediction }));
  return d;
}

// Each probe is a number: its value, or minus an error code when the operation raised.
// Codes: IndexError 1, TypeError 2, ValueError 3, AttributeError 4.
const PROBE_PY = `
CODES = {"IndexError": 1, "TypeError": 2, "ValueError": 3, "AttributeError": 4}

def _try(f):
    try:
        return f()
    except Exception as e:
        return -CODES.get(type(e).__name__, 99)

def compute_metrics(ep):
    def unpack2():
        p, l = ep
        return int(p is ep.predictions and l is ep.label_ids)
    def set_inputs():
        ep.inputs = ep.predictions
        return len(list(ep))
    out = {
        "unpack2": _try(unpack2),
        "n_iter": len(list(ep)),
        "idx2_is_inputs": _try(lambda: int(ep[2] is ep.inputs)),
        "idx2_is_losses": _try(lambda: int(ep[2] is ep.losses)),
        "idx3_is_losses": _try(lambda: int(ep[3] is ep.losses)),
        "neg1_is_labels": _try(lambda: int(ep[-1] is ep.label_ids)),
        "slice_len": _try(lambda: len(ep[0:2])),
        "len": _try(lambda: len(ep)),
        "is_tuple": int(isinstance(ep, tuple)),
        "losses_set": _try(lambda: int(ep.losses is not None)),
        "inputs_set": _try(lambda: int(ep.inputs is not None)),
        "has_fields": int(hasattr(ep, "_fields") and hasattr(ep, "_replace")),
    }
    out["n_iter_after_setting_inputs"] = _try(set_inputs)  # last: it mutates ep
    return out
`;

type Row = Record<string, number>;
const E = { Index: -1, Type: -2, Value: -3, Attribute: -4 };

// Hand-derived from docs/trainer-semantics.md#the-evalprediction-object. current: `elements` fixed at construction; negative index and slices fail
// on the `idx < 0` check (IndexError / TypeError); no len; not a tuple.
const CURRENT_PLAIN: Row = {
  unpack2: 1, n_iter: 2, idx2_is_inputs: E.Index, idx2_is_losses: E.Index, idx3_is_losses: E.Index, neg1_is_labels: E.Index,
  slice_len: E.Type, len: E.Type, is_tuple: 0, losses_set: 0, inputs_set: 0, has_fields: 0, n_iter_after_setting_inputs: 2,
};
// v4.19-4.45: like current, but no losses attribute at all, and iteration looks at .inputs at call time.
const V419_PLAIN: Row = { ...CURRENT_PLAIN, losses_set: E.Attribute, n_iter_after_setting_inputs: 3 };
// <=4.18: NamedTuple(predictions, label_ids).
const NT: Row = {
  unpack2: 1, n_iter: 2, idx2_is_inputs: E.Index, idx2_is_losses: E.Index, idx3_is_losses: E.Index, neg1_is_labels: 1,
  slice_len: 2, len: 2, is_tuple: 1, losses_set: E.Attribute, inputs_set: E.Attribute, has_fields: 1, n_iter_after_setting_inputs: E.Attribute,
};

const CASES: { profile: EvalPredictionProfile; cache: keyof typeof caches; want: Row; warn?: RegExp }[] = [
  { profile: 'current', cache: 'plain', want: CURRENT_PLAIN },
  // inputs and losses: 4 items, ep[2] inputs, ep[3] losses, 2-way unpacking fails.
  { profile: 'current', cache: 'both', want: { ...CURRENT_PLAIN, unpack2: E.Value, n_iter: 4, idx2_is_inputs: 1, idx2_is_losses: 0, idx3_is_losses: 1, losses_set: 1, inputs_set: 1, n_iter_after_setting_inputs: 4 } },
  // losses without inputs: ep[2] is losses.
  { profile: 'current', cache: 'losses', want: { ...CURRENT_PLAIN, unpack2: E.Value, n_iter: 3, idx2_is_inputs: 0, idx2_is_losses: 1, losses_set: 1, n_iter_after_setting_inputs: 3 } },
  { profile: 'v4.19-4.45', cache: 'plain', want: V419_PLAIN },
  { profile: 'v4.19-4.45', cache: 'inputs', want: { ...V419_PLAIN, unpack2: E.Value, n_iter: 3, idx2_is_inputs: 1, idx2_is_losses: E.Attribute, inputs_set: 1, n_iter_after_setting_inputs: 3 } },
  // The cache's losses cannot reach a v4.19-4.45 EvalPrediction: dropped, with a warning; ep[3] is out of range.
  {
    profile: 'v4.19-4.45',
    cache: 'both',
    want: { ...V419_PLAIN, unpack2: E.Value, n_iter: 3, idx2_is_inputs: 1, idx2_is_losses: E.Attribute, inputs_set: 1, n_iter_after_setting_inputs: 3 },
    warn: /holds losses, but EvalPrediction of profile v4\.19-4\.45 has no losses attribute/,
  },
  { profile: '<=4.18', cache: 'plain', want: NT },
  { profile: '<=4.18', cache: 'both', want: NT, warn: /holds inputs and losses, but EvalPrediction of profile <=4\.18 has no inputs or losses attribute/ },
];

before(async () => {
  dir = tempDir();
  python = pythonWith(['numpy']);
  caches.plain = makeCache('plain', false, false);
  caches.inputs = makeCache('inputs', true, false);
  caches.losses = makeCache('losses', false, true);
  caches.both = makeCache('both', true, true);
  probe = path.join(dir, 'probe.py');
  fs.writeFileSync(probe, PROBE_PY);
  await configurePyRunner({ python, env: { EVALPRED_NO_TRANSFORMERS: '1' } });
});

after(async () => {
  await runners?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const unprefixed = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k.replace(/^eval_/, ''), v]));

for (const c of CASES) {
  test(`profile ${c.profile}, cache with ${c.cache}: docs/trainer-semantics.md#the-evalprediction-object behaviour`, async () => {
    const r = await runMetricFile(caches[c.cache], probe, { profile: c.profile });
    assert.deepEqual(unprefixed(r.metrics), c.want);
    if (c.warn) assert.ok(r.warnings.some((w) => c.warn!.test(w)), `warning ${c.warn} in ${JSON.stringify(r.warnings)}`);
    else assert.deepEqual(r.warnings, []);
  });
}

test('no profile means current; the Python error messages name EvalPrediction as transformers does', async () => {
  assert.deepEqual(unprefixed((await runMetricFile(caches.plain, probe)).metrics), CURRENT_PLAIN);
  const lenPy = path.join(dir, 'len_metric.py');
  fs.writeFileSync(lenPy, 'def compute_metrics(ep):\n    return {"n": len(ep)}\n');
  await assert.rejects(runMetricFile(caches.plain, lenPy, { profile: 'v4.19-4.45' }), /len_metric\.py:2: TypeError: object of type 'EvalPrediction' has no len\(\)/);
  const slicePy = path.join(dir, 'slice_metric.py');
  fs.writeFileSync(slicePy, 'def compute_metrics(ep):\n    p, l = ep[0:2]\n    return {}\n');
  await assert.rejects(runMetricFile(caches.plain, slicePy), /slice_metric\.py:2: TypeError: '<' not supported between instances of 'slice' and 'int'/);
  // The oldest profile is a real NamedTuple: slicing works, and its class is still called EvalPrediction.
  const ntPy = path.join(dir, 'nt_metric.py');
  fs.writeFileSync(ntPy, 'def compute_metrics(ep):\n    assert type(ep).__name__ == "EvalPrediction" and ep._fields == ("predictions", "label_ids")\n    p, l = ep[0:2]\n    return {"n": len(ep._replace(label_ids=None))}\n');
  assert.deepEqual((await metricsFromCache(runners!, caches.plain, undefined, ntPy, { profile: '<=4.18', batchSize: 8 })).metrics.eval_n, 2);
});

test('an importable transformers is used as is; a profile that disagrees with it is named in a warning', async () => {
  // A stand-in transformers 4.30 (the v4.19-4.45 class, as in that release) on PYTHONPATH.
  const fake = path.join(dir, 'fake-transformers');
  fs.mkdirSync(path.join(fake, 'transformers'), { recursive: true });
  fs.writeFileSync(path.join(fake, 'transformers', '__init__.py'), '__version__ = "4.30.0"\n');
  fs.writeFileSync(
    path.join(fake, 'transformers', 'trainer_utils.py'),
    `class EvalPrediction:
    def __init__(self, predictions, label_ids, inputs=None):
        self.predictions = predictions
        self.label_ids = label_ids
        self.inputs = inputs
    def __iter__(self):
        if self.inputs is not None:
            return iter((self.predictions, self.label_ids, self.inputs))
        else:
            return iter((self.predictions, self.label_ids))
    def __getitem__(self, idx):
        if idx < 0 or idx > 2:
            raise IndexError("tuple index out of range")
        if idx == 2 and self.inputs is None:
            raise IndexError("tuple index out of range")
        if idx == 0:
            return self.predictions
        elif idx == 1:
            return self.label_ids
        elif idx == 2:
            return self.inputs
`,
  );
  await configurePyRunner({ python, env: { PYTHONPATH: fake } });
  try {
    const asked = await runMetricFile(caches.plain, probe, { profile: 'current' });
    assert.deepEqual(unprefixed(asked.metrics), V419_PLAIN, "transformers' own class");
    assert.ok(
      asked.warnings.some((w) => /transformers 4\.30\.0 is importable .*profile v4\.19-4\.45.*requested profile current is not applied/.test(w)),
      JSON.stringify(asked.warnings),
    );
    const agreeing = await runMetricFile(caches.plain, probe, { profile: 'v4.19-4.45' });
    assert.deepEqual(agreeing.warnings, []);
    const unasked = await runMetricFile(caches.plain, probe);
    assert.deepEqual(unasked.warnings, []);
    assert.deepEqual(unprefixed(unasked.metrics), V419_PLAIN);
  } finally {
    await configurePyRunner({ python, env: { EVALPRED_NO_TRANSFORMERS: '1' } });
  }
});

test('a metric file whose preprocessor would get NumPy arrays (no torch) says so in the warnings', async () => {
  await configurePyRunner({ python, env: { EVALPRED_NO_TRANSFORMERS: '1', EVALPRED_NO_TORCH: '1' } });
  try {
    const f = path.join(dir, 'with_pp.py');
    fs.writeFileSync(f, 'def preprocess_logits_for_metrics(logits, labels):\n    return logits.argmax(-1)\n\ndef compute_metrics(ep):\n    return {"x": 1}\n');
    const r = await runMetricFile(caches.plain, f);
    assert.ok(r.warnings.some((w) => /with_pp\.py: preprocess_logits_for_metrics is given NumPy arrays, not torch tensors .*torch is not importable/.test(w)), JSON.stringify(r.warnings));
    assert.deepEqual((await runMetricFile(caches.plain, probe)).warnings, [], 'no such warning without a preprocessor');
  } finally {
    await configurePyRunner({ python, env: { EVALPRED_NO_TRANSFORMERS: '1' } });
  }
});

test('evalpred metrics --eval-prediction-profile rejects unknown profiles before running anything', async () => {
  await assert.rejects(
    metricsCommand(['--cache', caches.plain, '--metrics', probe, '--eval-prediction-profile', 'v5']),
    /--eval-prediction-profile must be one of current, v4\.57, v4\.19-4\.45, <=4\.18, got "v5"/,
  );
});
