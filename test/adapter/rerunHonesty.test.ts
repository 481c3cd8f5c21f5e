// Reruns report honestly (docs/trainer-semantics.md, "Speed fields on a rerun"): the speed fields of a rerun
// are the cached model run's, computed with the batch size recorded in the manifest, and labelled as such on
// stderr / in the Debug Console; a fresh run reports its own speed without the label. Through the CLI as a
// user types it and through the debug adapter with a cache opened alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { distFile } from '../../src/core/paths';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';
import { launch, withAdapter } from './client';

const N = 10;
const BATCH = 4; // ceil(10 / 4) = 3 steps; the launch default of 8 would give 2

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [distFile('cli.js'), ...args], { cwd, encoding: 'utf8' });
}

/** The runtime the model run recorded in the cache's manifest. */
function recordedRuntime(cache: string): number {
  const m = JSON.parse(fs.readFileSync(path.join(cache, 'manifest.json'), 'utf8'));
  const rt = m.loop?.runtimeSeconds ?? m.extra?.loop?.runtimeSeconds;
  assert.equal(typeof rt, 'number', `the manifest records the run's runtime: ${Object.keys(m)}`);
  return rt;
}

const speed = (runtime: number, steps: number) => ({
  eval_runtime: Number(runtime.toFixed(4)),
  eval_samples_per_second: Number((N / runtime).toFixed(3)),
  eval_steps_per_second: Number((steps / runtime).toFixed(3)),
});

function setup(dir: string) {
  const ws = seqClsWorkspace(dir, { n: N, numLabels: 3 });
  const metrics = path.join(dir, 'metrics.js');
  fs.writeFileSync(metrics, 'exports.computeMetrics = (p) => ({ n: p.predictions.shape[0] });\n');
  return { ws, metrics, cache: path.join(dir, 'cache') };
}

function pick(m: Record<string, unknown>) {
  return { eval_runtime: m.eval_runtime, eval_samples_per_second: m.eval_samples_per_second, eval_steps_per_second: m.eval_steps_per_second };
}

test('CLI: a fresh run reports its own speed unlabelled; a cached run and `evalpred metrics` label the recorded run\'s, at its batch size', () =>
  withTemp((dir) => {
    const { ws, metrics, cache } = setup(dir);
    const runArgs = ['run', '--model', ws.modelDir, '--dataset', ws.dataset, '--batch-size', String(BATCH), '--out', cache];
    const fresh = cli(dir, runArgs);
    assert.equal(fresh.status, 0, fresh.stderr);
    const runtime = recordedRuntime(cache);
    assert.deepEqual(pick(JSON.parse(fresh.stdout)), speed(runtime, 3));
    assert.doesNotMatch(fresh.stderr, /not this rerun's/);

    const again = cli(dir, runArgs);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /cached predictions/);
    assert.deepEqual(pick(JSON.parse(again.stdout)), speed(runtime, 3));
    assert.match(again.stderr, /note: eval_runtime, eval_samples_per_second and eval_steps_per_second are the model run's that made this cache \(\d+\.\d\d s for 10 samples at batch size 4\), not this rerun's/);

    const rerun = cli(dir, ['metrics', '--cache', cache, '--metrics', metrics]);
    assert.equal(rerun.status, 0, rerun.stderr);
    const out = JSON.parse(rerun.stdout);
    assert.equal(out.eval_n, N);
    assert.deepEqual(pick(out), speed(runtime, 3));
    assert.match(rerun.stderr, /note: .* at batch size 4\), not this rerun's: compute_metrics alone took \d+ ms/);
  }));

function withTemp(fn: (dir: string) => void): void {
  const dir = tempDir();
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}


test('debug adapter: a cache opened alone reruns with the manifest\'s batch size (not 8) and labels the speed fields', () =>
  withAdapter(async (dc, dir) => {
    const { ws, metrics, cache } = setup(dir);
    const r = cli(dir, ['run', '--model', ws.modelDir, '--dataset', ws.dataset, '--batch-size', String(BATCH), '--out', cache]);
    assert.equal(r.status, 0, r.stderr);
    const runtime = recordedRuntime(cache);
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    const first = dc.waitForEvent('stopped');
    await launch(dc, { cache, metrics });
    await first;
    const second = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await second;
    const text = out.join('');
    const expected = speed(runtime, 3);
    const json = /\{[^{}]*"eval_n"[^{}]*\}/.exec(text);
    assert.ok(json, `the metrics are printed: ${text}`);
    assert.deepEqual(pick(JSON.parse(json[0])), expected, `steps at batch size 4 (${expected.eval_steps_per_second}), not 8 (${speed(runtime, 2).eval_steps_per_second})`);
    assert.match(text, /note: eval_runtime, eval_samples_per_second and eval_steps_per_second are the model run's that made this cache \(.* at batch size 4\), not this rerun's/);
  }));
