// Line debugging of a Python metric through the bundled adapter (issue 10's figures), on a warm cache of
// 2,000 samples: F5 (the adapter process starts) -> the first stop on a line inside compute_metrics (the boundary stop, then continue
// as a user presses F5 twice), save -> the line stop of the rerun, and evaluate latency in the paused frame.
// Baselines in the same run: a plain `python3 metric.py` on the same arrays (what a script user waits for),
// and the safe expression language at the boundary (evaluated in the adapter, no Python). Aims: < 1 s,
// < 300 ms, < 50 ms. Run `node esbuild.mjs` first (dist/debugAdapter.js); needs a Python with NumPy and debugpy.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../src/core/cache/store';
import { distFile } from '../src/core/paths';
import { Tensor } from '../src/core/tensor/tensor';
import { DapRequests, StatsResponse, TimelineMark } from '../src/shared/dapProtocol';
import { epochMs } from '../src/debug/startupTimeline';
import { median, printTable, printTimeline, timeIt } from './util';

const N = 2000;
const ROUNDS = 5;
const METRIC = (k: number) => `import numpy as np

def compute_metrics(eval_preds):
    preds, labels = eval_preds
    decoded = preds.argmax(-1)
    hits = int((decoded == labels).sum())
    return {"accuracy": hits / len(labels), "version": ${k}}
`;
const LINE = 6; // hits = ...

