// The training-series view: a read-only custom editor on an evalpred series.json (also opened by
// "EvalPred: Open Training Series…" and the explorer's context menu on a series folder). It charts every
// metric over the steps, as logged and as recomputed by the user's metric file (remembered per series), reruns
// on each save of that file, puts a failing step's error on the user's line, and offers, for a clicked step,
// the prediction view on that step's cache or a debug session stopped at its compute_metrics boundary.
// The logic is core/view/seriesModel.ts; this file is the VS Code side only.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { MetricRunners } from '../core/metrics/runMetrics';
import { SERIES_FILE, SERIES_FORMAT } from '../core/series/format';
import type { SeriesMetric, SeriesViewModel } from '../core/view/seriesModel';
import type { FromSeriesView, SeriesViewState } from '../shared/seriesProtocol';
import { openPredictionView } from './cacheCommands';
import { CommandArgs, Commands, ContextKeys, DEBUG_TYPE } from './contributions';
import { core } from './core';
import { log } from './log';
import { findMetricFunctions, pickMetricFunction } from './metricSource';
import { showError } from './rerun';
import { metricItems } from './runEvaluation';
import { Sessions } from './sessions';
import { metricMemoryLimitMb, metricTimeoutMs, pythonPath } from './settings';
import { mayRunMetricCode } from './trust';

export const SERIES_VIEW_TYPE = 'evalpred.seriesView';
const METRICS_KEY = 'evalpred.seriesMetrics';
/** Editors save in several writes, and people press Ctrl+S twice: one rerun per burst. */
const SAVE_DEBOUNCE_MS = 300;
const BROWSE = '$(folder-opened) Browse…';

type Remembered = Record<string, { file: string; function?: string }>;

/** Whether `file` is an evalpred series index (its format field), without reading the steps. */
function isSeriesIndex(file: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown }).format === SERIES_FORMAT;
  } catch {
    return false;
  }
}

/** One open series: its panel, the view model, its own warm metric processes and its diagnostics. */
class SeriesPanel implements vscode.Disposable {
  model: SeriesViewModel | undefined;
  private runners: MetricRunners | undefined;
  private readonly diagnostics: vscode.DiagnosticCollection;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[] = [];
  /** Set when the series cannot be read: what the view shows once it says 'ready'. */
  broken: SeriesViewState | undefined;

  constructor(
    readonly dir: string,
    readonly panel: vscode.WebviewPanel,
    private readonly host: SeriesEditorProvider,
  ) {
    this.diagnostics = vscode.languages.createDiagnosticCollection(`evalpred-series:${path.basename(dir)}`);
    const media = vscode.Uri.joinPath(host.context.extensionUri, 'dist', 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [media] };
    panel.webview.html = core().predictionViewHtml({
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'seriesView.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'seriesView.css')).toString(),
      cspSource: panel.webview.cspSource,
      nonce: core().makeNonce(),
      title: `Training series ${path.basename(dir)}`,
    });
    this.subs.push(this.diagnostics, panel.webview.onDidReceiveMessage((m) => this.receive(m)));
  }

  private receive(m: unknown): void {
    if (this.model) this.model.receive(m);
    else if (this.broken && (m as { type?: unknown } | null)?.type === 'ready') void this.panel.webview.postMessage({ type: 'state', state: this.broken });
  }

  start(): void {
    const scope = vscode.Uri.file(this.dir);
    this.runners = new (core().MetricRunners)({ python: pythonPath(scope), timeoutMs: metricTimeoutMs(scope), memoryLimitMb: metricMemoryLimitMb(scope) });
    this.model = new (core().SeriesViewModel)(this.dir, (m) => this.posted(m.state), this.runners, (m) => void this.act(m));
  }

  private posted(state: SeriesViewState): void {
    void this.panel.webview.postMessage({ type: 'state', state });
    if (state.status === 'done' || state.status === 'failed') this.showErrorsAtLines(state);
  }

