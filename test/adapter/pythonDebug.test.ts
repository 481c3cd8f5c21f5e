// Line-level debugging of a Python compute_metrics through evalpred's own adapter (dist/debugAdapter.js), as
// any DAP client (VS Code, Neovim, Emacs, JetBrains) would drive it: breakpoints inside the function stop on
// their line, locals are the user's, evaluate is real Python in that frame, next/stepIn/stepOut move by
// lines, exception breakpoints stop where the exception is raised, continue ends in the metrics. debugpy is
// Debian's python3-debugpy (installed by .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../../src/core/cache/store';
import { statisticsText } from '../../src/core/expr';
import { tensorStats } from '../../src/core/tensor/stats';
import { Tensor } from '../../src/core/tensor/tensor';
import { loadTokenizerSync } from '../../src/core/text/tokenizer';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { GEN_VOCAB } from '../fixtures/generative';
import { writeTokenizerDir } from '../fixtures/tokenizers';
import { pythonWith } from '../helpers/python';
import { withAdapter } from './client';
import { evaluate, launchToBoundary, METRIC, topFrame, workspace } from './pythonMetric';

test('a breakpoint inside compute_metrics stops on its line; locals, evaluate in the frame, next, stepIn/stepOut, continue to the metrics', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics, helper } = workspace(dir);
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await launchToBoundary(dc, { cache, metrics }, async () => {
      const r = await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 7 }] });
      assert.equal(r.body.breakpoints.length, 1);
    });
    // Continue at the boundary runs the metric; the breakpoint on line 7 stops there, in the user's frame.
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const stop = await hit;
    assert.equal(stop.body.reason, 'breakpoint');
    const frames = await topFrame(dc, stop.body.threadId!);
    assert.equal(frames[0].name, 'compute_metrics');
    assert.equal(frames[0].line, 7);
    assert.equal(frames[0].source?.path, metrics);
    assert.equal(frames.at(-1)!.presentationHint, 'label', 'the Trainer call is a label frame under the user\'s');
    assert.ok(!frames.some((f) => f.source?.path?.endsWith('evalpred_worker.py')), 'the worker\'s frames are hidden');
    // Locals under the user's own parameter name, and real Python in the frame.
    const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
    const locals = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables.map((v) => v.name);
    for (const name of ['eval_preds', 'preds', 'labels', 'decoded']) assert.ok(locals.includes(name), `${name} in ${locals}`);
    assert.equal(await evaluate(dc, 'eval_preds[0].shape', frames[0].id), '(4, 2)');
    assert.equal(await evaluate(dc, 'np.where(decoded == labels)[0].tolist()', frames[0].id), '[0, 1, 2]');
    assert.equal(await evaluate(dc, "dict(a=1, b=(2, 3))['b']", frames[0].id), '(2, 3)');
    // next: the following line.
    let step = dc.waitForEvent('stopped');
    await dc.nextRequest({ threadId: stop.body.threadId! });
    await step;
    assert.equal((await topFrame(dc, stop.body.threadId!))[0].line, 8);
    // stepIn: into the helper module the metric imports; stepOut: back.
    step = dc.waitForEvent('stopped');
    await dc.stepInRequest({ threadId: stop.body.threadId! });
    await step;
    const inHelper = (await topFrame(dc, stop.body.threadId!))[0];
    assert.equal(inHelper.source?.path, helper);
    assert.equal(inHelper.line, 2);
    step = dc.waitForEvent('stopped');
    await dc.stepOutRequest({ threadId: stop.body.threadId! });
    await step;
    assert.equal((await topFrame(dc, stop.body.threadId!))[0].source?.path, metrics);
    // continue: the metric ends, the metrics are printed, and the session is back at the boundary.
    const back = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: stop.body.threadId! });
    assert.equal((await back).body.threadId, 1);
    assert.match(out.join(''), /"eval_accuracy":\s*0\.75\b/);
    assert.equal((await topFrame(dc, 1))[0].line, 4, 'the boundary frame is the def line');
  }));

