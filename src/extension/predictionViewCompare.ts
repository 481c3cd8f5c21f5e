// "EvalPred: Compare With…": two caches of one dataset side by side in a webview panel (media/compareView.ts),
// from the palette, from an open prediction view (its cache is A), or from the explorer on one or two selected
// cache folders. The comparison is src/core/compare's (the same as `evalpred compare`, with the task's
// built-in metrics); caches of different datasets, tasks or sample counts are refused with its reason.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Comparison } from '../core/compare/compare';
import { messageOf } from '../core/errors';
import type { ToCompareView } from '../shared/compareProtocol';
import { workspaceCaches } from './cacheCommands';
import { CommandArgs, Commands } from './contributions';
import { core } from './core';
import { PredictionViewPanel } from './predictionView';
import { showError } from './rerun';

export const COMPARE_VIEW_TYPE = 'evalpred.compareView';

/** What the compare view keeps in its webview state so the serializer can compare again after a reload. */
interface CompareState {
  cacheA?: string;
  cacheB?: string;
}

type UriLike = { fsPath: string } | string;
const fsPathOf = (u: UriLike) => (typeof u === 'string' ? u : u.fsPath);
const isCache = (dir: string) => fs.existsSync(path.join(dir, 'manifest.json'));

async function pickCache(title: string, exclude: string | undefined): Promise<string | undefined> {
  const caches = workspaceCaches().filter((c) => path.resolve(c.dir) !== (exclude && path.resolve(exclude)));
  const browse = { label: '$(folder-opened) Browse…', description: 'a cache folder anywhere', dir: '' };
  const chosen = await vscode.window.showQuickPick([...caches.map((c) => ({ label: c.label, description: `${c.numSamples} samples · ${c.time}`, detail: c.dir, dir: c.dir })), browse], { title });
  if (!chosen) return undefined;
  if (chosen.dir) return chosen.dir;
  const uris = await vscode.window.showOpenDialog({ title, canSelectFolders: true, canSelectFiles: false, openLabel: 'Compare' });
  return uris?.[0]?.fsPath;
}

/** The command: A and B from the explorer selection, the open prediction view, or quick picks. */
export async function compareWith(context: vscode.ExtensionContext, ...[clicked, selected]: CommandArgs[typeof Commands.CompareWith]): Promise<void> {
  const chosen = (selected && selected.length > 1 ? selected : clicked ? [clicked] : []).map(fsPathOf);
  if (chosen.length > 2) {
    void vscode.window.showWarningMessage(`EvalPred: select one or two cache folders to compare, not ${chosen.length}.`);
    return;
  }
  let a: string | undefined = chosen[0] ?? PredictionViewPanel.current?.shownCache;
  let b: string | undefined = chosen[1];
  if (!a) a = await pickCache('EvalPred: compare which cache (A, the baseline)?', undefined);
  if (!a) return;
  if (!b) b = await pickCache(`EvalPred: compare ${path.basename(a)} with which cache (B)?`, a);
  if (!b) return;
  for (const d of [a, b]) {
    if (!isCache(d)) {
      void vscode.window.showErrorMessage(`EvalPred: ${d} is not a prediction cache: it holds no manifest.json.`);
      return;
    }
  }
  try {
    const comparison = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `EvalPred: comparing ${path.basename(a)} with ${path.basename(b)}` }, () => compare(a!, b!));
    CompareViewPanel.show(context, comparison);
  } catch (e) {
    // Different datasets, tasks or sample counts: the reason is compare's own message.
    showError('EvalPred: cannot compare these caches', e);
  }
}

async function compare(a: string, b: string): Promise<Comparison> {
  // Built-in metrics only: they are our code, so this also runs in an untrusted workspace.
  const runners = new (core().MetricRunners)();
  try {
    return await core().compareCaches(runners, a, b);
  } finally {
    await runners.close();
  }
}

export class CompareViewPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private model: { receive(m: unknown): void } | undefined;
  private readonly queue: unknown[] = [];

  static show(context: vscode.ExtensionContext, comparison: Comparison): CompareViewPanel {
    const title = `Compare: ${path.basename(comparison.a)} ↔ ${path.basename(comparison.b)}`;
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, title, vscode.ViewColumn.Active, CompareViewPanel.options(context));
    const p = new CompareViewPanel(panel, context);
    p.load(comparison);
    return p;
  }

  /** Register once at activation: compares the two caches again after a window reload. */
  static registerSerializer(context: vscode.ExtensionContext): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        panel.webview.options = CompareViewPanel.options(context);
        const p = new CompareViewPanel(panel, context);
        const { cacheA, cacheB } = (state as CompareState | undefined) ?? {};
        if (!cacheA || !cacheB) {
          p.showError('This comparison cannot be restored: it does not say which caches it compared. Run "EvalPred: Compare With…" again.');
          return;
        }
        try {
          p.load(await compare(cacheA, cacheB));
        } catch (e) {
          p.showError(`The comparison of ${cacheA} with ${cacheB} could not be made again: ${messageOf(e)}`);
        }
      },
    });
  }

  private static options(context: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'media')] };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    context: vscode.ExtensionContext,
  ) {
    const media = vscode.Uri.joinPath(context.extensionUri, 'dist', 'media');
    const webview = panel.webview;
    webview.html = core().predictionViewHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'compareView.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'compareView.css')).toString(),
      cspSource: webview.cspSource,
      nonce: core().makeNonce(),
      title: 'Compare runs',
    });
    this.disposables.push(
      webview.onDidReceiveMessage((m) => (this.model ? this.model.receive(m) : this.queue.push(m))),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private load(comparison: Comparison): void {
    const hostState: CompareState = { cacheA: comparison.a, cacheB: comparison.b };
    const post = (m: ToCompareView) => void this.panel.webview.postMessage(m.type === 'init' ? { ...m, hostState } : m);
    this.model = new (core().CompareViewModel)(comparison, post);
    for (const m of this.queue.splice(0)) this.model.receive(m);
  }

  private showError(message: string): void {
    void this.panel.webview.postMessage({ type: 'error', message } satisfies ToCompareView);
  }

  dispose(): void {
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
