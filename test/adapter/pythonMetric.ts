// A Python metric workspace for the line-debugging tests (pythonDebug*.test.ts): a 4-sample cache, a metric
// that imports a helper module, and the launch/stack/evaluate steps every test takes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeCache } from '../../src/core/cache/store';
import { Tensor } from '../../src/core/tensor/tensor';
import { pythonWith } from '../helpers/python';
import { launch } from './client';

// Lines of METRIC, 1-based, for the assertions below.
export const METRIC = `import numpy as np
from helper import share

def compute_metrics(eval_preds):
    preds, labels = eval_preds
    decoded = preds.argmax(-1)
    hits = int((decoded == labels).sum())
    acc = share(hits, len(labels))
    return {"accuracy": acc, "hits": hits}
`;
export const HELPER = `def share(part, whole):
    ratio = part / whole
    return ratio
`;

/** A 4-sample cache (argmax rows 0, 1, 0, 0 against labels 0, 1, 0, 1: 3 hits) and the metric files. */
export function workspace(dir: string, metric = METRIC): { cache: string; metrics: string; helper: string } {
  const cache = path.join(dir, 'cache');
  const preds = Tensor.from('float32', [4, 2], [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.6, 0.4]);
  const labels = Tensor.from('int64', [4], [0, 1, 0, 1]);
  writeCache(cache, { predictions: preds, labelIds: labels, inputs: null, losses: null }, { numSamples: 4, key: 'py-debug', producer: {} });
  const metrics = path.join(dir, 'metrics.py');
  fs.writeFileSync(metrics, metric);
  const helper = path.join(dir, 'helper.py');
  fs.writeFileSync(helper, HELPER);
  return { cache, metrics, helper };
}

/** Launch on the cache with breakpoints set during configuration, as clients do; resolves at the boundary stop. */
export async function launchToBoundary(dc: DebugClient, args: Record<string, unknown>, configure: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const boundary = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  const caps = await launch(dc, { python: pythonWith(['numpy', 'debugpy']), ...args }, configure);
  assert.ok(caps.body?.supportsConditionalBreakpoints && caps.body.supportsLogPoints, 'conditions and logpoints are advertised');
  return boundary;
}

export async function topFrame(dc: DebugClient, threadId: number): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId })).body.stackFrames;
}

export async function evaluate(dc: DebugClient, expression: string, frameId: number): Promise<string> {
  return (await dc.evaluateRequest({ expression, frameId, context: 'repl' })).body.result;
}
