// The metric runner's launch attributes `python` and `metricTimeoutSeconds` (the extension fills them from
// the evalpred.pythonPath / evalpred.metricTimeoutSeconds settings), through a real DAP client against the
// bundled adapter: a missing interpreter is refused at launch naming the attribute, the interpreter given is
// the one that runs compute_metrics, and the time limit stops a metric that runs too long.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../../src/core/cache/store';
import { localIO } from '../../src/core/runtime/io';
import { parseLaunchArgs } from '../../src/core/runtime/launchSettings';
import { Tensor } from '../../src/core/tensor/tensor';
import { pythonWith } from '../helpers/python';
import { tempDir } from '../fixtures/workspace';
import { launch, withAdapter } from './client';

/** A 4-sample cache (argmax of the predictions matches 3 of 4 labels) and a metric file. */
function cacheAndMetric(dir: string, body: string): { cache: string; metrics: string } {
  const cache = path.join(dir, 'cache');
  const preds = Tensor.from('float32', [4, 2], [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.6, 0.4]);
  const labels = Tensor.from('int64', [4], [0, 1, 0, 1]);
  writeCache(cache, { predictions: preds, labelIds: labels, inputs: null, losses: null }, { numSamples: 4, key: 'py-launch', producer: {} });
  const metrics = path.join(dir, 'metrics.py');
  fs.writeFileSync(metrics, `import numpy as np\n\ndef compute_metrics(eval_pred):\n${body}\n`);
  return { cache, metrics };
}


test('python pointing at a missing interpreter: the launch fails with an error naming "python" and the path; the adapter keeps answering', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = cacheAndMetric(dir, '    return {"n": 1}');
    await dc.initializeRequest();
    const bad = (args: Record<string, unknown>) => dc.launchRequest({ type: 'evalpred', request: 'launch', name: 't', ...args } as DebugProtocol.LaunchRequestArguments);
    const missing = path.join(dir, 'venv', 'bin', 'python3');
    await assert.rejects(bad({ cache, metrics, python: missing }), (e: Error) => {
      assert.match(e.message, /"python" is /);
      assert.ok(e.message.includes(missing), e.message);
      assert.match(e.message, /does not exist/);
      return true;
    });
    await assert.rejects(bad({ cache, metrics, python: 'no-such-python-evalpred' }), /"python" is "no-such-python-evalpred", which is not a command on PATH/);
    await assert.rejects(bad({ cache, metrics, python: dir }), /"python" is .*which is a folder/);
    await assert.rejects(bad({ cache, metrics, metricTimeoutSeconds: 0 }), /"metricTimeoutSeconds" must be a number >= 1, got 0/);
    assert.equal((await dc.threadsRequest()).body.threads.length, 1);
  }));

test('python names the interpreter that runs compute_metrics (a wrapper script proves it ran), and the metrics come back', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = cacheAndMetric(dir, '    p, l = eval_pred\n    return {"accuracy": float((p.argmax(-1) == l).mean())}');
    const marker = path.join(dir, 'wrapper-ran');
    const wrapper = path.join(dir, 'my-python');
    fs.writeFileSync(wrapper, `#!/bin/sh\necho ran > '${marker}'\nexec '${pythonWith(['numpy'])}' "$@"\n`, { mode: 0o755 });
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    const first = dc.waitForEvent('stopped');
    await launch(dc, { cache, metrics, python: wrapper, metricTimeoutSeconds: 30 });
    await first;
    const second = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.equal(((await second) as DebugProtocol.StoppedEvent).body.reason, 'breakpoint');
    assert.ok(fs.existsSync(marker), 'the wrapper interpreter was started');
    // argmax rows: 0, 1, 0, 0 against labels 0, 1, 0, 1 -> 3 of 4 right.
    assert.match(out.join(''), /"eval_accuracy":\s*0\.75\b/);
  }));

test('metricTimeoutSeconds stops a metric that runs longer, with a stop naming the limit', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = cacheAndMetric(dir, '    import time\n    time.sleep(30)\n    return {"n": 1}');
    const first = dc.waitForEvent('stopped');
    await launch(dc, { cache, metrics, python: pythonWith(['numpy']), metricTimeoutSeconds: 1 });
    await first;
    const t0 = Date.now();
    const exc = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    const stop = (await exc) as DebugProtocol.StoppedEvent;
    assert.equal(stop.body.reason, 'exception');
    assert.match(stop.body.text ?? '', /did not finish within 1 s/);
    assert.ok(Date.now() - t0 < 10000, 'stopped by the 1 s limit, not the 60 s default');
  }));

test('parseLaunchArgs: python on PATH is kept as a command, a relative path resolves against cwd, seconds become ms', () => {
  const dir = tempDir();
  try {
    fs.mkdirSync(path.join(dir, 'model'));
    fs.writeFileSync(path.join(dir, 'data.jsonl'), '{}\n');
    fs.mkdirSync(path.join(dir, 'env'));
    fs.writeFileSync(path.join(dir, 'env', 'py'), '#!/bin/sh\n', { mode: 0o755 });
    const base = { cwd: dir, model: 'model', dataset: 'data.jsonl' };
    const onPath = path.basename(pythonWith(['numpy']));
    assert.equal(parseLaunchArgs({ ...base, python: onPath }, localIO).python, onPath);
    const l = parseLaunchArgs({ ...base, python: './env/py', metricTimeoutSeconds: 2.5 }, localIO);
    assert.equal(l.python, path.join(dir, 'env', 'py'));
    assert.equal(l.metricTimeoutMs, 2500);
    const none = parseLaunchArgs(base, localIO);
    assert.equal(none.python, undefined);
    assert.equal(none.metricTimeoutMs, undefined);
    assert.deepEqual(none.warnings, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('evalpredSetPython (the user selected another interpreter): the warm worker ends and the next run is in the new interpreter', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = cacheAndMetric(dir, '    import sys\n    print("ran in", __import__("os").environ.get("WHICH_WRAPPER"))\n    p, l = eval_pred\n    return {"accuracy": float((p.argmax(-1) == l).mean())}');
    const wrapper = (name: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, `#!/bin/sh\nWHICH_WRAPPER=${name} exec '${pythonWith(['numpy'])}' "$@"\n`, { mode: 0o755 });
      return f;
    };
    const [a, b] = [wrapper('python-a'), wrapper('python-b')];
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    const first = dc.waitForEvent('stopped');
    await launch(dc, { cache, metrics, python: a, metricTimeoutSeconds: 30 });
    await first;
    const r1 = await dc.customRequest('rerunMetrics');
    assert.equal(r1.body.metrics.eval_accuracy, 0.75);
    assert.match(out.join(''), /ran in python-a/);
    const set = await dc.customRequest('evalpredSetPython', { python: b });
    assert.deepEqual(set.body, { restarted: true });
    assert.deepEqual((await dc.customRequest('evalpredSetPython', { python: b })).body, { restarted: false }, 'same interpreter: nothing restarts');
    out.length = 0;
    const r2 = await dc.customRequest('rerunMetrics');
    assert.equal(r2.body.metrics.eval_accuracy, 0.75);
    assert.match(out.join(''), /ran in python-b/);
    assert.doesNotMatch(out.join(''), /ran in python-a/);
    await assert.rejects(dc.customRequest('evalpredSetPython', { python: 3 }), /needs an interpreter path, got 3/);
  }));
