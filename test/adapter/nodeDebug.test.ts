// Line-level debugging of a TS computeMetrics through evalpred's own adapter (dist/debugAdapter.js), as any DAP
// client (VS Code, Neovim, Emacs, JetBrains) drives it: the metric's process runs with the Node inspector on
// 127.0.0.1, breakpoints on the user's .ts lines are mapped through the bundle's source map, locals are the
// user's, evaluate is JavaScript in the paused frame, next/stepIn/stepOut move by lines, exception breakpoints
// stop where the metric throws, continue ends in the metrics. The Python twin is ./pythonDebug.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../../src/core/cache/store';
import { Tensor } from '../../src/core/tensor/tensor';
import { launch, withAdapter } from './client';

// Lines of METRIC, 1-based, for the assertions below.
const METRIC = `import { share } from './helper';

// argmax of each row against the label
export function computeMetrics(evalPreds: any) {
  const [preds, labels] = evalPreds;
  const decoded = preds.argmax(-1);
  let hits = 0;
  for (let i = 0; i < labels.size; i++) if (decoded.at(i) === labels.at(i)) hits++;
  // a comment line: a breakpoint here moves to the next line with code
  const acc = share(hits, labels.size);
  return { accuracy: acc, hits };
}
`;
const HELPER = `export function share(part: number, whole: number): number {
  const ratio = part / whole;
  return ratio;
}
`;

/** A 4-sample cache (argmax rows 0, 1, 0, 0 against labels 0, 1, 0, 1: 3 hits) and the metric files. */
function workspace(dir: string, metric = METRIC): { cache: string; metrics: string; helper: string } {
  const cache = path.join(dir, 'cache');
  const preds = Tensor.from('float32', [4, 2], [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.6, 0.4]);
  const labels = Tensor.from('int64', [4], [0, 1, 0, 1]);
  writeCache(cache, { predictions: preds, labelIds: labels, inputs: null, losses: null }, { numSamples: 4, key: 'ts-debug', producer: {} });
  const metrics = path.join(dir, 'metrics.ts');
  fs.writeFileSync(metrics, metric);
  const helper = path.join(dir, 'helper.ts');
  fs.writeFileSync(helper, HELPER);
  return { cache, metrics, helper };
}

async function launchToBoundary(dc: DebugClient, args: Record<string, unknown>, configure: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const boundary = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await launch(dc, args, configure);
  return boundary;
}

async function frames(dc: DebugClient): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

async function evaluate(dc: DebugClient, expression: string, frameId?: number): Promise<string> {
  return (await dc.evaluateRequest({ expression, frameId, context: 'repl' })).body.result;
}

/** Run a request that resumes the metric and wait for the next stop. */
async function resumeTo(dc: DebugClient, go: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await go();
  return hit;
}

