// Editor features for the metric file: the CodeLens above the metric function, inline values while paused
// (shape, dtype and decoded first samples next to eval_pred / predictions / labels, as InlineValueText) and
// the hover expression for the Debug Console evaluator.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { SummaryStore } from './cacheSummary';
import { Commands, DEBUG_TYPE } from './contributions';
import { expressionAt, findMetricFunctions, firstMentions, functionRange, metricParam, pickMetricFunction, summarizeMetrics } from './metricSource';
import { numSamplesIn, Sessions } from './sessions';
import { log } from './log';
import { setting } from './settings';

/** How long a stop's inline values wait for decoded text before showing shapes only. */
const DECODE_WAIT_MS = 1500;

export const METRIC_FILES: vscode.DocumentSelector = [
  { scheme: 'file', language: 'python' },
  { scheme: 'file', language: 'typescript' },
  { scheme: 'file', language: 'javascript' },
];

export class MetricCodeLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly sessions: Sessions) {
    sessions.onDidChange(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!setting('codeLens', doc.uri)) return [];
    const file = doc.uri.fsPath;
    const fns = findMetricFunctions(doc.getText(), file);
    if (!fns.length) return [];
    const live = this.sessions.forFile(file);
    const rec = this.sessions.record(file);
    const cacheDir = live?.cacheDir ?? rec?.cacheDir;
    const fn = pickMetricFunction(fns, live?.functionName ?? rec?.function);
    if (!fn) return [];
    const range = new vscode.Range(fn.line, 0, fn.line, 0);
    if (!cacheDir) {
      return [new vscode.CodeLens(range, { title: `Run EvalPred evaluation with ${fn.name}`, command: Commands.RunEvaluation, arguments: [{ metrics: file, function: fn.name }] })];
    }
    const n = live?.numSamples ?? rec?.numSamples ?? numSamplesIn(cacheDir);
    const last = summarizeMetrics(live?.lastMetrics ?? rec?.lastMetrics);
    const title = `Rerun on cached predictions${n !== undefined ? ` (${n} samples)` : ''}${last ? ` · last: ${last}` : ''}`;
    return [new vscode.CodeLens(range, { title, command: Commands.RerunMetrics, arguments: [file], tooltip: `Run ${fn.name} on the predictions cached in ${cacheDir}` })];
  }
}

export class MetricInlineValues implements vscode.InlineValuesProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeInlineValues = this.changed.event;
  // VS Code (1.100) asks once per stop (and on scroll/edit/view updates) and ignores onDidChangeInlineValues,
  // so the summary is prepared when the stop passes the tracker, before VS Code has even seen it; the event
  // still fires for the decoded-text upgrade, for VS Code versions that listen.
  private readonly store = new SummaryStore(() => this.changed.fire());

  constructor(private readonly sessions: Sessions) {
    sessions.onDidStop((st) => {
      if (st.cacheDir) this.store.prepare(st.cacheDir);
    });
    sessions.onDidChange(() => this.changed.fire());
    vscode.window.onDidChangeActiveTextEditor(() => this.changed.fire());
  }

  async provideInlineValues(doc: vscode.TextDocument, viewPort: vscode.Range, _ctx: vscode.InlineValueContext): Promise<vscode.InlineValue[]> {
    if (!setting('inlineValues', doc.uri)) return [];
    const state = this.sessions.pausedFor(doc.uri.fsPath);
    if (!state?.cacheDir) {
      log().debug(`inline values for ${path.basename(doc.uri.fsPath)}: no paused session with a cache for this file`);
      return [];
    }
    const text = doc.getText();
    const fn = pickMetricFunction(findMetricFunctions(text, doc.uri.fsPath), state.functionName);
    if (!fn) return [];
    const [from, to] = functionRange(text, doc.uri.fsPath, fn.line);
    const summary = await this.store.get(state.cacheDir, DECODE_WAIT_MS);
    if (!summary) {
      log().debug(`inline values for ${path.basename(doc.uri.fsPath)}: the cache ${state.cacheDir} has no summary`);
      return [];
    }
    const out: vscode.InlineValue[] = [];
    for (const m of firstMentions(text, Math.max(from, viewPort.start.line), Math.min(to, viewPort.end.line), metricParam(text, fn.line))) {
      const value = summary.text[m.field];
      if (!value) continue;
      const line = doc.lineAt(m.line);
      out.push(new vscode.InlineValueText(new vscode.Range(m.line, m.column, m.line, line.text.length), `${m.name}: ${value}`));
    }
    log().debug(`inline values for ${path.basename(doc.uri.fsPath)} lines ${viewPort.start.line + 1}-${viewPort.end.line + 1}: ${out.length}`);
    return out;
  }
}

/**
 * Open the session's metric file when the session starts (before it can stop). VS Code asks for inline
 * values when the stack frame gets focus; an editor that only opens because of the stop is attached after
 * that and, in our e2e runs, was not asked until something scrolled it. An editor that is already open is.
 */
export function showMetricFileOnStart(): vscode.Disposable {
  return vscode.debug.onDidStartDebugSession(async (s) => {
    const file = s.type === DEBUG_TYPE ? s.configuration.metrics : undefined;
    if (typeof file !== 'string' || !fs.existsSync(file)) return;
    if (vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === 'file' && path.resolve(e.document.uri.fsPath) === path.resolve(file))) return;
    try {
      await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false, preserveFocus: true });
    } catch (e) {
      log().warn(`could not open ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

export class MetricHover implements vscode.EvaluatableExpressionProvider {
  constructor(private readonly sessions: Sessions) {}

  provideEvaluatableExpression(doc: vscode.TextDocument, pos: vscode.Position): vscode.EvaluatableExpression | undefined {
    if (!this.sessions.pausedFor(doc.uri.fsPath) && !this.sessions.pausedFor(undefined)) return undefined;
    const text = doc.getText();
    const fn = pickMetricFunction(findMetricFunctions(text, doc.uri.fsPath));
    const hit = expressionAt(doc.lineAt(pos.line).text, pos.character, fn && metricParam(text, fn.line));
    if (!hit) return undefined;
    return new vscode.EvaluatableExpression(new vscode.Range(pos.line, hit.start, pos.line, hit.end), hit.expression);
  }
}