test('conditional breakpoints, logpoints and breakpoints in an imported module', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics, helper } = workspace(dir);
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    let helperBp: DebugProtocol.Breakpoint | undefined;
    await launchToBoundary(dc, { cache, metrics }, async () => {
      await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 7, logMessage: 'hits so far: {hits if "hits" in dir() else "?"} rows={len(labels)}' }, { line: 8, condition: 'hits == 99' }] });
      helperBp = (await dc.setBreakpointsRequest({ source: { path: helper }, breakpoints: [{ line: 3, condition: 'ratio > 0.5' }] })).body.breakpoints[0];
    });
    assert.ok(helperBp);
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const stop = await hit;
    const frames = await topFrame(dc, stop.body.threadId!);
    assert.equal(frames[0].source?.path, helper, 'the false condition on line 8 did not stop; the true one in helper.py did');
    assert.equal(frames[0].line, 3);
    assert.equal(await evaluate(dc, 'ratio', frames[0].id), '0.75');
    assert.ok(frames.some((f) => f.name === 'compute_metrics' && f.line === 8), 'the caller frame is the metric at line 8');
    const back = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: stop.body.threadId! });
    await back;
    assert.match(out.join(''), /hits so far: \? rows=4/);
  }));

test('an exception breakpoint stops where the metric raises, in the user\'s frame; then the boundary shows the error', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir, METRIC.replace('    return {"accuracy"', '    missing = {}["typo"]\n    return {"accuracy"'));
    await launchToBoundary(dc, { cache, metrics }, () => dc.setExceptionBreakpointsRequest({ filters: ['uncaught'] }));
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const stop = await hit;
    assert.equal(stop.body.reason, 'exception');
    const frames = await topFrame(dc, stop.body.threadId!);
    assert.equal(frames[0].line, 9);
    assert.equal(await evaluate(dc, 'hits', frames[0].id), '3');
    const info = await dc.exceptionInfoRequest({ threadId: stop.body.threadId! });
    assert.match(info.body.exceptionId, /KeyError/);
    const errorStop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: stop.body.threadId! });
    assert.equal((await errorStop).body.reason, 'exception');
    assert.equal((await topFrame(dc, 1))[0].line, 9, 'evalpred\'s own error stop is at the raising line');
  }));

test('edit + rerun keeps the breakpoints bound; stepIn at the boundary stops on entry to compute_metrics', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir);
    await launchToBoundary(dc, { cache, metrics }, () => dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 9 }] }));
    let hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.stepInRequest({ threadId: 1 });
    let stop = await hit;
    assert.equal((await topFrame(dc, stop.body.threadId!))[0].line, 4, 'on entry: the def line');
    hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: stop.body.threadId! });
    stop = await hit;
    assert.equal((await topFrame(dc, stop.body.threadId!))[0].line, 9);
    let back = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: stop.body.threadId! });
    await back;
    // Edit the metric (same line count), rerun through the custom request: the breakpoint still binds.
    fs.writeFileSync(metrics, METRIC.replace('"hits": hits', '"hits": hits * 2'));
    hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    const rerun = dc.customRequest('rerunMetrics');
    stop = await hit;
    const frames = await topFrame(dc, stop.body.threadId!);
    assert.equal(frames[0].line, 9);
    assert.equal(await evaluate(dc, 'hits * 2', frames[0].id), '6');
    back = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: stop.body.threadId! });
    const r = await rerun;
    assert.equal((r.body as { metrics: Record<string, number> }).metrics.eval_hits, 6);
    // The client saw the thread run on in Python: it is told the session is paused at the boundary again.
    assert.equal(((await back) as DebugProtocol.StoppedEvent).body.threadId, 1);
    assert.equal((await topFrame(dc, 1))[0].line, 4);
  }));

test('a save-triggered rerun from the boundary that stops on a line breakpoint: continued for the boundary thread, then stopped (breakpoint)', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir);
    await launchToBoundary(dc, { cache, metrics }, () => dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 7 }] }));
    // The client shows the boundary stop ("Paused at compute_metrics(…)"). Saving the metric file makes the
    // extension send rerunMetrics, with no continue request: the adapter must say the boundary thread runs.
    const events: string[] = [];
    dc.on('continued', (e: DebugProtocol.ContinuedEvent) => events.push(`continued ${e.body.threadId}${e.body.allThreadsContinued ? ' all' : ''}`));
    dc.on('stopped', (e: DebugProtocol.StoppedEvent) => events.push(`stopped ${e.body.reason}`));
    fs.writeFileSync(metrics, METRIC.replace('"hits": hits', '"hits": hits * 2'));
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    const rerun = dc.customRequest('rerunMetrics');
    const stop = await hit;
    assert.deepEqual(events, ['continued 1 all', 'stopped breakpoint']);
    assert.equal((await topFrame(dc, stop.body.threadId!))[0].line, 7);
    // Continue in Python: the metric finishes and the session is announced back at the boundary.
    const back = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: stop.body.threadId! });
    assert.equal(((await rerun).body as { metrics: Record<string, number> }).metrics.eval_hits, 6);
    assert.equal(((await back) as DebugProtocol.StoppedEvent).body.reason, 'breakpoint');
    assert.equal((await topFrame(dc, 1))[0].line, 4);
    // debugpy's own `continued` for that Continue comes late (after the boundary stop): it must not reach the
    // client, which would then show the paused session as running. Its arrival is awaited with a margin.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(events.at(-1), 'stopped breakpoint', `events: ${events.join(', ')}`);
  }));

