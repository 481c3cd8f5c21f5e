// The debug adapter through a real DAP client (@vscode/debugadapter-testsupport) against the BUNDLED
// adapter dist/debugAdapter.js, running the real loop on tiny generated models. Expected numbers come from
// NumPy reading the cache folder the run left behind, or from the fixture's own sentences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../../src/core/cache/store';
import { distFile } from '../../src/core/paths';
import { Tensor } from '../../src/core/tensor/tensor';
import { runPython } from '../helpers/python';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';
import { DapRequests, SelectSampleArguments } from '../../src/shared/dapProtocol';
import { launch, withAdapter } from './client';

const ADAPTER = distFile('debugAdapter.js');

/** initialize (with progress support) -> launch, with breakpoints set between `initialized` and configurationDone. */
/** The shared launch sequence, as a client that shows progress. */
function launchWithProgress(dc: DebugClient, args: Record<string, unknown>, configure?: () => Promise<unknown>) {
  return launch(dc, args, configure, { supportsProgressReporting: true });
}

function outputs(dc: DebugClient): string[] {
  const seen: string[] = [];
  dc.on('output', (e: DebugProtocol.OutputEvent) => seen.push(e.body.output));
  return seen;
}

async function waitFor<T>(fn: () => T | undefined, what: string, ms = 15000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const vars = async (dc: DebugClient, ref: number, extra: Partial<DebugProtocol.VariablesArguments> = {}) =>
  (await dc.variablesRequest({ variablesReference: ref, ...extra })).body.variables;
const byName = (vs: DebugProtocol.Variable[], name: string) => {
  const v = vs.find((x) => x.name === name);
  assert.ok(v, `no variable ${name} in ${vs.map((x) => x.name).join(', ')}`);
  return v;
};

const METRIC_V1 = `// accuracy over the first model output (predictions is a tuple)
export function computeMetrics(evalPred: any) {
  const preds = evalPred.predictions[0].argmax(-1);
  const labels = evalPred.labelIds;
  let hit = 0;
  for (let i = 0; i < labels.shape[0]; i++) if (preds.get(i) === labels.get(i)) hit++;
  return { accuracy: hit / labels.shape[0] };
}
`;

test('launch -> stop at compute_metrics -> tuple and -100-padded variables -> expressions -> continue -> edit -> rerunMetrics', () =>
  withAdapter(async (dc, dir) => {
    const ws = seqClsWorkspace(dir, { n: 10, extraOutputs: true });
    const metricFile = path.join(dir, 'metrics.ts');
    fs.writeFileSync(metricFile, METRIC_V1);
    const cache = path.join(dir, 'cache');
    const seen = outputs(dc);
    const stopped = dc.waitForEvent('stopped');
    const init = await launchWithProgress(dc, { model: ws.modelDir, dataset: ws.dataset, metrics: metricFile, cache, batchSize: 4, includeForMetrics: ['inputs'] }, async () => {
      // A line breakpoint in a TS metric is a real one (test/adapter/nodeDebug.test.ts): bound once the metric's process runs it.
      const r = await dc.setBreakpointsRequest({ source: { path: metricFile }, breakpoints: [{ line: 5 }] });
      assert.equal(r.body.breakpoints[0].verified, false);
      assert.match(r.body.breakpoints[0].message ?? '', /bound when your metric runs/);
      await dc.setBreakpointsRequest({ source: { path: metricFile }, breakpoints: [] });
    });
    for (const cap of ['supportsConfigurationDoneRequest', 'supportsFunctionBreakpoints', 'supportsEvaluateForHovers', 'supportsRestartFrame', 'supportsExceptionInfoRequest', 'supportsCancelRequest']) {
      assert.equal((init.body as Record<string, unknown>)[cap], true, cap);
    }
    const stop = (await stopped) as DebugProtocol.StoppedEvent;
    assert.equal(stop.body.reason, 'breakpoint');
    assert.equal((await dc.threadsRequest()).body.threads.length, 1);

    // The frame is the user's function at its definition line (line 2 of METRIC_V1).
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const frame = st.body.stackFrames[0];
    assert.equal(frame.name, 'computeMetrics(evalPred)', 'the frame names the parameter as the user does');
    assert.equal(frame.source?.path, metricFile);
    assert.equal(frame.line, 2);

    const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
    assert.deepEqual(scopes.map((s) => s.name), ['evalPred', 'sample', 'run'], 'the EvalPrediction scope is named as the function names its parameter');
    assert.equal(scopes[2].expensive, true);
    const run = await vars(dc, scopes[2].variablesReference);
    assert.equal(byName(run, 'cacheDir').value, cache);
    assert.equal(byName(run, 'fromCache').value, 'False');
    const sample = await vars(dc, scopes[1].variablesReference);
    assert.equal(byName(sample, 'index').value, '0');
    assert.equal(byName(sample, 'input').value, JSON.stringify(ws.texts[0]));
    // Row 0's label is 0 (fixture: i % numLabels), shown through the model's id2label.
    const id2label = JSON.parse(fs.readFileSync(path.join(ws.modelDir, 'config.json'), 'utf8')).id2label as Record<string, string>;
    assert.equal(byName(sample, 'label').value, JSON.stringify(id2label['0']));

    // NumPy's view of the cache the run wrote.
    const np = JSON.parse(
      runPython(
        `import json, numpy as np\nm=json.load(open('manifest.json'))['eval_prediction']\n` +
          `p0=np.load(m['predictions']['tuple'][0]['npy']); p1=np.load(m['predictions']['tuple'][1]['npy'])\n` +
          `l=np.load(m['label_ids']['npy']); x=np.load(m['inputs']['npy'])\n` +
          `print(json.dumps({'p0': p0.tolist(), 'p1shape': list(p1.shape), 'xshape': list(x.shape), 'pad': int((x==-100).sum()), ` +
          `'acc': float(np.mean(np.argmax(p0,-1)==l)), 'am': np.argmax(p0,-1).tolist()}))`,
        ['numpy'],
        cache,
      ),
    ) as { p0: number[][]; p1shape: number[]; xshape: number[]; pad: number; acc: number; am: number[] };
    assert.ok(np.pad > 0, 'fixture sentences have different lengths, so inputs are -100 padded');

    const ep = await vars(dc, scopes[0].variablesReference);
    assert.deepEqual(ep.map((v) => v.name), ['predictions', 'label_ids', 'inputs', 'losses']);
    const preds = byName(ep, 'predictions');
    assert.equal(preds.value, `tuple(float32[10, 3], float32[${np.p1shape.join(', ')}])`);
    assert.equal(preds.indexedVariables, 2);
    assert.equal(byName(ep, 'losses').value, 'None');
    const members = await vars(dc, preds.variablesReference, { filter: 'indexed', start: 0, count: 2 });
    assert.deepEqual(members.map((m) => [m.name, m.value, m.evaluateName]), [
      ['[0]', 'float32[10, 3]', 'predictions[0]'],
      ['[1]', `float32[${np.p1shape.join(', ')}]`, 'predictions[1]'],
    ]);
    assert.equal(members[0].indexedVariables, 10);
    const page = await vars(dc, members[0].variablesReference, { filter: 'indexed', start: 3, count: 4 });
    assert.deepEqual(page.map((r) => r.name), ['[3]', '[4]', '[5]', '[6]']);
    page.forEach((r, k) => {
      const nums = JSON.parse(r.value) as number[];
      nums.forEach((v, j) => assert.ok(Math.abs(v - np.p0[3 + k][j]) < 1e-6, `row ${3 + k}`));
    });

    const inputs = byName(ep, 'inputs');
    assert.equal(inputs.value, `int64[${np.xshape.join(', ')}]`);
    const named = await vars(dc, inputs.variablesReference, { filter: 'named' });
    const stats = byName(named, 'statistics');
    assert.equal(stats.presentationHint?.lazy, true);
    const statValue = (await vars(dc, stats.variablesReference))[0].value;
    assert.match(statValue, new RegExp(`-100 ×${np.pad}\\b`));
    const row1 = (await vars(dc, inputs.variablesReference, { filter: 'indexed', start: 1, count: 1 }))[0];
    const decoded = byName(await vars(dc, row1.variablesReference, { filter: 'named' }), 'decoded');
    assert.equal(decoded.presentationHint?.lazy, true);
    assert.equal((await vars(dc, decoded.variablesReference))[0].value, `'${ws.texts[1]}'`);

    // Another sample: the scope follows the selected index.
    const inv = dc.waitForEvent('invalidated');
    await dc.customRequest(DapRequests.SelectSample, { index: 2 } satisfies SelectSampleArguments);
    await inv;
    const sample2 = await vars(dc, (await dc.scopesRequest({ frameId: frame.id })).body.scopes[1].variablesReference);
    assert.equal(byName(sample2, 'input').value, JSON.stringify(ws.texts[2]));

    // Debug Console expressions in the safe language (':'; a bare line is JavaScript for a TS metric).
    const ev = async (expression: string) => (await dc.evaluateRequest({ expression: `:${expression}`, context: 'repl', frameId: frame.id })).body;
    assert.equal((await ev('predictions[0].shape')).result, '(10, 3)');
    assert.equal((await ev('count(inputs == -100)')).result, String(np.pad));
    assert.equal((await ev('decode(inputs[1])')).result, `'${ws.texts[1]}'`);
    assert.equal((await ev('argmax(predictions[0], -1)')).result, `int64[10] [${np.am.slice(0, 3).join(', ')}, ..., ${np.am.slice(7).join(', ')}]`);
    const big = await ev('eval_pred.predictions[0]');
    assert.ok(big.variablesReference > 0);
    await assert.rejects(ev('predictions.shape'), /tuple/);
    const hover = await dc.evaluateRequest({ expression: 'label_ids[-1]', context: 'hover', frameId: frame.id });
    assert.equal(hover.body.result, String(9 % 3)); // fixture labels are i % numLabels

    // Bounded (issue 9 item 4): a pasted 5,000-character expression is refused, bad paging is a clear error
    // (no stack), a huge count is clamped to what exists, and older results are released.
    await assert.rejects(ev(`label_ids[0]${' + 0'.repeat(1250)}`), /the expression is 5012 characters long; the Debug Console takes expressions of up to 4096 characters/);
    for (const [start, want] of [[-1, /"start" must be a whole number >= 0, got -1/], [0.5, /"start" must be a whole number >= 0, got 0\.5/]] as const) {
      await assert.rejects(vars(dc, big.variablesReference, { filter: 'indexed', start, count: 2 }), (e: Error) => {
        assert.match(e.message, want);
        assert.doesNotMatch(e.message, /\n\s+at /);
        return true;
      });
    }
    assert.equal((await vars(dc, big.variablesReference, { filter: 'indexed', start: 0, count: 1e12 })).length, 10);
    for (let k = 0; k < 10; k++) await ev(`predictions[0][${k}]`);
    assert.deepEqual(await vars(dc, big.variablesReference, { filter: 'indexed', start: 0, count: 2 }), [], 'the 11th-newest result is released');

    // continue: the metric runs on the cache, the JSON is printed, and we stop at the boundary again.
    const again = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.equal(((await again) as DebugProtocol.StoppedEvent).body.reason, 'breakpoint');
    const first = await waitFor(() => seen.find((s) => s.startsWith('metrics')), 'metrics output');
    const m1 = JSON.parse(first.slice(first.indexOf('{'), first.lastIndexOf('}') + 1));
    assert.ok(Math.abs(m1.eval_accuracy - np.acc) < 1e-12);

    // Edit the file, rerun the metric only: new metrics, a diff, and an invalidated event.
    fs.writeFileSync(metricFile, METRIC_V1.replace('return { accuracy: hit / labels.shape[0] };', 'return { accuracy: hit / labels.shape[0], errors: labels.shape[0] - hit };'));
    const invalidated = dc.waitForEvent('invalidated');
    const rerun = await dc.customRequest(DapRequests.RerunMetrics);
    assert.equal(rerun.body.metrics.eval_errors, Math.round(10 - np.acc * 10));
    assert.ok(Math.abs(rerun.body.metrics.eval_accuracy - np.acc) < 1e-12);
    await invalidated;
    await waitFor(() => seen.some((s) => /changes since the previous run:\n\s+\+ eval_errors: \d+/.test(s)), 'diff output');
  }));

test('a cached run (same model, dataset and settings) stops at the boundary without running the model again', async () => {
  // How fast that stop is lives in bench/ (debugPaging); here: the second launch loads the cache and runs no loop.
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 8 });
    const args = { model: ws.modelDir, dataset: ws.dataset, cwd: dir };
    for (const round of [1, 2]) {
      const dc = new DebugClient('node', ADAPTER, 'evalpred');
      dc.defaultTimeout = 20000; // as test/adapter/client.ts: the first round runs the model on a shared, loaded machine
      await dc.start();
      try {
        const seen = outputs(dc);
        let progress = 0;
        dc.on('progressUpdate', () => progress++);
        const stopped = dc.waitForEvent('stopped');
        await launchWithProgress(dc, args);
        await stopped;
        if (round === 1) assert.ok(progress > 0, 'the first run reports loop progress');
        if (round === 2) {
          assert.ok(seen.some((s) => /loaded cached predictions/.test(s)), seen.join(''));
          assert.equal(progress, 0, 'the cached run must not run the loop');
        }
      } finally {
        await dc.stop().catch(() => undefined);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a metric that throws stops with reason exception at the user\'s line, with the stack in exceptionInfo', () =>
  withAdapter(async (dc, dir) => {
    const ws = seqClsWorkspace(dir, { n: 6 });
    const metricFile = path.join(dir, 'bad.ts');
    fs.writeFileSync(metricFile, `export function computeMetrics(p: any) {\n  const n = p.labelIds.shape[0];\n  throw new Error('boom at ' + n);\n}\n`);
    const first = dc.waitForEvent('stopped');
    await launchWithProgress(dc, { model: ws.modelDir, dataset: ws.dataset, metrics: metricFile, cwd: dir });
    await first;
    const exc = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    const stop = (await exc) as DebugProtocol.StoppedEvent;
    assert.equal(stop.body.reason, 'exception');
    const top = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(top.source?.path, metricFile);
    assert.equal(top.line, 3);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.match(info.body.description ?? '', /boom at 6/);
    assert.match(info.body.details?.stackTrace ?? '', /boom at 6/);
    // Still paused with the data: expressions keep working after the error.
    assert.equal((await dc.evaluateRequest({ expression: ':len(label_ids)', context: 'repl' })).body.result, '6');
    // Fix the file and restart the frame: only the metric reruns, and we stop again (reason restart).
    const seen = outputs(dc);
    fs.writeFileSync(metricFile, `export function computeMetrics(p: any) {\n  return { n: p.labelIds.shape[0] };\n}\n`);
    const restarted = dc.waitForEvent('stopped');
    const invalidated = dc.waitForEvent('invalidated');
    await dc.restartFrameRequest({ frameId: top.id });
    assert.equal(((await restarted) as DebugProtocol.StoppedEvent).body.reason, 'restart');
    await invalidated;
    await waitFor(() => seen.some((s) => /"eval_n":6\b/.test(s)), `metrics after restartFrame in ${JSON.stringify(seen)}`, 3000);
    assert.equal((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].line, 1);
  }));

test('terminate mid-loop stops the worker and ends the session; disconnect exits the adapter', () =>
  withAdapter(async (dc, dir) => {
    const ws = seqClsWorkspace(dir, { n: 400 });
    const update = dc.waitForEvent('progressUpdate');
    await launchWithProgress(dc, { model: ws.modelDir, dataset: ws.dataset, batchSize: 1, cache: path.join(dir, 'cache') });
    await update; // the loop is running
    const terminated = dc.waitForEvent('terminated');
    const t0 = Date.now();
    await dc.terminateRequest();
    await terminated;
    assert.ok(Date.now() - t0 < 3000, `terminate took ${Date.now() - t0} ms`);
    assert.equal(fs.existsSync(path.join(dir, 'cache', 'manifest.json')), false);
    // The adapter process exits on disconnect (no worker or metric runner keeps it alive).
    const proc = (dc as unknown as { _adapterProcess: import('node:child_process').ChildProcess })._adapterProcess;
    assert.equal(proc.exitCode, null, 'the adapter must survive terminate');
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    await dc.disconnectRequest({});
    assert.equal(await exited, 0);
  }));

test('a Python compute_metrics that raises stops at the raising line of the .py file, on a cache opened alone', () =>
  withAdapter(async (dc, dir) => {
    const cache = path.join(dir, 'cache');
    const preds = Tensor.from('float32', [3, 2], [0.1, 0.9, 0.8, 0.2, 0.3, 0.7]);
    const labels = Tensor.from('int64', [3], [1, 0, -100]);
    writeCache(cache, { predictions: preds, labelIds: labels, inputs: null, losses: null }, { numSamples: 3, key: 'py-error', producer: {} });
    const metricFile = path.join(dir, 'metrics.py');
    fs.writeFileSync(metricFile, `import numpy as np\n\ndef compute_metrics(eval_pred):\n    logits, labels = eval_pred\n    return {"bad": 1 / 0}\n`);
    const first = dc.waitForEvent('stopped');
    await launchWithProgress(dc, { cache, metrics: metricFile });
    await first;
    const boundary = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(boundary.name, 'compute_metrics(eval_pred)');
    assert.equal(boundary.line, 3);
    const exc = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.equal(((await exc) as DebugProtocol.StoppedEvent).body.reason, 'exception');
    const top = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(top.source?.path, metricFile);
    assert.equal(top.line, 5);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'ZeroDivisionError');
    assert.match(info.body.details?.stackTrace ?? '', /line 5/);
  }));

test('cancel mid-loop: progress is cancellable, a function breakpoint "batch 2" pauses the loop, cancel ends it and leaves no cache', () =>
  withAdapter(async (dc, dir) => {
    const ws = seqClsWorkspace(dir, { n: 40 });
    const cache = path.join(dir, 'cache');
    const progress = dc.waitForEvent('progressStart');
    const stopped = dc.waitForEvent('stopped');
    await launchWithProgress(dc, { model: ws.modelDir, dataset: ws.dataset, batchSize: 2, cache }, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'batch 2' }, { name: 'nonsense' }] });
      assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [true, false]);
    });
    const start = (await progress) as DebugProtocol.ProgressStartEvent;
    assert.equal(start.body.cancellable, true);
    const stop = (await stopped) as DebugProtocol.StoppedEvent;
    assert.equal(stop.body.reason, 'breakpoint');
    assert.match(stop.body.description ?? '', /after batch 2 of 20/);
    const terminated = dc.waitForEvent('terminated');
    await dc.customRequest('cancel', { progressId: start.body.progressId });
    await terminated;
    assert.equal(fs.existsSync(path.join(cache, 'manifest.json')), false);
  }));