test('TS: a breakpoint inside computeMetrics stops on its .ts line; locals, evaluate in the frame, next, stepIn/stepOut, continue to the metrics', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics, helper } = workspace(dir);
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    const changed: DebugProtocol.Breakpoint[] = [];
    dc.on('breakpoint', (e: DebugProtocol.BreakpointEvent) => changed.push(e.body.breakpoint));
    let first: DebugProtocol.Breakpoint[] = [];
    await launchToBoundary(dc, { cache, metrics }, async () => {
      first = (await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 7 }] })).body.breakpoints;
    });
    assert.equal(first[0].verified, false, 'before the metric first runs there is no bundle to bind to');
    const stop = await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(stop.body.reason, 'breakpoint');
    assert.ok(changed.some((b) => b.id === first[0].id && b.verified && b.line === 7), `bound when the metric ran: ${JSON.stringify(changed)}`);
    let fs1 = await frames(dc);
    assert.equal(fs1[0].name, 'computeMetrics');
    assert.equal(fs1[0].line, 7);
    assert.equal(fs1[0].source?.path, metrics);
    assert.equal(fs1.at(-1)!.presentationHint, 'label', 'the Trainer call is a label frame under the user\'s');
    assert.match(fs1.at(-1)!.name, /Trainer\.evaluate → computeMetrics/);
    assert.equal(fs1.length, 2, `only the user's frame and the label: ${fs1.map((f) => f.name)}`);
    // Locals under the user's own names, tensors with our summary, and JavaScript in the frame.
    const scopes = (await dc.scopesRequest({ frameId: fs1[0].id })).body.scopes;
    assert.equal(scopes[0].name, 'Local');
    const locals = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
    const names = locals.map((v) => v.name);
    for (const name of ['evalPreds', 'preds', 'labels', 'decoded']) assert.ok(names.includes(name), `${name} in ${names}`);
    const decoded = locals.find((v) => v.name === 'decoded')!;
    assert.equal(decoded.value, 'int64[4] [0, 1, 0, 0]');
    assert.ok(decoded.variablesReference > 0);
    assert.equal(await evaluate(dc, 'labels.size', fs1[0].id), '4');
    assert.equal(await evaluate(dc, 'decoded.at(1) + labels.at(3)', fs1[0].id), '2');
    assert.equal(await evaluate(dc, 'evalPreds.predictions.shape.join("x")', fs1[0].id), '"4x2"');
    await assert.rejects(dc.evaluateRequest({ expression: 'nope.x', frameId: fs1[0].id, context: 'repl' }), /nope is not defined/);
    // next: the following line; next again skips the comment line.
    await resumeTo(dc, () => dc.nextRequest({ threadId: 1 }));
    assert.equal((await frames(dc))[0].line, 8);
    await resumeTo(dc, () => dc.nextRequest({ threadId: 1 }));
    assert.equal((await frames(dc))[0].line, 10);
    assert.equal(await evaluate(dc, 'hits', (await frames(dc))[0].id), '3');
    // stepIn: into the helper module the metric imports; stepOut: back.
    const into = await resumeTo(dc, () => dc.stepInRequest({ threadId: 1 }));
    assert.equal(into.body.reason, 'step');
    fs1 = await frames(dc);
    assert.equal(fs1[0].source?.path, helper);
    assert.equal(fs1[0].line, 2);
    assert.equal(fs1[1].source?.path, metrics);
    await resumeTo(dc, () => dc.stepOutRequest({ threadId: 1 }));
    assert.equal((await frames(dc))[0].source?.path, metrics);
    // continue: the metric ends, the metrics are printed, and the session is back at the boundary.
    const back = await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(back.body.threadId, 1);
    assert.match(out.join(''), /"eval_accuracy":\s*0\.75\b/);
    assert.equal((await frames(dc))[0].line, 4, 'the boundary frame is the function\'s line');
  }));

test('TS: conditional breakpoints, logpoints, hit counts and a breakpoint in an imported module', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics, helper } = workspace(dir);
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await launchToBoundary(dc, { cache, metrics }, async () => {
      await dc.setBreakpointsRequest({
        source: { path: metrics },
        breakpoints: [{ line: 8, logMessage: 'rows={labels.size} first={decoded.at(0)}' }, { line: 10, condition: 'hits === 99' }],
      });
      await dc.setBreakpointsRequest({ source: { path: helper }, breakpoints: [{ line: 3, condition: 'ratio > 0.5' }] });
    });
    const stop = await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    const fs1 = await frames(dc);
    assert.equal(fs1[0].source?.path, helper, 'the false condition on line 10 did not stop; the true one in helper.ts did');
    assert.equal(fs1[0].line, 3);
    assert.equal(await evaluate(dc, 'ratio', fs1[0].id), '0.75');
    assert.ok(fs1.some((f) => f.name === 'computeMetrics' && f.line === 10), 'the caller frame is the metric at line 10');
    assert.deepEqual(stop.body.hitBreakpointIds?.length, 1);
    await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.match(out.join(''), /rows=4 first=0\n/);
    assert.ok(!/rows=4 first=0[\s\S]*"eval_accuracy"[\s\S]*rows=4 first=0/.test(out.join('')), 'the logpoint printed once, not again in the run output');
    // A hit count: the loop line stops on its 2nd hit only (a rerun with the same bundle keeps its binding).
    await dc.setBreakpointsRequest({ source: { path: helper }, breakpoints: [] });
    await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 11, hitCondition: '2' }] });
    let stops = 0;
    dc.on('stopped', () => stops++);
    const r1 = await dc.customRequest('rerunMetrics');
    assert.ok((r1.body as { metrics?: unknown }).metrics, 'first hit: no stop');
    const second = dc.waitForEvent('stopped');
    const r2 = dc.customRequest('rerunMetrics');
    await second;
    assert.equal((await frames(dc))[0].line, 11, 'second hit: stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.ok(((await r2).body as { metrics?: unknown }).metrics);
    assert.ok(stops >= 1);
  }));