test('without debugpy in the interpreter: said once with the install command, breakpoints unverified with that reason, the metric still runs', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir);
    // An interpreter with NumPy whose debugpy cannot be imported (a stand-in module that fails, first on the path).
    const shadow = path.join(dir, 'no-debugpy');
    fs.mkdirSync(shadow);
    fs.writeFileSync(path.join(shadow, 'debugpy.py'), 'raise ImportError("No module named \'debugpy\'")\n');
    const python = path.join(dir, 'python-without-debugpy');
    fs.writeFileSync(python, `#!/bin/sh\nPYTHONPATH='${shadow}' exec '${pythonWith(['numpy'])}' "$@"\n`, { mode: 0o755 });
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    const changed: DebugProtocol.Breakpoint[] = [];
    dc.on('breakpoint', (e: DebugProtocol.BreakpointEvent) => changed.push(e.body.breakpoint));
    let first: DebugProtocol.Breakpoint[] = [];
    await launchToBoundary(dc, { cache, metrics, python }, async () => {
      first = (await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 7 }] })).body.breakpoints;
    });
    assert.equal(first[0].verified, false);
    assert.match(first[0].message ?? '', /bound when your metric runs/);
    for (let run = 0; run < 2; run++) {
      const back = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
      await dc.continueRequest({ threadId: 1 });
      await back;
      assert.equal((await topFrame(dc, 1))[0].line, 4, 'no stop inside the metric: back at the boundary (the def line)');
    }
    const said = out.join('');
    assert.equal(said.match(/debugpy is not importable/g)?.length, 1, 'said once');
    assert.ok(said.includes(`-m pip install debugpy`), said);
    assert.match(said, /"eval_accuracy":\s*0\.75\b/);
    assert.ok(changed.length >= 1 && changed.every((b) => !b.verified && /debugpy is not importable/.test(b.message ?? '')), JSON.stringify(changed));
  }));

test('breakpoint() in the metric stops there under the debugger; input() fails with a clear message instead of hanging', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir, METRIC.replace('    hits = int', '    breakpoint()\n    hits = int'));
    await launchToBoundary(dc, { cache, metrics }, async () => undefined);
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const stop = await hit;
    const frames = await topFrame(dc, stop.body.threadId!);
    assert.equal(frames[0].source?.path, metrics);
    assert.ok(frames[0].line === 7 || frames[0].line === 8, `stopped at the breakpoint() call, line ${frames[0].line}`);
    const back = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: stop.body.threadId! });
    await back;
    fs.writeFileSync(metrics, 'def compute_metrics(eval_preds):\n    name = input("label? ")\n    return {"n": 1}\n');
    const errorStop = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    const r = await dc.customRequest('rerunMetrics');
    assert.match((r.body as { error?: string }).error ?? '', /input\(\) is not available in compute_metrics/);
    assert.equal((await errorStop).body.reason, 'exception');
  }));

test('at the boundary the Debug Console speaks Python: the parameter\'s own name, np, the module\'s names; ":" keeps the safe language', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir);
    await launchToBoundary(dc, { cache, metrics }, async () => undefined);
    const repl = async (expression: string) => (await dc.evaluateRequest({ expression, context: 'repl' })).body.result;
    assert.equal(await repl('eval_preds.predictions.shape'), '(4, 2)');
    assert.equal(await repl('np.argmax(eval_preds.predictions, axis=-1).tolist()'), '[0, 1, 0, 0]');
    assert.equal(await repl('share(1, 4)'), '0.25', 'names the metric module defines or imports');
    assert.equal(await repl('dict(zip(["a", "b"], eval_preds.label_ids[:2].tolist()))'), "{'a': 0, 'b': 1}");
    assert.match(await repl(':predictions.shape'), /4.*2/);
    assert.match(await repl('help'), /safe expression language/);
    await assert.rejects(dc.evaluateRequest({ expression: 'eval_preds.prediction', context: 'repl' }), /AttributeError|prediction/);
    // The session still runs the metric afterwards.
    const back = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await back;
    assert.equal(await repl('1 + 1'), '2');
  }));

