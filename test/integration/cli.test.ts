// The `evalpred` command as a user runs it: the built bundle, real processes, stdout/stderr and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { distFile } from '../../src/core/paths';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [distFile('cli.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, EVALPRED_PYTHON: process.env.EVALPRED_PYTHON } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('run prints a summary on stderr and Trainer-keyed metrics as one JSON object on stdout', () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 10, numLabels: 2 });
    const r = cli(['run', '--model', ws.modelDir, '--dataset', ws.dataset, '--batch-size', '4', '--out', 'cache'], dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'stdout holds only the metrics');
    const metrics = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(metrics), ['eval_loss', 'eval_accuracy', 'eval_f1', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']);
    assert.ok(metrics.eval_accuracy >= 0 && metrics.eval_accuracy <= 1);
    assert.match(r.stderr, /predictions = float32\[10, 2\]/);
    assert.match(r.stderr, /label_ids\s+= int64\[10\]/);
    // inspect reads the same cache
    const ins = cli(['inspect', '--cache', 'cache', '--json'], dir);
    assert.equal(ins.code, 0, ins.stderr);
    const info = JSON.parse(ins.stdout);
    assert.equal(info.num_samples, 10);
    assert.deepEqual(info.arrays.map((a: { path: string; shape: number[] }) => [a.path, a.shape]), [
      ['predictions', [10, 2]],
      ['label_ids', [10]],
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the built-in F1 on labels with no positive class warns as sklearn does, in one plain line', () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 8, numLabels: 2 });
    const rows = fs.readFileSync(ws.dataset, 'utf8').trim().split('\n').map((l) => ({ ...JSON.parse(l), label: 0 }));
    fs.writeFileSync(ws.dataset, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = cli(['run', '--model', ws.modelDir, '--dataset', ws.dataset, '--batch-size', '4', '--out', 'cache'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: UndefinedMetricWarning: Recall is ill-defined and being set to 0\.0 due to no true samples\./m);
    assert.doesNotMatch(r.stderr, /\(node:\d+\)|--trace-warnings/);
    assert.equal(JSON.parse(r.stdout).eval_f1, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('BAD CALL - a missing dataset exits non-zero with one paragraph naming it, no stack trace', () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir);
    const r = cli(['run', '--model', ws.modelDir, '--dataset', path.join(dir, 'nope.jsonl')], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.jsonl/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('demo builds its model and data from code and reports sensible metrics', () => {
  const dir = tempDir();
  try {
    const r = cli(['demo', '--dir', path.join(dir, 'demo')], dir);
    assert.equal(r.code, 0, r.stderr);
    const metrics = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.ok(metrics.eval_accuracy > 0.75 && metrics.eval_accuracy < 1, `accuracy ${metrics.eval_accuracy}`);
    assert.match(r.stderr, /EvalPrediction\(/);
    assert.match(r.stderr, /on the cached predictions, no model run/);
    // the TS and the Python compute_metrics agree with each other (two JSON lines on stdout)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2, r.stderr);
    assert.equal(lines[0].eval_accuracy, lines[1].eval_accuracy);
    assert.equal(lines[0].eval_f1, lines[1].eval_f1);
    // "open the folder in VS Code and press F5" has a launch configuration to use
    const launch = JSON.parse(fs.readFileSync(path.join(dir, 'demo', '.vscode', 'launch.json'), 'utf8'));
    assert.equal(launch.configurations[0].type, 'evalpred');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('inspect shows each first sample with its dataset text, as run does; without the dataset, without text', () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 7, numLabels: 2 });
    const r = cli(['run', '--model', ws.modelDir, '--dataset', ws.dataset, '--out', 'cache'], dir);
    assert.equal(r.code, 0, r.stderr);
    const shown = (out: string) => out.split('\n').filter((l) => /^[✓✗] #\d/.test(l));
    const ins = cli(['inspect', '--cache', 'cache'], dir);
    assert.equal(ins.code, 0, ins.stderr);
    assert.equal(shown(ins.stdout).length, 5);
    assert.deepEqual(shown(ins.stdout), shown(r.stderr), 'the same sample lines as the run summary');
    ws.texts.slice(0, 5).forEach((t, i) => assert.ok(shown(ins.stdout)[i].includes(`"${t.slice(0, 60)}`), `${t} in ${shown(ins.stdout)[i]}`));
    const json = JSON.parse(cli(['inspect', '--cache', 'cache', '--json'], dir).stdout) as { samples: { input?: string }[] };
    assert.deepEqual(json.samples.map((s) => s.input), ws.texts.slice(0, 5));
    fs.renameSync(ws.dataset, ws.dataset + '.moved');
    const gone = cli(['inspect', '--cache', 'cache'], dir);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(shown(gone.stdout).length, 5);
    assert.ok(shown(gone.stdout).every((l) => !l.includes('"')), gone.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
