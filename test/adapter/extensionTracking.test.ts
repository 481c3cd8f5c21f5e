// The extension's view of a session (src/extension/runState.ts) fed with a real adapter's traffic: every
// event the bundled adapter sends goes through applyAdapterMessage, as the extension's DebugAdapterTracker
// does. The cache folder has a space in its path and the metric function prints JSON of its own; the
// extension must take the folder and the metrics from the typed events of src/shared/dapProtocol.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { applyAdapterMessage, initialRunState, RunChange, RunState } from '../../src/extension/runState';
import { DapEvents, DapRequests, DapRequestTypes, RunInfoBody } from '../../src/shared/dapProtocol';
import { seqClsWorkspace } from '../fixtures/workspace';
import { withAdapter } from './client';

/** The events the extension's tracker acts on, plus output (which it must ignore). */
const WATCHED = ['stopped', 'continued', 'progressStart', 'progressUpdate', 'progressEnd', 'output', DapEvents.RunInfo, DapEvents.Metrics];

function track(dc: DebugClient, config: Record<string, unknown>): { state: RunState; changes: RunChange[]; outputs: string[] } {
  const state = initialRunState(config, (f) => path.resolve(f));
  const changes: RunChange[] = [];
  const outputs: string[] = [];
  for (const name of WATCHED) {
    dc.on(name, (e: DebugProtocol.Event) => {
      if (name === 'output') outputs.push((e as DebugProtocol.OutputEvent).body.output);
      changes.push(applyAdapterMessage(state, e, (f) => path.resolve(f)));
    });
  }
  return { state, changes, outputs };
}

async function until<T>(fn: () => T | undefined, what: string, ms = 15000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Prints a JSON object with numbers (what the old brace scanner took as metrics) and a "cache" line.
const PRINTS_JSON = `export function computeMetrics(evalPred: any) {
  console.log(JSON.stringify({ debug_accuracy: 0.123, batches: 3 }));
  console.log('reading cache /somewhere/else');
  const preds = evalPred.predictions.argmax(-1);
  const labels = evalPred.labelIds;
  let hit = 0;
  for (let i = 0; i < labels.shape[0]; i++) if (preds.get(i) === labels.get(i)) hit++;
  return { accuracy: hit / labels.shape[0], hits: hit };
}
`;

test('the extension takes the cache folder (path with a space) and the metrics from typed events, never from printed text', () =>
  withAdapter(async (dc, dir) => {
    const spaced = path.join(dir, 'my project');
    const ws = seqClsWorkspace(spaced, { n: 6 });
    const metricFile = path.join(spaced, 'metric code', 'metrics.ts');
    fs.mkdirSync(path.dirname(metricFile), { recursive: true });
    fs.writeFileSync(metricFile, PRINTS_JSON);
    // No `cache` in the configuration: the adapter picks the folder (under cwd) and must tell us where.
    const config = { type: 'evalpred', request: 'launch', name: 'spaces', model: ws.modelDir, dataset: ws.dataset, metrics: metricFile, cwd: spaced, batchSize: 4 };
    const { state, changes, outputs } = track(dc, config);
    assert.equal({ ...state }.cacheDir, undefined, 'nothing known yet');

    const stopped = dc.waitForEvent('stopped');
    const initialized = dc.waitForEvent('initialized');
    await dc.initializeRequest({ adapterID: 'evalpred', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsProgressReporting: true });
    const launched = dc.launchRequest(config as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.configurationDoneRequest();
    await launched;
    await stopped;

    assert.ok(state.cacheDir, 'the run-info event named the cache folder before the stop');
    assert.ok(state.cacheDir.startsWith(path.join(spaced, '.evalpred', 'cache')), state.cacheDir);
    assert.ok(fs.existsSync(path.join(state.cacheDir, 'manifest.json')), `${state.cacheDir} holds the cache`);
    assert.equal(state.numSamples, 6);
    assert.equal(state.metricsFile, metricFile);
    assert.equal(state.paused, true);
    assert.equal(state.stopReason, 'breakpoint');
    // The run-info request answers the same as the event.
    const info = (await dc.customRequest(DapRequests.RunInfo)).body as RunInfoBody;
    assert.equal(info.cacheDir, state.cacheDir);
    assert.equal(info.fromCache, false);

    // Continue: the metric runs, prints its own JSON, and returns the real metrics.
    const again = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    await again;
    const metrics = await until(() => state.lastMetrics, 'metrics event');
    await until(() => (outputs.some((o) => o.includes('debug_accuracy')) ? true : undefined), 'the printed JSON in the output');
    assert.equal(metrics.debug_accuracy, undefined, 'printed JSON taken as metrics');
    assert.equal(typeof metrics.eval_accuracy, 'number');
    assert.equal(metrics.eval_accuracy, (metrics.eval_hits as number) / 6);
    assert.ok(changes.includes('metrics'));
    assert.ok(state.cacheDir.includes('my project'), 'printed "cache /somewhere/else" did not move the cache folder');

    // A rerun through the typed request reports through the same event.
    const rerun = (await dc.customRequest(DapRequests.RerunMetrics)).body as DapRequestTypes[typeof DapRequests.RerunMetrics]['body'];
    assert.equal(rerun.error, undefined);
    assert.deepEqual(rerun.metrics?.eval_hits, metrics.eval_hits);
  }));