  /** A step whose rerun failed puts its error on the line of the user's file it names (the Problems panel too). */
  private showErrorsAtLines(state: SeriesViewState): void {
    this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const s of state.steps) {
      if (!s.error || !s.errorAt?.file || !fs.existsSync(s.errorAt.file)) continue;
      const line = Math.max(0, (s.errorAt.line ?? 1) - 1);
      const d = new vscode.Diagnostic(new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER), `${s.label} of ${state.title}: ${s.error.split('\n')[0]}`, vscode.DiagnosticSeverity.Error);
      d.source = 'EvalPred series';
      byFile.set(s.errorAt.file, [...(byFile.get(s.errorAt.file) ?? []), d]);
    }
    for (const [file, ds] of byFile) this.diagnostics.set(vscode.Uri.file(file), ds);
  }

  get metricFile(): string | null {
    return this.model?.state.metricFile ?? null;
  }

  /** Rerun on every step, when the workspace may run metric code. */
  recompute(): void {
    if (!this.model?.state.metricFile) return;
    if (!mayRunMetricCode('The series view shows the logged curve only.')) return;
    log().info(`recomputing the series ${this.dir} with ${this.model.state.metricFile}`);
    void this.model.recompute();
  }

  saved(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.recompute(), SAVE_DEBOUNCE_MS);
  }

  useMetric(metric: { file: string; function?: string }): void {
    const scope = vscode.Uri.file(this.dir);
    let fn = metric.function;
    if (!fn) {
      try {
        fn = pickMetricFunction(findMetricFunctions(fs.readFileSync(metric.file, 'utf8'), metric.file))?.name;
      } catch {
        fn = undefined; // the rerun reports the unreadable file on every step
      }
    }
    const m: SeriesMetric = { file: metric.file, function: fn, python: pythonPath(scope), timeoutMs: metricTimeoutMs(scope) };
    this.model?.setMetric(m);
    this.recompute();
  }

  private async act(m: Exclude<FromSeriesView, { type: 'ready' }>): Promise<void> {
    try {
      if (m.type === 'rerun') this.recompute();
      else if (m.type === 'pickMetric') await this.host.chooseMetric(this, true);
      else if (m.type === 'openFile') {
        const line = Math.max(0, (m.line ?? 1) - 1);
        await vscode.window.showTextDocument(vscode.Uri.file(m.file), { viewColumn: vscode.ViewColumn.Beside, selection: new vscode.Range(line, 0, line, 0) });
      } else if (m.type === 'step') await this.host.stepActions(this, m.dir);
    } catch (e) {
      showError('EvalPred: series view', e);
    }
  }

  dispose(): void {
    clearTimeout(this.saveTimer);
    for (const s of this.subs.splice(0)) s.dispose();
    void this.runners?.close();
    this.host.forget(this);
  }
}

export class SeriesEditorProvider implements vscode.CustomReadonlyEditorProvider {
  private readonly panels = new Set<SeriesPanel>();

  constructor(
    readonly context: vscode.ExtensionContext,
    private readonly sessions: Sessions,
  ) {}