test('Variables in a paused frame show NumPy arrays with evalpred\'s summaries: shape, dtype, statistics, decoded token ids', () =>
  withAdapter(async (dc, dir) => {
    // Generated ids and -100-padded labels of a seq2seq run, and the model folder (its tokenizer) the manifest names.
    const model = path.join(dir, 'model');
    const wp = wordPieceTokenizerJson(GEN_VOCAB);
    writeTokenizerDir(model, wp.tokenizer, wp.tokenizerConfig);
    const cache = path.join(dir, 'cache');
    const preds = [2, 5, 6, 7, 3, 0, 2, 8, 3, 0, 0, 0];
    const labels = [5, 6, 7, 3, -100, -100, 8, 3, -100, -100, -100, -100];
    writeCache(cache, { predictions: Tensor.from('int64', [2, 6], preds), labelIds: Tensor.from('int64', [2, 6], labels), inputs: null, losses: null }, { numSamples: 2, key: 'py-summaries', producer: { model: { path: model } } });
    const metrics = path.join(dir, 'metrics.py');
    fs.writeFileSync(
      metrics,
      'import numpy as np\n\ndef compute_metrics(eval_preds):\n    preds, labels = eval_preds\n    scores = np.linspace(0, 1, 5, dtype=np.float32)\n    return {"n": len(preds)}\n',
    );
    await launchToBoundary(dc, { cache, metrics, predictWithGenerate: true }, () => dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 6 }] }));
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const stop = await hit;
    const frame = (await topFrame(dc, stop.body.threadId!))[0];
    assert.equal(frame.line, 6);
    const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
    const locals = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
    const byName = (vs: DebugProtocol.Variable[], name: string) => vs.find((v) => v.name === name) ?? assert.fail(`${name} in ${vs.map((v) => v.name)}`);
    // Statistics as the extension computes them (the same line as its own Variables view).
    const scores = byName(locals, 'scores');
    assert.equal(scores.value, `float32[5]  ${statisticsText(tensorStats(Tensor.from('float32', [5], [0, 0.25, 0.5, 0.75, 1])))}`);
    assert.match(scores.value, /min 0, max 1, mean 0\.5, std 0\.353553/);
    const labelVar = byName(locals, 'labels');
    assert.match(labelVar.value, /^int64\[2, 6\]  min -100, max \d+, .*-100 ×6$/);
    const kids = (await dc.variablesRequest({ variablesReference: labelVar.variablesReference })).body.variables;
    assert.deepEqual(kids.slice(0, 5).map((v) => v.name), ['shape', 'dtype', 'statistics', 'decoded', '[0]']);
    assert.equal(byName(kids, 'shape').value, '(2, 6)');
    assert.equal(byName(kids, 'dtype').value, 'dtype(\'int64\')');
    assert.equal(byName(kids, '[0]').evaluateName, 'labels[0]');
    // Decoded text of this model's tokenizer, as the extension decodes (-100 dropped, special tokens skipped).
    const tok = loadTokenizerSync(model);
    const row0 = tok.decode([5, 6, 7, 3], { skipSpecialTokens: true });
    assert.ok(row0.length > 0);
    assert.equal(byName(kids, '[0]').value, `int64[6] '${row0}'`);
    const decoded = (await dc.variablesRequest({ variablesReference: byName(kids, 'decoded').variablesReference })).body.variables;
    assert.deepEqual(['0', '1'].map((n) => byName(decoded, n).value), [`'${row0}'`, `'${tok.decode([8, 3], { skipSpecialTokens: true })}'`]);
    const stats = (await dc.variablesRequest({ variablesReference: byName(kids, 'statistics').variablesReference })).body.variables;
    assert.equal(byName(stats, 'minus100Count').value, '6');
    // Evaluate still answers Python's own repr (the summary is the Variables view's, not the value's).
    assert.equal(await evaluate(dc, 'preds.shape', frame.id), '(2, 6)');
    const back = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: stop.body.threadId! });
    await back;
  }));
