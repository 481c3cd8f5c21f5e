// Editor features for the metric file: the CodeLens above the metric function, inline values while paused
// (shape, dtype and decoded first samples next to eval_pred / predictions / labels, as InlineValueText) and
// the hover expression for the Debug Console evaluator.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { CacheSummary, summarizeCache } from './cacheSummary';
import { Commands } from './contributions';
import { expressionAt, findMetricFunctions, firstMentions, functionRange, pickMetricFunction, summarizeMetrics } from './metricSource';
import { numSamplesIn, Sessions } from './sessions';
import { setting } from './settings';

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
  private summaries = new Map<string, { mtimeMs: number; summary: Promise<CacheSummary> }>();

  constructor(private readonly sessions: Sessions) {
    sessions.onDidChange(() => this.changed.fire());
    vscode.window.onDidChangeActiveTextEditor(() => this.changed.fire());
  }

  private summary(cacheDir: string): Promise<CacheSummary> | undefined {
    let m: number;
    try {
      m = fs.statSync(path.join(cacheDir, 'manifest.json')).mtimeMs; // a rerun of the loop rewrites the cache
    } catch {
      return undefined;
    }
    const hit = this.summaries.get(cacheDir);
    if (hit && hit.mtimeMs === m) return hit.summary;
    const summary = summarizeCache(cacheDir);
    this.summaries.set(cacheDir, { mtimeMs: m, summary });
    // The first load (tokenizer + arrays) can outlast VS Code's inline-values request at the stop: ask again once ready.
    void summary.then(() => this.changed.fire(), () => {});
    return summary;
  }

  async provideInlineValues(doc: vscode.TextDocument, viewPort: vscode.Range, _ctx: vscode.InlineValueContext): Promise<vscode.InlineValue[]> {
    if (!setting('inlineValues', doc.uri)) return [];
    const state = this.sessions.pausedFor(doc.uri.fsPath);
    if (!state?.cacheDir) return [];
    const text = doc.getText();
    const fn = pickMetricFunction(findMetricFunctions(text, doc.uri.fsPath), state.functionName);
    if (!fn) return [];
    const [from, to] = functionRange(text, doc.uri.fsPath, fn.line);
    let summary: CacheSummary | undefined;
    try {
      summary = await this.summary(state.cacheDir);
    } catch {
      return [];
    }
    if (!summary) return [];
    const out: vscode.InlineValue[] = [];
    for (const m of firstMentions(text, Math.max(from, viewPort.start.line), Math.min(to, viewPort.end.line))) {
      const value = summary.text[m.field];
      if (!value) continue;
      const line = doc.lineAt(m.line);
      out.push(new vscode.InlineValueText(new vscode.Range(m.line, m.column, m.line, line.text.length), `${m.name}: ${value}`));
    }
    return out;
  }
}

export class MetricHover implements vscode.EvaluatableExpressionProvider {
  constructor(private readonly sessions: Sessions) {}

  provideEvaluatableExpression(doc: vscode.TextDocument, pos: vscode.Position): vscode.EvaluatableExpression | undefined {
    if (!this.sessions.pausedFor(doc.uri.fsPath) && !this.sessions.pausedFor(undefined)) return undefined;
    const hit = expressionAt(doc.lineAt(pos.line).text, pos.character);
    if (!hit) return undefined;
    return new vscode.EvaluatableExpression(new vscode.Range(pos.line, hit.start, pos.line, hit.end), hit.expression);
  }
}
