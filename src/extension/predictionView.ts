// The prediction view's WebviewPanel host: strict-CSP HTML from dist/media, a ready handshake, and a relay
// between the webview and the pure-Node PredictionViewModel (src/core/view). The panel is restored after a
// reload by a serializer that re-reads the cache folder named in the saved state.
//
// Wiring (src/extension/extension.ts):
//   context.subscriptions.push(PredictionViewPanel.registerSerializer(context));
//   PredictionViewPanel.show(context, evaluation);          // after evaluate()
//   PredictionViewPanel.current?.addMetrics(metrics);       // after each compute_metrics rerun
import fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Evaluation, LoopRecord } from '../core/evaluate';
import { messageOf } from '../core/errors';
import type { PredictionViewModel, ViewHostServices } from '../core/view/viewModel';
import { core } from './core';
import type { ExportFormat, ToWebview } from '../shared/protocol';

export const PREDICTION_VIEW_TYPE = 'evalpred.predictionView';

/** What the webview state carries beside the view's own filter/sort/scroll, so the serializer can reopen the cache. */
interface PanelState {
  cacheDir?: string;
}

export class PredictionViewPanel implements vscode.Disposable {
  /** The most recently shown panel (one per window is the common case; show() reuses it). */
  static current: PredictionViewPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private model: PredictionViewModel | undefined;
  private ready = false;
  private readonly queue: unknown[] = [];

  /** Show `evaluation` in the prediction view, reusing the open panel. */
  static async show(context: vscode.ExtensionContext, evaluation: Evaluation, opts: { metricSource?: string } = {}): Promise<PredictionViewPanel> {
    const existing = PredictionViewPanel.current;
    if (existing) {
      existing.panel.reveal(vscode.ViewColumn.Beside, true);
      await existing.load(evaluation, opts.metricSource);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(PREDICTION_VIEW_TYPE, 'Predictions', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, PredictionViewPanel.options(context));
    const p = new PredictionViewPanel(panel, context);
    await p.load(evaluation, opts.metricSource);
    return p;
  }

  /** Register once at activation: restores the panel after a window reload from the cache folder it showed. */
  static registerSerializer(context: vscode.ExtensionContext): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(PREDICTION_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        panel.webview.options = PredictionViewPanel.options(context);
        const p = new PredictionViewPanel(panel, context);
        const cacheDir = (state as PanelState | undefined)?.cacheDir;
        if (!cacheDir) {
          p.showError('This prediction view cannot be restored: it does not say which cache it showed. Run the evaluation again.');
          return;
        }
        try {
          const { manifest, evalPred } = core().readCache(cacheDir);
          const loop = (manifest.loop ?? { task: 'sequence-classification', numSamples: manifest.num_samples, notes: [] }) as LoopRecord;
          await p.load({ cacheDir, fromCache: true, manifest, evalPred, loop });
        } catch (e) {
          p.showError(`The prediction view could not reopen ${cacheDir}: ${messageOf(e)}`);
        }
      },
    });
  }

  private static options(context: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false, // state lives in getState/setState and the host model, not in a hidden DOM
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'media')],
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
  ) {
    PredictionViewPanel.current = this;
    const media = vscode.Uri.joinPath(context.extensionUri, 'dist', 'media');
    const webview = panel.webview;
    webview.html = core().predictionViewHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'predictionView.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'predictionView.css')).toString(),
      cspSource: webview.cspSource,
      nonce: core().makeNonce(),
    });
    this.disposables.push(
      webview.onDidReceiveMessage((m) => this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private cacheDir: string | undefined;

  /** The cache folder this panel shows ("Compare With…" takes it as A). */
  get shownCache(): string | undefined {
    return this.cacheDir;
  }

  private async load(evaluation: Evaluation, metricSource?: string): Promise<void> {
    this.cacheDir = evaluation.cacheDir;
    this.panel.title = `Predictions: ${path.basename(evaluation.cacheDir)}`;
    try {
      this.model = await core().PredictionViewModel.fromEvaluation(evaluation, (m) => this.post(m), { metricSource, wording: core().inLaunchTerms }, this.services);
    } catch (e) {
      this.showError(`The prediction view cannot show ${evaluation.cacheDir}: ${messageOf(e)}`);
      return;
    }
    // A webview that is already up gets the new overview now; otherwise it asks with 'ready'.
    if (this.ready) this.model.receive({ type: 'ready' });
    for (const m of this.queue.splice(0)) this.model.receive(m);
  }

  /** The clipboard and the save dialog, for the view's copy and export (docs/architecture.md, "The extension and the webview"). */
  private readonly services: ViewHostServices = {
    writeClipboard: async (text) => vscode.env.clipboard.writeText(text),
    saveExport: (suggestedName, format, lines) => saveExport(suggestedName, format, lines, this.cacheDir),
  };

  private receive(m: unknown): void {
    if (m && typeof m === 'object' && (m as { type?: unknown }).type === 'ready') this.ready = true;
    if (!this.model) {
      this.queue.push(m);
      return;
    }
    this.model.receive(m);
  }

  private post(m: ToWebview): void {
    // The serializer needs the cache folder: the view keeps init's hostState in its webview state.
    void this.panel.webview.postMessage(m.type === 'init' ? { ...m, hostState: { cacheDir: this.cacheDir } satisfies PanelState } : m);
  }

  private showError(message: string): void {
    void this.panel.webview.postMessage({ type: 'error', message } satisfies ToWebview);
  }

  /** A new compute_metrics result: shown in the view's metrics panel with deltas from the previous one. */
  addMetrics(metrics: Record<string, unknown>): void {
    this.model?.addMetrics(metrics);
  }

  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (PredictionViewPanel.current === this) PredictionViewPanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/**
 * Ask where to save with VS Code's save dialog (which itself asks before replacing a file), then write the lines
 * to a temporary file beside it and rename it into place, so a failed export leaves the old file whole.
 */
async function saveExport(suggestedName: string, format: ExportFormat, lines: Iterable<string>, cacheDir: string | undefined): Promise<string | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? (cacheDir ? vscode.Uri.file(path.dirname(cacheDir)) : undefined);
  const target = await vscode.window.showSaveDialog({
    title: `EvalPred: export the table as ${format === 'csv' ? 'CSV' : 'JSON Lines'}`,
    defaultUri: folder ? vscode.Uri.joinPath(folder, suggestedName) : undefined,
    filters: format === 'csv' ? { CSV: ['csv'] } : { 'JSON Lines': ['jsonl'] },
    saveLabel: 'Export',
  });
  if (!target) return undefined;
  const file = target.fsPath;
  const tmp = `${file}.partial-${process.pid}`;
  const fd = fs.openSync(tmp, 'wx');
  try {
    let chunk = '';
    for (const line of lines) {
      chunk += line;
      if (chunk.length > 1 << 20) {
        fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true }); // our own temporary file
    throw e;
  }
  return file;
}
