// What the extension knows about each evalpred debug session, learned by watching its DAP traffic (a
// DebugAdapterTracker), so it works the same with the inline and the executable adapter: paused or not,
// the cache folder, the metric file, progress, and the last metrics (the state machine is ./runState.ts,
// fed only by structured events). Plus a per-workspace record of metric file -> cache + last metrics, so
// the CodeLens and reruns keep working after the session ends.
import { core } from './core';
import path from 'node:path';
import * as vscode from 'vscode';
import { ContextKeys, DEBUG_TYPE } from './contributions';
import { log } from './log';
import type { MetricsRecord } from '../shared/dapProtocol';
import { RunState, applyAdapterMessage, initialRunState } from './runState';

export type { Progress } from './runState';

export interface SessionState extends RunState {
  session: vscode.DebugSession;
}

/** Remembered per metric file in workspaceState. */
export interface MetricFileRecord {
  cacheDir: string;
  numSamples?: number;
  function?: string;
  lastMetrics?: MetricsRecord;
}

const RECORDS_KEY = 'evalpred.metricFiles';

export function numSamplesIn(cacheDir: string | undefined): number | undefined {
  if (!cacheDir) return undefined;
  return core().tryReadCacheManifest(cacheDir)?.num_samples;
}

export function normalizeFile(f: string): string {
  return path.resolve(f);
}

export class Sessions implements vscode.Disposable {
  private readonly states = new Map<string, SessionState>();
  private readonly changed = new vscode.EventEmitter<SessionState | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly metricsSeen = new vscode.EventEmitter<{ state?: SessionState; metrics: MetricsRecord }>();
  readonly onDidPrintMetrics = this.metricsSeen.event;
  private readonly stopped = new vscode.EventEmitter<SessionState>();
  /** The session stopped (boundary, batch or metric error: see `stopReason`). */
  readonly onDidStop = this.stopped.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly memento: vscode.Memento) {
    this.subs.push(
      this.changed,
      this.metricsSeen,
      this.stopped,
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, { createDebugAdapterTracker: (s) => this.track(s) }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        const st = this.states.get(s.id);
        if (!st) return;
        this.states.delete(s.id);
        this.fire(undefined);
      }),
    );
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }

  all(): SessionState[] {
    return [...this.states.values()];
  }

  get(id: string): SessionState | undefined {
    return this.states.get(id);
  }

  /** The session a command should act on: the active evalpred session, else the only/first one. */
  current(): SessionState | undefined {
    const a = vscode.debug.activeDebugSession;
    return (a && this.states.get(a.id)) ?? this.all()[0];
  }

  pausedFor(file: string | undefined): SessionState | undefined {
    const f = file && normalizeFile(file);
    const paused = this.all().filter((s) => s.paused);
    return f ? paused.find((s) => s.metricsFile === f) : paused.find((s) => s.session === vscode.debug.activeDebugSession) ?? paused[0];
  }

  forFile(file: string): SessionState | undefined {
    const f = normalizeFile(file);
    return this.all().find((s) => s.metricsFile === f);
  }

  running(): SessionState | undefined {
    return this.all().find((s) => s.progress);
  }

  records(): Record<string, MetricFileRecord> {
    return this.memento.get<Record<string, MetricFileRecord>>(RECORDS_KEY, {});
  }

  record(file: string): MetricFileRecord | undefined {
    return this.records()[normalizeFile(file)];
  }

  async remember(file: string, rec: Partial<MetricFileRecord> & { cacheDir?: string }): Promise<void> {
    const all = { ...this.records() };
    const f = normalizeFile(file);
    const prev = all[f];
    const cacheDir = rec.cacheDir ?? prev?.cacheDir;
    if (!cacheDir) return;
    all[f] = { ...prev, ...rec, cacheDir };
    await this.memento.update(RECORDS_KEY, all);
    this.fire(undefined);
  }

  async forget(): Promise<void> {
    await this.memento.update(RECORDS_KEY, {});
    this.fire(undefined);
  }

  /** Metrics computed outside a session (a rerun on the remembered cache), for the views. */
  noteMetrics(metrics: MetricsRecord): void {
    this.metricsSeen.fire({ metrics });
  }

  private fire(s: SessionState | undefined): void {
    const any = this.all();
    void vscode.commands.executeCommand('setContext', ContextKeys.Paused, any.some((x) => x.paused));
    void vscode.commands.executeCommand('setContext', ContextKeys.Running, any.some((x) => x.progress));
    this.changed.fire(s);
  }

  private track(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    const state: SessionState = { session, ...initialRunState(session.configuration, normalizeFile) };
    this.states.set(session.id, state);
    this.fire(state);
    return {
      onDidSendMessage: (m: unknown) => this.onMessage(state, m),
      onError: (e) => log().error(`evalpred debug adapter: ${e.message}`),
      onExit: (code, signal) => {
        if (code) log().warn(`evalpred debug adapter exited with ${signal ?? `code ${code}`}`);
      },
    };
  }

  private onMessage(state: SessionState, message: unknown): void {
    switch (applyAdapterMessage(state, message, normalizeFile)) {
      case 'none':
        return;
      case 'stopped':
        log().info(`${state.session.name}: stopped (${state.stopReason})${state.numSamples !== undefined ? `, ${state.numSamples} samples cached in ${state.cacheDir}` : ''}`);
        if (state.metricsFile && state.cacheDir) void this.remember(state.metricsFile, { cacheDir: state.cacheDir, numSamples: state.numSamples, function: state.functionName });
        this.fire(state);
        this.stopped.fire(state);
        return;
      case 'metrics': {
        const metrics = state.lastMetrics!;
        log().info(`metrics (${state.session.name}): ${JSON.stringify(metrics)}`);
        this.metricsSeen.fire({ state, metrics });
        if (state.metricsFile && state.cacheDir) void this.remember(state.metricsFile, { cacheDir: state.cacheDir, lastMetrics: metrics, numSamples: state.numSamples });
        break;
      }
    }
    this.fire(state);
  }
}
