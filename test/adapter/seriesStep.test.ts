// "Debug compute_metrics on step N" from the series view: the launch it builds (stepLaunch) opens that step's
// cache in the bundled adapter, stops at the compute_metrics boundary of the series' metric file, and the
// metric then runs on that step's arrays (checked against NumPy on the step's own .npy files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { packageRoot } from '../../src/core/paths';
import { stepLaunch } from '../../src/core/view/seriesModel';
import { FIXED_METRIC, captureSeries } from '../fixtures/series';
import { pythonWith } from '../helpers/python';
import { launch, withAdapter } from './client';

test('a series step launched as the series view launches it: stopped at the boundary of the metric file, then its metrics on that step', () =>
  withAdapter(async (dc, dir) => {
    const python = pythonWith(['numpy']);
    const series = captureSeries(path.join(dir, 'run'), { python, root: packageRoot(), uneven: true });
    const metrics = path.join(dir, 'fixed.py');
    fs.writeFileSync(metrics, FIXED_METRIC);
    const cfg = stepLaunch(series, { dir: 'step-200', label: 'step 200' }, { file: metrics, function: 'compute_metrics' });
    assert.deepEqual(cfg, { type: 'evalpred', request: 'launch', name: 'EvalPred: step 200 of run', cache: path.join(series, 'step-200'), metrics, function: 'compute_metrics' });
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    const stopped = dc.waitForEvent('stopped');
    await launch(dc, { ...cfg, python });
    await stopped;
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(frame.source?.path, metrics);
    assert.match(frame.name, /compute_metrics/);
    const again = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await again;
    const expected = Number(execFileSync(python, ['-c', `import json, os, sys, numpy as np
d = sys.argv[1]
m = json.load(open(os.path.join(d, 'manifest.json')))['eval_prediction']
p = np.load(os.path.join(d, m['predictions']['npy'])); y = np.load(os.path.join(d, m['label_ids']['npy']))
print(len(y), float((p.argmax(-1) == y).mean()))`, path.join(series, 'step-200')], { encoding: 'utf8' }).trim().split(' ')[1]);
    const printed = /"eval_accuracy":\s*([0-9.eE-]+)/.exec(out.join(''));
    assert.ok(printed, out.join(''));
    assert.equal(Number(printed[1]), expected);
    // step 200 kept 30 rows: the session is on that step, not another.
    assert.ok(out.join('').includes(`loaded cached predictions: 30 samples, cache ${path.join(series, 'step-200')}`), out.join(''));
  }));
