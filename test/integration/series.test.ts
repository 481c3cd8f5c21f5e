// Fix the metric once, recompute the whole training curve: a run captured by the Python helper during a
// (fake) trainer.train(), imported with `evalpred import`, rerun with `evalpred metrics --series`, as a user types it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distFile, packageRoot } from '../../src/core/paths';
import { pythonWith } from '../helpers/python';

let dir: string;
let python: string;
const pyEnv = () => ({ ...process.env, PYTHONPATH: [path.join(packageRoot(), 'src/python'), path.join(packageRoot(), 'test/python')].join(path.delimiter), EVALPRED_NO_TRANSFORMERS: '1' });

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [distFile('cli.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, EVALPRED_PYTHON: python } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** sklearn's macro F1 of every step of fakeTrainer.evaluations(), the oracle for the fixed metric. */
function expectedMacroF1(): number[] {
  return JSON.parse(execFileSync(python, ['-c', `import json
from sklearn.metrics import f1_score
import fakeTrainer as ft
print(json.dumps([float(f1_score(y, x.argmax(-1), average="macro")) for _, x, y in ft.evaluations()]))`], { encoding: 'utf8', env: pyEnv() }));
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-series-'));
  python = pythonWith(['numpy', 'sklearn']);
  // The metric the user trained with averages F1 the wrong way (micro instead of macro).
  execFileSync(python, ['-c', `from evalpred import capture
from sklearn.metrics import f1_score
import fakeTrainer as ft
def wrong(ep):
    return {"f1": f1_score(ep.label_ids, ep.predictions.argmax(-1), average="micro")}
ft.Trainer(capture(wrong, "captured")).train(ft.evaluations())`], { cwd: dir, env: pyEnv() });
  fs.writeFileSync(path.join(dir, 'fixed.py'), 'from sklearn.metrics import f1_score\ndef compute_metrics(ep):\n    return {"f1": f1_score(ep.label_ids, ep.predictions.argmax(-1), average="macro")}\n');
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('import a captured series, rerun the fixed metric on every step: values equal scikit-learn, logged values are the old metric\'s', () => {
  const imp = cli(['import', 'captured', '--out', 'series']);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stderr, /imported a series of 3 steps from captured into series/);
  const r = cli(['metrics', '--series', 'series', '--metrics', 'fixed.py', '--json', '--log-history', 'history.json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  const expected = expectedMacroF1();
  assert.deepEqual(rows.map((x: { step: number }) => x.step), [100, 200, 300]);
  assert.deepEqual(rows.map((x: { recomputed: { eval_f1: number } }) => x.recomputed.eval_f1), expected);
  const captured = JSON.parse(fs.readFileSync(path.join(dir, 'captured/series.json'), 'utf8'));
  assert.deepEqual(rows.map((x: { logged: { eval_f1: number } }) => x.logged.eval_f1), captured.steps.map((s: { metrics: { f1: number } }) => s.metrics.f1));
  assert.notDeepEqual(rows.map((x: { logged: { eval_f1: number } }) => x.logged.eval_f1), expected);
  // Runtime figures belong to the original evaluation, not to a rerun.
  assert.deepEqual(Object.keys(rows[0].recomputed), ['eval_f1']);
  // log_history in trainer_state.json's shape, with the recomputed values.
  const history = JSON.parse(fs.readFileSync(path.join(dir, 'history.json'), 'utf8'));
  assert.deepEqual(history.log_history, expected.map((f1, i) => ({ eval_f1: f1, epoch: i + 1, step: 100 * (i + 1) })));

  const table = cli(['metrics', '--series', 'series', '--metrics', 'fixed.py']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^100\\s+eval_f1\\s+${captured.steps[0].metrics.f1.toFixed(4)}\\s+${expected[0].toFixed(4)}\\s+[+-]\\d`, 'm'));
});

test('a damaged step is reported and the others still rerun; a metric failing on one step shows that step\'s error at the user\'s line', () => {
  fs.cpSync(path.join(dir, 'captured'), path.join(dir, 'damaged'), { recursive: true });
  fs.rmSync(path.join(dir, 'damaged/step-200/predictions.npy'));
  const imp = cli(['import', 'damaged', '--out', 'series-damaged']);
  assert.equal(imp.code, 1);
  assert.match(imp.stderr, /warning: step step-200 was not imported: .*predictions\.npy/);
  assert.match(imp.stderr, /imported a series of 2 steps/);
  // Trips on the last step only: its true-class logits are raised by 1.6 (fakeTrainer.evaluations).
  fs.writeFileSync(path.join(dir, 'picky.py'), 'import numpy as np\nfrom sklearn.metrics import f1_score\ndef compute_metrics(ep):\n    true = ep.predictions[np.arange(len(ep.label_ids)), ep.label_ids]\n    if true.mean() > 1.0:\n        raise ValueError("this step trips the metric")\n    return {"f1": f1_score(ep.label_ids, ep.predictions.argmax(-1), average="macro")}\n');
  const r = cli(['metrics', '--series', 'series-damaged', '--metrics', 'picky.py', '--json']);
  assert.equal(r.code, 1);
  const rows = JSON.parse(r.stdout);
  assert.equal(rows.length, 3);
  assert.equal(rows[0].recomputed.eval_f1, expectedMacroF1()[0]);
  assert.match(rows[1].error, /step-200 was not kept: .*predictions\.npy/);
  assert.match(rows[2].error, /this step trips the metric/);
  assert.match(rows[2].error, /picky\.py.*line 6|picky\.py:6/);
});

test('steps of different sample counts are flagged; --log-history never overwrites a file evalpred did not write', () => {
  execFileSync(python, ['-c', `from evalpred import capture
import fakeTrainer as ft
evs = ft.evaluations()
evs[1] = (evs[1][0], evs[1][1][:30], evs[1][2][:30])
ft.Trainer(capture(lambda ep: {"n": len(ep.label_ids)}, "uneven")).train(evs)`], { cwd: dir, env: pyEnv() });
  fs.writeFileSync(path.join(dir, 'mine.json'), '{"my": "notes"}');
  const r = cli(['metrics', '--series', 'uneven', '--metrics', 'fixed.py', '--log-history', 'mine.json']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--log-history mine\.json exists and was not written by evalpred/);
  assert.equal(fs.readFileSync(path.join(dir, 'mine.json'), 'utf8'), '{"my": "notes"}');
  const t = cli(['metrics', '--series', 'uneven', '--metrics', 'fixed.py']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^200\s+note: 30 samples \(step 100 had 40\): another dataset\?$/m);
  const bad = cli(['import', 'uneven', '--out', 'fixed.py']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /cannot import the series into fixed\.py: it exists and is not a folder/);
});