function python(): string {
  for (const p of [process.env.EVALPRED_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    try {
      execFileSync(p, ['-c', 'import numpy, debugpy'], { stdio: 'ignore' });
      return p;
    } catch {
      /* next */
    }
  }
  throw new Error('no Python with numpy and debugpy (apt-get install python3-numpy python3-debugpy)');
}

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-pydebug-'));
  const py = python();
  try {
    const preds = new Float32Array(N * 2).map((_, i) => Math.sin(i));
    const labels = Array.from({ length: N }, (_, i) => i % 2);
    const cache = path.join(dir, 'cache');
    writeCache(cache, { predictions: new Tensor('float32', [N, 2], preds), labelIds: Tensor.from('int64', [N], labels), inputs: null, losses: null }, { numSamples: N, key: 'bench-pydebug', producer: {} });
    const metrics = path.join(dir, 'metrics.py');
    fs.writeFileSync(metrics, METRIC(0));

    // Baseline: the same function in a fresh interpreter, on the cached arrays (a user's script).
    const script = path.join(dir, 'plain.py');
    fs.writeFileSync(script, `import numpy as np, runpy\nm = runpy.run_path(${JSON.stringify(metrics)})\np = np.load(${JSON.stringify(path.join(cache, 'predictions.npy'))})\nl = np.load(${JSON.stringify(path.join(cache, 'label_ids.npy'))})\nprint(m["compute_metrics"]((p, l)))\n`);
    const plainTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) plainTimes.push(await timeIt(() => execFileSync(py, [script], { stdio: 'ignore' })));
    const plain = median(plainTimes);

    const toBoundary: number[] = [];
    const toLine: number[] = [];
    const saveToLine: number[] = [];
    const evalInFrame: number[] = [];
    const evalSafe: number[] = [];
    const evalArray: number[] = [];
    const timelines: { t0: number; marks: TimelineMark[] }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      fs.writeFileSync(metrics, METRIC(0));
      const dc = new DebugClient('node', distFile('debugAdapter.js'), 'evalpred');
      dc.defaultTimeout = 60_000;
      // F5 starts the adapter process: the times below count from here.
      const f5 = epochMs();
      const t0 = performance.now();
      await dc.start();
      try {
        const marks: TimelineMark[] = [{ name: 'client: initialize sent', at: epochMs() }];
        const boundary = dc.waitForEvent('stopped');
        const initialized = dc.waitForEvent('initialized');
        await dc.initializeRequest({ adapterID: 'evalpred', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
        const launched = dc.launchRequest({ cache, metrics, python: py } as DebugProtocol.LaunchRequestArguments);
        await initialized;
        await dc.setBreakpointsRequest({ source: { path: metrics }, breakpoints: [{ line: LINE }] });
        await dc.configurationDoneRequest();
        await launched;
        await boundary;
        const t1 = performance.now();
        toBoundary.push(t1 - t0);
        for (let k = 0; k < 10; k++) evalSafe.push(await timeIt(() => dc.evaluateRequest({ expression: ':predictions.shape', context: 'repl' })));
        const hit = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
        const t2 = performance.now();
        marks.push({ name: 'client: continue sent', at: epochMs() });
        await dc.continueRequest({ threadId: 1 });
        const stop = await hit;
        marks.push({ name: 'client: line stop received', at: epochMs() });
        toLine.push(t1 - t0 + (performance.now() - t2));
        const stats = (await dc.customRequest(DapRequests.Stats)).body as StatsResponse;
        timelines.push({ t0: f5, marks: [...marks, ...stats.timeline] });
        const frame = (await dc.stackTraceRequest({ threadId: stop.body.threadId! })).body.stackFrames[0];
        if (frame.line !== LINE) throw new Error(`stopped on line ${frame.line}, not ${LINE}`);
        for (let k = 0; k < 10; k++) evalInFrame.push(await timeIt(() => dc.evaluateRequest({ expression: 'decoded[:3].tolist()', frameId: frame.id, context: 'repl' })));
        // An array result gets evalpred's summary (statistics over its N x 2 floats) as its value.
        for (let k = 0; k < 10; k++) evalArray.push(await timeIt(() => dc.evaluateRequest({ expression: 'preds', frameId: frame.id, context: 'repl' })));
        let back = dc.waitForEvent('stopped');
        await dc.continueRequest({ threadId: stop.body.threadId! });
        await back;
        // Save -> line stop: the extension's rerun on save is the rerunMetrics request.
        fs.writeFileSync(metrics, METRIC(r + 1));
        const again = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
        const t3 = performance.now();
        const rerun = dc.customRequest(DapRequests.RerunMetrics);
        const s2 = await again;
        saveToLine.push(performance.now() - t3);
        back = dc.waitForEvent('stopped');
        await dc.continueRequest({ threadId: s2.body.threadId! });
        await rerun;
        await back;
      } finally {
        await dc.stop().catch(() => undefined);
      }
    }
    const verdict = (v: number, aim: number) => (v < aim ? `ok (< ${aim} ms)` : `MISSED (aim < ${aim} ms)`);
    const line = median(toLine);
    const save = median(saveToLine);
    const ev = median(evalInFrame);
    printTable(`Python line debugging, float32[${N}, 2] warm cache (median of ${ROUNDS} sessions)`, [
      ['F5 (adapter start) -> boundary stop', median(toBoundary), '', ''],
      ['F5 (adapter start) -> stop on a line inside compute_metrics', line, `${(line / plain).toFixed(2)}x`, verdict(line, 1000)],
      ['  baseline: python3 metric.py on the same arrays', plain, '1.00x', ''],
      ['save -> line stop on rerun', save, '', verdict(save, 300)],
      ['evaluate in the paused frame (median of 10/session)', ev, `${(ev / median(evalSafe)).toFixed(2)}x`, verdict(ev, 50)],
      [`  an array, with evalpred's summary (float32[${N}, 2])`, median(evalArray), `${(median(evalArray) / median(evalSafe)).toFixed(2)}x`, verdict(median(evalArray), 50)],
      ['  baseline: safe expression at the boundary', median(evalSafe), '1.00x', ''],
    ]);
    printTimeline(`F5 -> line stop, per phase (median of ${ROUNDS} sessions; t0 = the client starts the adapter; the client continues at the boundary stop at once)`, timelines);
    process.stdout.write(`  (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores)\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