test('TS: exception breakpoints — uncaught stops where the metric throws (not at a caught one), raised stops at every throw', () =>
  withAdapter(async (dc, dir) => {
    const metric = METRIC.replace('  return { accuracy: acc, hits };', '  try { JSON.parse("{"); } catch { /* handled */ }\n  const missing = (undefined as any).typo;\n  return { accuracy: acc, hits, missing };');
    const { cache, metrics } = workspace(dir, metric);
    await launchToBoundary(dc, { cache, metrics }, () => dc.setExceptionBreakpointsRequest({ filters: ['uncaught'] }));
    const stop = await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(stop.body.reason, 'exception');
    assert.match(stop.body.text ?? '', /TypeError/);
    let fs1 = await frames(dc);
    assert.equal(fs1[0].line, 12, 'the uncaught throw, not the JSON.parse caught on line 11');
    assert.equal(await evaluate(dc, 'hits', fs1[0].id), '3');
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'TypeError');
    const errorStop = await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(errorStop.body.reason, 'exception');
    assert.equal((await frames(dc))[0].line, 12, 'evalpred\'s own error stop is at the throwing line');
    // raised: the caught one stops too.
    await dc.setExceptionBreakpointsRequest({ filters: ['raised'] });
    const caught = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    const rerun = dc.customRequest('rerunMetrics');
    assert.equal((await caught).body.reason, 'exception');
    fs1 = await frames(dc);
    assert.equal(fs1[0].line, 11);
    await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal((await frames(dc))[0].line, 12);
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    await dc.continueRequest({ threadId: 1 });
    assert.match(((await rerun).body as { error?: string }).error ?? '', /TypeError/);
  }));

test('TS: edit + rerun keeps the breakpoints bound; a comment-line breakpoint moves to code; stepIn at the boundary stops on entry', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir);
    const changed: DebugProtocol.Breakpoint[] = [];
    dc.on('breakpoint', (e: DebugProtocol.BreakpointEvent) => changed.push(e.body.breakpoint));
    await launchToBoundary(dc, { cache, metrics }, () => dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 9 }] }));
    let stop = await resumeTo(dc, () => dc.stepInRequest({ threadId: 1 }));
    assert.equal(stop.body.reason, 'step');
    assert.equal((await frames(dc))[0].line, 5, 'on entry: the first line of computeMetrics');
    const moved = changed.find((b) => b.verified);
    assert.equal(moved?.line, 10, `the comment line's breakpoint moved to line 10: ${JSON.stringify(changed)}`);
    assert.match(moved?.message ?? '', /moved to line 10/);
    stop = await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal((await frames(dc))[0].line, 10);
    await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    // Edit the metric: a new line of code above the function shifts the whole bundle; the breakpoints follow.
    fs.writeFileSync(metrics, METRIC.replace('\n// argmax', '\nconst SCALE = 2;\n// argmax').replace('hits };', 'hits: hits * SCALE };'));
    const again = (await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 11 }] })).body.breakpoints;
    assert.equal(again[0].line, 11);
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    const rerun = dc.customRequest('rerunMetrics');
    stop = await hit;
    const fs1 = await frames(dc);
    assert.equal(fs1[0].line, 11);
    assert.equal(await evaluate(dc, 'hits * SCALE', fs1[0].id), '6');
    const back = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    assert.equal(((await rerun).body as { metrics: Record<string, number> }).metrics.eval_hits, 6);
    assert.equal((await back).body.threadId, 1, 'the client is told the session is paused at the boundary again');
    // A breakpoint in a file the metric never imports is unverified, with the reason.
    const stray = path.join(dir, 'unused.ts');
    fs.writeFileSync(stray, 'export const x = 1;\n');
    const b = (await dc.setBreakpointsRequest({ source: { path: stray }, breakpoints: [{ line: 1 }] })).body.breakpoints[0];
    assert.equal(b.verified, false);
    assert.match(b.message ?? '', /not part of metrics\.ts's bundle/);
  }));

