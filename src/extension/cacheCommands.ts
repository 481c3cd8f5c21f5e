// Commands over prediction caches: open one in the prediction view (also from a variable's context menu),
// import an EvalPrediction dump made with a real Trainer, and clear the workspace's cache folder.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { core } from './core';
import type { Evaluation, LoopRecord } from '../core/evaluate';
import { CommandArgs, Commands } from './contributions';
import { log } from './log';
import { PredictionViewPanel } from './predictionView';
import { showError } from './rerun';
import { Sessions } from './sessions';

const CACHE_ROOT = path.join('.evalpred', 'cache');

interface CacheEntry {
  dir: string;
  numSamples: number;
  time: string;
  label: string;
}

/** Caches under every workspace folder's .evalpred/cache, newest first. */
export function workspaceCaches(): CacheEntry[] {
  const out: CacheEntry[] = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const root = path.join(f.uri.fsPath, CACHE_ROOT);
    if (!fs.existsSync(root)) continue;
    for (const name of fs.readdirSync(root)) {
      const dir = path.join(root, name);
      // Not a finished cache (a run in progress writes elsewhere and renames) or not a valid one: not listed.
      const m = core().tryReadCacheManifest(dir);
      if (!m) continue;
      const prod = m.producer as { model?: { path?: string }; dataset?: { path?: string } };
      const importedFrom = typeof m.imported_from === 'string' ? m.imported_from : undefined;
      const what = prod.model?.path ? `${path.basename(prod.model.path)} on ${path.basename(prod.dataset?.path ?? '?')}` : importedFrom ? `imported ${path.basename(importedFrom)}` : name;
      out.push({ dir, numSamples: m.num_samples, time: m.created, label: what });
    }
  }
  return out.sort((a, b) => (a.time < b.time ? 1 : -1));
}

export function evaluationFromCache(cacheDir: string): Evaluation {
  const { manifest, evalPred } = core().readCache(cacheDir);
  const loop = ((manifest as unknown as { loop?: LoopRecord }).loop ?? {
    numSamples: manifest.num_samples,
    evalLoss: null,
    task: 'sequence-classification',
    runtimeSeconds: 0,
    numSteps: 0,
    notes: ['imported: no loop record'],
    info: { columns: {}, maxLength: 0, modelInputs: [], modelOutputs: [] },
  }) as LoopRecord;
  return { cacheDir, fromCache: true, manifest, evalPred, loop };
}

/** The current session's cache, else the only one in the workspace, else the one the user picks. `ask`: always list them. */
export async function pickCache(sessions: Sessions, ask = false): Promise<string | undefined> {
  const live = sessions.current()?.cacheDir;
  if (!ask && live && fs.existsSync(path.join(live, 'manifest.json'))) return live;
  const caches = workspaceCaches();
  if (ask && live && fs.existsSync(path.join(live, 'manifest.json')) && !caches.some((c) => c.dir === live)) {
    caches.unshift({ dir: live, numSamples: core().tryReadCacheManifest(live)?.num_samples ?? 0, time: '', label: 'the paused session\'s predictions' });
  }
  if (!caches.length) {
    void vscode.window.showInformationMessage('EvalPred: no cached predictions in this workspace yet. Run "EvalPred: Run Evaluation" or import a dump.');
    return undefined;
  }
  if (caches.length === 1) return caches[0].dir;
  const chosen = await vscode.window.showQuickPick(
    caches.map((c) => ({ label: c.label, description: `${c.numSamples} samples · ${c.time}`, detail: c.dir, dir: c.dir })),
    { title: 'EvalPred: which cached predictions?' },
  );
  return chosen?.dir;
}

export async function openPredictionView(context: vscode.ExtensionContext, sessions: Sessions, ...[cacheDir]: CommandArgs[typeof Commands.OpenPredictionView]): Promise<void> {
  const dir = cacheDir ?? (await pickCache(sessions));
  if (!dir) return;
  // The metric source lets the view point its lints at lines of the user's function.
  const file = sessions.all().find((s) => s.cacheDir === dir)?.metricsFile ?? Object.entries(sessions.records()).find(([, r]) => r.cacheDir === dir)?.[0];
  let metricSource: string | undefined;
  try {
    metricSource = file ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    metricSource = undefined;
  }
  try {
    await PredictionViewPanel.show(context, evaluationFromCache(dir), { metricSource });
  } catch (e) {
    showError('EvalPred: cannot open the prediction view', e);
  }
}