  static register(context: vscode.ExtensionContext, sessions: Sessions): vscode.Disposable {
    const provider = new SeriesEditorProvider(context, sessions);
    return vscode.Disposable.from(
      vscode.window.registerCustomEditorProvider(SERIES_VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: false }),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc.uri.scheme !== 'file') return;
        const file = path.resolve(doc.uri.fsPath);
        for (const p of provider.panels) if (p.metricFile === file) p.saved();
      }),
      seriesFoldersContextKey(),
    );
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => {} };
  }

  async resolveCustomEditor(doc: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    if (!isSeriesIndex(doc.uri.fsPath)) {
      // Another tool's series.json: show it as text, as if this editor were not installed.
      log().info(`${doc.uri.fsPath} is not an evalpred series: opening it as text`);
      await vscode.commands.executeCommand('vscode.openWith', doc.uri, 'default', panel.viewColumn);
      panel.dispose();
      return;
    }
    const dir = path.dirname(doc.uri.fsPath);
    const p = new SeriesPanel(dir, panel, this);
    this.panels.add(p);
    panel.onDidDispose(() => p.dispose());
    try {
      p.start();
    } catch (e) {
      p.broken = brokenState(dir, e);
      void panel.webview.postMessage({ type: 'state', state: p.broken });
      showError(`EvalPred: cannot open the series ${dir}`, e);
      return;
    }
    await this.chooseMetric(p, false);
  }

  forget(p: SeriesPanel): void {
    this.panels.delete(p);
  }

  private remembered(): Remembered {
    return this.context.workspaceState.get<Remembered>(METRICS_KEY, {});
  }

  /**
   * The metric file for a series: the one remembered for it, else the only one the workspace's evalpred
   * launch configurations name, else (or when `ask`) a quick pick of the workspace's metric files.
   */
  async chooseMetric(p: SeriesPanel, ask: boolean): Promise<void> {
    const key = path.resolve(p.dir);
    const rec = this.remembered()[key];
    if (!ask && rec && fs.existsSync(rec.file)) return p.useMetric(rec);
    const launch = ask ? [] : launchMetricFiles(p.dir);
    let chosen: { file: string; function?: string } | undefined = launch.length === 1 ? launch[0] : undefined;
    if (!chosen) {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(p.dir));
      const items: (vscode.QuickPickItem & { value?: string })[] = [...launch.map((l) => ({ label: path.basename(l.file), description: 'launch.json', value: l.file })), ...(await metricItems(folder))];
      const seen = new Set<string>();
      const unique = items.filter((i) => !i.value || (!seen.has(i.value) && seen.add(i.value)));
      const pick = await vscode.window.showQuickPick([...unique, { label: BROWSE }], {
        title: `EvalPred: metric file to recompute the series ${path.basename(p.dir)}`,
        placeHolder: 'The file with your (fixed) compute_metrics',
        matchOnDescription: true,
        ignoreFocusOut: true,
      });
      if (!pick) return;
      let file = pick.value;
      if (pick.label === BROWSE) {
        const uris = await vscode.window.showOpenDialog({ title: 'Metric file', canSelectMany: false, filters: { 'Metric file': ['py', 'ts', 'js', 'mjs'] } });
        file = uris?.[0]?.fsPath;
      }
      if (!file) return;
      chosen = { file };
    }
    await this.context.workspaceState.update(METRICS_KEY, { ...this.remembered(), [key]: chosen });
    p.useMetric(chosen);
  }

  /** A clicked step: its cache in the prediction view, or a debug session stopped at its compute_metrics boundary. */
  async stepActions(p: SeriesPanel, dir: string): Promise<void> {
    const step = p.model?.state.steps.find((s) => s.dir === dir);
    if (!step) return;
    const cache = path.join(p.dir, dir);
    const open = { label: `$(table) Open ${step.label} in the Prediction View`, detail: cache };
    const debug = { label: `$(debug-alt) Debug compute_metrics on ${step.label}`, detail: p.metricFile ? `${path.basename(p.metricFile)}, stopped at the compute_metrics boundary` : 'stopped at the compute_metrics boundary (no metric file chosen)' };
    const pick = await vscode.window.showQuickPick([open, debug], { title: `EvalPred: ${step.label} of ${path.basename(p.dir)}${step.error ? ` (failed: ${step.error.split('\n')[0]})` : ''}` });
    if (pick === open) await openPredictionView(this.context, this.sessions, cache);
    if (pick === debug) {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(p.dir)) ?? vscode.workspace.workspaceFolders?.[0];
      const metric = p.model?.state.metricFile ? this.remembered()[path.resolve(p.dir)] : undefined;
      await vscode.debug.startDebugging(folder, core().stepLaunch(p.dir, step, metric) as vscode.DebugConfiguration);
    }
  }
}

