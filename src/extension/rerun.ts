// Rerunning compute_metrics on cached predictions: through the paused debug session (custom request
// `rerunMetrics`; the adapter reports the metrics in its `evalpredMetrics` event) or, with no session,
// right here on the remembered cache (core metricsFromCache, in the metric child processes this module
// owns: never inside the extension host). Also rerun-on-save while paused.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { isEvalpredError, messageOf } from '../core/errors';
import type { LoopRecord } from '../core/evaluate';
import type { MetricRunners } from '../core/metrics/runMetrics';
import { core } from './core';
import { DapRequests } from '../shared/dapProtocol';
import { dapRequest } from './dapClient';
import { log } from './log';
import { summarizeMetrics } from './metricSource';
import { Sessions } from './sessions';
import { metricPython } from './python';
import { metricMemoryLimitMb, metricTimeoutMs, setting } from './settings';
import { mayRunMetricCode } from './trust';

// Reruns without a session keep their metric processes warm here, until deactivate() closes them. The
// settings are read per call: a changed interpreter or limit starts fresh processes.
let reruns: { key: string; runners: MetricRunners } | undefined;

function rerunRunners(python: string | undefined, timeoutMs: number, memoryLimitMb: number | undefined): MetricRunners {
  const key = JSON.stringify([python, timeoutMs, memoryLimitMb]);
  if (reruns?.key !== key) {
    void reruns?.runners.close();
    reruns = { key, runners: new (core().MetricRunners)({ python, timeoutMs, memoryLimitMb }) };
  }
  return reruns.runners;
}

/** End the rerun metric processes (extension deactivation). */
export async function closeRerunRunners(): Promise<void> {
  const r = reruns;
  reruns = undefined;
  await r?.runners.close();
}

function loopOf(cacheDir: string): LoopRecord | undefined {
  return core().tryReadCacheManifest(cacheDir)?.loop as LoopRecord | undefined;
}

/** src/core's messages name CLI flags; in VS Code they name launch attributes (OPTION_NAMES). */
function inLaunchWords(text: string): string {
  try {
    return core().inLaunchTerms(text);
  } catch {
    return text; // the core bundle itself failed to load: its error is what the user needs to see
  }
}

/** Shows a user-facing error; for errors with a place, offers to open the file at the line. */
export function showError(prefix: string, e: unknown): void {
  const msg = inLaunchWords(messageOf(e));
  if (!isEvalpredError(e)) log().error(`${prefix}: ${e instanceof Error && e.stack ? e.stack : msg}`);
  else log().error(`${prefix}: ${msg}`);
  const place = isEvalpredError(e) ? e.place : undefined;
  const actions = place?.file && fs.existsSync(place.file) ? ['Open File', 'Show Log'] : ['Show Log'];
  void vscode.window.showErrorMessage(`${prefix}: ${msg}`, ...actions).then(async (a) => {
    if (a === 'Show Log') log().show(true);
    if (a === 'Open File' && place?.file) {
      const line = Math.max(0, (place.line ?? 1) - 1);
      await vscode.window.showTextDocument(vscode.Uri.file(place.file), { selection: new vscode.Range(line, 0, line, 0) });
    }
  });
}

export async function rerunMetrics(sessions: Sessions, file: string | undefined, reason: 'command' | 'save' = 'command'): Promise<void> {
  file ??= vscode.window.activeTextEditor?.document.uri.fsPath;
  const paused = sessions.pausedFor(file) ?? (reason === 'command' ? sessions.pausedFor(undefined) : undefined);
  if (!mayRunMetricCode('Rerunning metrics is turned off here.')) return;
  if (paused) {
    log().info(`rerunning metrics in session ${paused.session.name}${reason === 'save' ? ' (metric file saved)' : ''}`);
    try {
      await dapRequest(paused.session, DapRequests.RerunMetrics);
    } catch (e) {
      showError('EvalPred: rerun failed', e);
    }
    return;
  }
  if (reason === 'save') return; // on save only while paused (the brief: rerun the paused session)
  const rec = file ? sessions.record(file) : undefined;
  if (!file || !rec) {
    void vscode.window.showInformationMessage('EvalPred: no cached predictions for this metric file yet. Run "EvalPred: Run Evaluation" first.', 'Run Evaluation').then((a) => {
      if (a) void vscode.commands.executeCommand('evalpred.runEvaluation', file ? { metrics: file } : undefined);
    });
    return;
  }
  if (!fs.existsSync(path.join(rec.cacheDir, 'manifest.json'))) {
    void vscode.window.showWarningMessage(`EvalPred: the cache ${rec.cacheDir} is gone (cleared?). Run the evaluation again.`);
    return;
  }
  const scope = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
  try {
    const python = /\.py$/i.test(file) ? (await metricPython(scope ?? vscode.Uri.file(file))).python : undefined;
    const out = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `EvalPred: running ${rec.function ?? 'compute_metrics'} on ${rec.numSamples ?? ''} cached predictions`, cancellable: false },
      () =>
        core().metricsFromCache(rerunRunners(python, metricTimeoutMs(scope), metricMemoryLimitMb(scope)), rec.cacheDir, loopOf(rec.cacheDir), file!, {
          function: rec.function,
          python,
          timeoutMs: metricTimeoutMs(scope),
        }),
    );
    log().info(`metrics (${path.basename(file)}, ${out.durationMs.toFixed(0)} ms): ${out.json}`);
    if (out.stdout.trim()) log().info(`${path.basename(file)} printed:\n${out.stdout.trimEnd()}`);
    for (const w of out.warnings) log().warn(w);
    await sessions.remember(file, { lastMetrics: out.metrics as Record<string, unknown> });
    sessions.noteMetrics(out.metrics as Record<string, unknown>);
    void vscode.window.showInformationMessage(`EvalPred: ${summarizeMetrics(out.metrics as Record<string, unknown>) ?? out.json} (${out.durationMs.toFixed(0)} ms)`, 'Show Log').then((a) => {
      if (a) log().show(true);
    });
  } catch (e) {
    showError('EvalPred: compute_metrics failed', e);
  }
}

/**
 * Run the metric function of `file` on a cache with the warm rerun workers (no session), in the interpreter
 * chosen for `scope` (./python.ts). The notebook cell runs use it too (./notebook.ts).
 */
export async function metricsOnCache(file: string, cacheDir: string, scope: vscode.WorkspaceFolder | vscode.Uri | undefined, functionName?: string) {
  const folder = scope instanceof vscode.Uri ? vscode.workspace.getWorkspaceFolder(scope) : scope;
  const python = /\.py$/i.test(file) ? (await metricPython(scope)).python : undefined;
  return core().metricsFromCache(rerunRunners(python, metricTimeoutMs(folder), metricMemoryLimitMb(folder)), cacheDir, loopOf(cacheDir), file, {
    function: functionName,
    python,
    timeoutMs: metricTimeoutMs(folder),
  });
}

export function rerunOnSave(sessions: Sessions): vscode.Disposable {
  return vscode.workspace.onDidSaveTextDocument((doc) => {
    if (doc.uri.scheme !== 'file' || !setting('rerunOnSave', doc.uri)) return;
    if (!sessions.pausedFor(doc.uri.fsPath)) return;
    void rerunMetrics(sessions, doc.uri.fsPath, 'save');
  });
}