test('BAD LAUNCH - a missing dataset, a path that does not exist, a wrong type: error responses naming the field, no crash', () =>
  withAdapter(async (dc, dir) => {
    const ws = seqClsWorkspace(dir, { n: 4 });
    await dc.initializeRequest();
    const bad = (args: Record<string, unknown>) => dc.launchRequest({ type: 'evalpred', request: 'launch', ...args } as DebugProtocol.LaunchRequestArguments);
    await assert.rejects(bad({ model: ws.modelDir }), /"dataset" is missing/);
    await assert.rejects(bad({ model: ws.modelDir, dataset: path.join(dir, 'nope.jsonl') }), /"dataset" is .*nope\.jsonl, which does not exist/);
    await assert.rejects(bad({ model: ws.modelDir, dataset: ws.dataset, batchSize: '8' }), /"batchSize" must be an integer >= 1, got "8"/);
    await assert.rejects(bad({ model: ws.modelDir, dataset: ws.dataset, includeForMetrics: ['logits'] }), /"includeForMetrics" must be a list of "inputs", "loss"/);
    // Still alive and answering.
    assert.equal((await dc.threadsRequest()).body.threads.length, 1);
  }));

test('paging a 1,000,000 x 2 tensor from a cache opened alone: the first page comes fast and rows are views', () =>
  withAdapter(async (dc, dir) => {
    const n = 1_000_000;
    const data = new Float32Array(n * 2);
    for (let i = 0; i < data.length; i++) data[i] = i * 0.5; // row r = [r, r + 0.5]
    const cache = path.join(dir, 'big');
    writeCache(cache, { predictions: new Tensor('float32', [n, 2], data), labelIds: null, inputs: null, losses: null }, { numSamples: n, key: 'paging-test', producer: {} });
    const stopped = dc.waitForEvent('stopped');
    await launchWithProgress(dc, { cache });
    await stopped;
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(frame.source, undefined, 'no metric file: a frame without source');
    const scope = (await dc.scopesRequest({ frameId: frame.id })).body.scopes[0];
    const preds = byName(await vars(dc, scope.variablesReference), 'predictions');
    assert.equal(preds.value, 'float32[1000000, 2]');
    assert.equal(preds.indexedVariables, n);
    const t0 = performance.now();
    const page = await vars(dc, preds.variablesReference, { filter: 'indexed', start: 999_900, count: 100 });
    const ms = performance.now() - t0;
    assert.equal(page.length, 100);
    assert.equal(page[0].name, '[999900]');
    assert.equal(page[0].value, '[999900.0, 999900.5]');
    assert.equal(page[99].evaluateName, 'predictions[999999]');
    assert.ok(ms < 500, `first page took ${ms.toFixed(0)} ms`);
    // Without a filter the client still gets a bounded list (named + at most 100 rows), never a million.
    const all = await vars(dc, preds.variablesReference);
    assert.ok(all.length <= 103, `unfiltered children: ${all.length}`);
  }));