function brokenState(dir: string, e: unknown): SeriesViewState {
  return { title: path.basename(dir), xLabel: 'step', steps: [], metricFile: null, status: 'failed', message: e instanceof Error ? e.message : String(e) };
}

/** The metric files the workspace's evalpred launch configurations name, with their function. */
function launchMetricFiles(dir: string): { file: string; function?: string }[] {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir));
  const base = folder?.uri.fsPath ?? dir;
  const cfgs = vscode.workspace.getConfiguration('launch', folder).get<Record<string, unknown>[]>('configurations', []) ?? [];
  const out: { file: string; function?: string }[] = [];
  for (const c of cfgs) {
    if (c.type !== DEBUG_TYPE || typeof c.metrics !== 'string') continue;
    const file = path.resolve(base, c.metrics.replace(/\$\{workspaceFolder\}/g, base));
    if (!fs.existsSync(file) || out.some((o) => o.file === file)) continue;
    out.push({ file, ...(typeof c.function === 'string' ? { function: c.function } : {}) });
  }
  return out;
}

/** Keeps the context key listing the workspace's series folders, for the explorer's context menu. */
function seriesFoldersContextKey(): vscode.Disposable {
  const folders = new Set<string>();
  const publish = () => void vscode.commands.executeCommand('setContext', ContextKeys.SeriesFolders, [...folders]);
  const add = (u: vscode.Uri) => {
    if (isSeriesIndex(u.fsPath)) folders.add(path.dirname(u.fsPath));
    else folders.delete(path.dirname(u.fsPath));
    publish();
  };
  // Scanned after activation returns (activation stays quick); the watcher keeps the list current.
  void (async () => {
    try {
      for (const u of await vscode.workspace.findFiles(`**/${SERIES_FILE}`, '**/node_modules/**', 500)) add(u);
    } catch (e) {
      log().warn(`could not list the workspace's training series: ${e instanceof Error ? e.message : String(e)}`);
    }
  })();
  const watcher = vscode.workspace.createFileSystemWatcher(`**/${SERIES_FILE}`);
  watcher.onDidCreate(add);
  watcher.onDidChange(add);
  watcher.onDidDelete((u) => {
    folders.delete(path.dirname(u.fsPath));
    publish();
  });
  return watcher;
}

/** "EvalPred: Open Training Series…": a series folder (or its series.json) from the explorer, the workspace, or a dialog. */
export async function openSeries(...[target]: CommandArgs[typeof Commands.OpenSeries]): Promise<void> {
  let dir = typeof target === 'string' ? target : target?.fsPath;
  if (dir && path.basename(dir) === SERIES_FILE) dir = path.dirname(dir);
  if (!dir) {
    const found = (await vscode.workspace.findFiles(`**/${SERIES_FILE}`, '**/node_modules/**', 500)).filter((u) => isSeriesIndex(u.fsPath));
    const items = found.map((u) => ({ label: path.basename(path.dirname(u.fsPath)), description: vscode.workspace.asRelativePath(path.dirname(u.fsPath)), value: path.dirname(u.fsPath) }));
    const pick = await vscode.window.showQuickPick([...items, { label: BROWSE, description: '', value: '' }], { title: 'EvalPred: which training series? (a folder with series.json, from evalpred.capture or evalpred import)' });
    if (!pick) return;
    dir = pick.value;
    if (pick.label === BROWSE) dir = (await vscode.window.showOpenDialog({ title: 'Training series folder', canSelectFolders: true, canSelectFiles: false }))?.[0]?.fsPath;
  }
  if (!dir) return;
  const index = path.join(dir, SERIES_FILE);
  if (!isSeriesIndex(index)) {
    void vscode.window.showErrorMessage(`EvalPred: ${dir} is not an evalpred training series: it has no ${SERIES_FILE} with "format": "${SERIES_FORMAT}". Capture one with evalpred.capture during trainer.train(), or import it with "evalpred import".`);
    return;
  }
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(index), SERIES_VIEW_TYPE);
}