export async function openVariableInPredictionView(context: vscode.ExtensionContext, sessions: Sessions, ...[arg]: CommandArgs[typeof Commands.OpenVariableInPredictionView]): Promise<void> {
  const st = (arg?.sessionId && sessions.get(arg.sessionId)) || sessions.current();
  log().info(`open in prediction view: ${arg?.variable?.evaluateName ?? arg?.variable?.name ?? '(no variable)'}`);
  await openPredictionView(context, sessions, st?.cacheDir);
}

export async function importDumpCommand(context: vscode.ExtensionContext, sessions: Sessions, ...[source]: CommandArgs[typeof Commands.ImportDump]): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage('EvalPred: open a folder first; the imported cache is stored in its .evalpred/cache.');
    return;
  }
  let src = source;
  if (!src) {
    const uris = await vscode.window.showOpenDialog({
      title: 'EvalPred: import an EvalPrediction dump (.npz, a folder of .npy files, or an evalpred.capture folder)',
      canSelectFiles: true,
      canSelectFolders: true,
      filters: { 'EvalPrediction dump': ['npz'] },
      openLabel: 'Import',
    });
    src = uris?.[0]?.fsPath;
  }
  if (!src) return;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const out = path.join(folder.uri.fsPath, CACHE_ROOT, `import-${path.basename(src).replace(/[^\w.-]+/g, '_')}-${stamp}`);
  try {
    const manifest = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `EvalPred: importing ${path.basename(src)}`, cancellable: false },
      () => core().importDump(src!, out),
    );
    log().info(`imported ${src} -> ${out} (${manifest.num_samples} samples)`);
    const a = await vscode.window.showInformationMessage(`EvalPred: imported ${manifest.num_samples} samples from ${path.basename(src)}.`, 'Open Prediction View', 'Debug on This Cache');
    if (a === 'Open Prediction View') await openPredictionView(context, sessions, out);
    if (a === 'Debug on This Cache') await vscode.debug.startDebugging(folder, { type: 'evalpred', request: 'launch', name: `EvalPred: ${path.basename(src)}`, cache: out });
  } catch (e) {
    // importDump leaves nothing behind when it fails (its writes are atomic); `out` is not deleted here.
    showError(`EvalPred: cannot import ${path.basename(src)}`, e);
  }
}

function sizeOf(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((n, e) => n + sizeOf(path.join(p, e)), 0);
}

export async function clearCache(sessions: Sessions): Promise<void> {
  const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, CACHE_ROOT)).filter((r) => fs.existsSync(r));
  const n = roots.reduce((k, r) => k + fs.readdirSync(r).length, 0);
  if (!n) {
    void vscode.window.showInformationMessage('EvalPred: the prediction cache is already empty.');
    return;
  }
  const mb = roots.reduce((k, r) => k + sizeOf(r), 0) / 1024 ** 2;
  const busy = sessions.all().length ? ' A debug session is using one of them; it keeps its data in memory until it ends.' : '';
  const ok = await vscode.window.showWarningMessage(
    `Delete ${n} cached evaluation${n === 1 ? '' : 's'} (${mb.toFixed(1)} MB) in ${roots.map((r) => vscode.workspace.asRelativePath(r)).join(', ')}?${busy}`,
    { modal: true },
    'Delete',
  );
  if (ok !== 'Delete') return;
  // Only what evalpred wrote goes (README "Output folders"): caches and the temp folders of killed runs.
  const kept: string[] = [];
  for (const r of roots) {
    for (const name of fs.readdirSync(r)) {
      const p = path.join(r, name);
      const leftover = /^(.*)\.(partial|old)-\d+(-[0-9a-f]{8})?$/.exec(name);
      if (leftover) core().removeLeftovers(path.join(r, leftover[1]));
      else if (fs.lstatSync(p).isDirectory() && core().whyNotReplaceable(p, p) === null) fs.rmSync(p, { recursive: true, force: true });
      if (fs.existsSync(p)) kept.push(p);
    }
  }
  await sessions.forget();
  log().info(`cleared the prediction cache: ${roots.join(', ')}${kept.length ? `; kept what evalpred did not write: ${kept.join(', ')}` : ''}`);
  if (kept.length) void vscode.window.showInformationMessage(`EvalPred: kept ${kept.length} item(s) in the cache folder that evalpred did not write: ${kept.map((k) => path.basename(k)).join(', ')}.`);
}