test('TS: disconnect while paused inside the metric releases its process; the next session stops again', async () => {
  let metrics = '';
  let cache = '';
  let pid: number | undefined;
  await withAdapter(async (dc, dir) => {
    ({ cache, metrics } = workspace(dir));
    // Keep the files for the second session.
    const keep = fs.mkdtempSync(path.join(path.dirname(dir), 'evalpred-keep-'));
    for (const f of ['metrics.ts', 'helper.ts']) fs.copyFileSync(path.join(dir, f), path.join(keep, f));
    fs.cpSync(cache, path.join(keep, 'cache'), { recursive: true });
    metrics = path.join(keep, 'metrics.ts');
    cache = path.join(keep, 'cache');
    await launchToBoundary(dc, { cache, metrics }, () => dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 7 }] }));
    await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    pid = Number(await evaluate(dc, 'process.pid', (await frames(dc))[0].id));
    assert.ok(pid > 0 && isAlive(pid));
    await dc.disconnectRequest({});
  });
  try {
    for (let k = 0; k < 50 && isAlive(pid!); k++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(isAlive(pid!), false, 'the paused metric process is gone');
    await withAdapter(async (dc) => {
      await launchToBoundary(dc, { cache, metrics }, () => dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 7 }] }));
      await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal((await frames(dc))[0].line, 7);
    });
  } finally {
    fs.rmSync(path.dirname(metrics), { recursive: true, force: true });
  }
});

test('TS: `debugger;`, a worker thread and a forked process in the metric do not hang the session', () =>
  withAdapter(async (dc, dir) => {
    const metric = `import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';

export async function computeMetrics(p: any) {
  const child = execFileSync(process.execPath, ['-e', 'console.log(6 * 7)'], { encoding: 'utf8' }).trim();
  const fromThread = await new Promise((resolve) => {
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(2)', { eval: true });
    w.once('message', resolve);
  });
  debugger;
  return { child: Number(child), thread: fromThread, n: p.labelIds.size };
}
`;
    const { cache, metrics } = workspace(dir, metric);
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await launchToBoundary(dc, { cache, metrics }, async () => undefined);
    const stop = await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(stop.body.description, 'Paused on a debugger statement');
    const fs1 = await frames(dc);
    assert.equal(fs1[0].line, 10);
    assert.equal(await evaluate(dc, 'child', fs1[0].id), '"42"');
    await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.match(out.join(''), /"eval_child":\s*42[\s\S]*"eval_thread":\s*2/);
  }));

test('TS: a breakpoint set while the metric is already running binds in the running code and stops there', () =>
  withAdapter(async (dc, dir) => {
    const marker = path.join(dir, 'running');
    const metric = `import fs from 'node:fs';
export function computeMetrics(p: any) {
  fs.writeFileSync(${JSON.stringify(marker)}, 'x'); const until = Date.now() + 3000;
  let spins = 0;
  while (Date.now() < until) spins++;
  const n = p.labelIds.size;
  return { n, spun: spins > 0 ? 1 : 0 };
}
`;
    const { cache, metrics } = workspace(dir, metric);
    await launchToBoundary(dc, { cache, metrics }, async () => undefined);
    const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    for (let k = 0; k < 200 && !fs.existsSync(marker); k++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.existsSync(marker), 'the metric is spinning now');
    const b = (await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: 6 }] })).body.breakpoints[0];
    assert.equal(b.verified, true, JSON.stringify(b));
    assert.equal(b.line, 6);
    await hit;
    const fs1 = await frames(dc);
    assert.equal(fs1[0].line, 6);
    assert.ok(Number(await evaluate(dc, 'spins', fs1[0].id)) > 0);
    await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
  }));

test('TS: at the boundary the Debug Console speaks JavaScript in the metric\'s process: the parameter\'s own name, the exports; ":" keeps the safe language', () =>
  withAdapter(async (dc, dir) => {
    const { cache, metrics } = workspace(dir);
    await launchToBoundary(dc, { cache, metrics }, async () => undefined);
    assert.equal(await evaluate(dc, 'evalPreds.predictions.shape'), '[ 4, 2 ]');
    assert.equal(await evaluate(dc, 'evalPreds.labelIds'), 'int64[4] [0, 1, 0, 1]');
    assert.equal(await evaluate(dc, 'computeMetrics(evalPreds).hits'), '3', 'the module\'s exports');
    assert.equal(await evaluate(dc, 'const k = 2; k * 21'), '42', 'statements work');
    assert.match(await evaluate(dc, ':predictions.shape'), /4.*2/);
    assert.match(await evaluate(dc, 'help'), /JavaScript for a TS\/JS/);
    await assert.rejects(dc.evaluateRequest({ expression: 'evalPreds.labels', context: 'repl' }), /labelIds/);
    await resumeTo(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(await evaluate(dc, '1 + 1'), '2');
  }));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}
