// The DAP face of EvalRuntime: it only translates requests into runtime calls and runtime events into
// protocol events (mock-debug's session/runtime split). What a stop looks like: one thread, one frame at
// the user's metric function (or the failing line), scopes eval_pred / sample / run.
import path from 'node:path';
import {
  Breakpoint,
  Event,
  InitializedEvent,
  InvalidatedEvent,
  LoggingDebugSession,
  OutputEvent,
  ProgressEndEvent,
  ProgressStartEvent,
  ProgressUpdateEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { isEvalpredError, messageOf } from '../core/errors';
import { evaluateExpression, formatValue, ExprContext } from '../core/expr';
import { sampleViews } from '../core/inspect/describe';
import { Lint, generationForLints, lintEvalPrediction } from '../core/lint/lints';
import { BoundaryStop, EvalRuntime, MetricErrorStop } from '../core/runtime/evalRuntime';
import { localIO } from '../core/runtime/io';
import { parseLaunchArgs } from '../core/runtime/launchSettings';
import { MetricLocation } from '../core/runtime/metricLocation';
import { EvalPredictionData, Tensor, TensorNode } from '../core/tensor/tensor';
import { LoadedTokenizer, loadTokenizer } from '../core/text';
import { FieldName, VariableStore } from './variables';
import type { LoopProgress } from '../core/loop/evaluationLoop';
import { DapEventName, DapEventTypes, DapEvents, DapRequestName, DapRequestTypes, DapRequests, RunInfoBody } from '../shared/dapProtocol';

const THREAD_ID = 1;
const ERR_LAUNCH = 1001;
const ERR_EVALUATE = 1002;
const ERR_STATE = 1003;

/** A custom request's handler: returns the response body; `afterResponse` queues events to send once the response is out. */
type CustomHandler<A, B> = (args: A, afterResponse: (send: () => void) => void) => Promise<B> | B;

type Stop =
  | { kind: 'boundary'; info: BoundaryStop }
  | { kind: 'batch'; progress: LoopProgress }
  | { kind: 'metricError'; info: MetricErrorStop };

export class EvalpredSession extends LoggingDebugSession {
  private runtime = new EvalRuntime(localIO);
  private paused?: Stop;
  private store = new VariableStore({ evalPred: emptyEvalPred(), tokenIdField: () => false });
  private tokenizer?: LoadedTokenizer;
  private sampleIndex = 0;
  private clientProgress = false;
  private progressId?: string;
  private progressCount = 0;
  private configured!: Promise<void>;
  private markConfigured!: () => void;
  private metricBreakpointFile?: string;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configured = new Promise((r) => (this.markConfigured = r));
    this.wireRuntime();
  }

  private wireRuntime(): void {
    const rt = this.runtime;
    rt.on('output', (text, category) => this.sendEvent(new OutputEvent(text, category)));
    rt.on('progress', (p) => {
      if (!this.clientProgress) return;
      if (p.kind === 'start') {
        this.progressId = `evalpred-${++this.progressCount}`;
        const e = new ProgressStartEvent(this.progressId, p.title, p.message);
        const body = e.body as DebugProtocol.ProgressStartEvent['body'];
        body.cancellable = true;
        body.percentage = 0;
        this.sendEvent(e);
      } else if (this.progressId) {
        if (p.kind === 'update') {
          const e = new ProgressUpdateEvent(this.progressId, p.message);
          (e.body as DebugProtocol.ProgressUpdateEvent['body']).percentage = p.percentage;
          this.sendEvent(e);
        } else {
          this.sendEvent(new ProgressEndEvent(this.progressId, p.message));
          this.progressId = undefined;
        }
      }
    });
    rt.on('stopOnBatch', (progress) => {
      this.setStop({ kind: 'batch', progress });
      const e = new StoppedEvent('breakpoint', THREAD_ID);
      (e.body as DebugProtocol.StoppedEvent['body']).description = `Paused after batch ${progress.batch} of ${progress.numBatches}`;
      this.sendEvent(e);
    });
    rt.on('stopOnBoundary', (info) => {
      void this.prepareBoundary(info).then(() => {
        this.setStop({ kind: 'boundary', info });
        const e = new StoppedEvent('breakpoint', THREAD_ID);
        const body = e.body as DebugProtocol.StoppedEvent['body'];
        body.description = info.afterMetrics ? 'Paused at compute_metrics (metrics computed; edit and continue to rerun)' : 'Paused at compute_metrics(eval_pred)';
        this.sendEvent(e);
      });
    });
    rt.on('stopOnMetricError', (info) => {
      this.setStop({ kind: 'metricError', info });
      this.sendEvent(new StoppedEvent('exception', THREAD_ID, info.error.message));
    });
    rt.on('ready', () => this.sendDapEvent(DapEvents.RunInfo, this.runInfoBody()!));
    rt.on('metrics', (r) => {
      let text = `metrics (${Math.round(r.outcome.durationMs)} ms):\n${r.outcome.json}\n`;
      if (r.previous) text += r.diff.length ? `changes since the previous run:\n${r.diff.map((l) => `  ${l}`).join('\n')}\n` : 'no change since the previous run\n';
      this.sendEvent(new OutputEvent(text, 'stdout'));
      this.sendDapEvent(DapEvents.Metrics, { metrics: r.outcome.metrics, json: r.outcome.json, durationMs: r.outcome.durationMs, diff: r.diff });
    });
    rt.on('end', () => this.sendEvent(new TerminatedEvent()));
  }

  private sendDapEvent<E extends DapEventName>(name: E, body: DapEventTypes[E]): void {
    this.sendEvent(new Event(name, body));
  }

  private runInfoBody(): RunInfoBody | undefined {
    const ev = this.runtime.evaluation;
    const run = this.runtime.settings?.run;
    if (!ev) return undefined;
    return { cacheDir: ev.cacheDir, cacheKey: ev.manifest.key, numSamples: ev.manifest.num_samples, fromCache: ev.fromCache, metricsFile: run?.metrics, functionName: run?.function, task: ev.loop?.task };
  }

  private async prepareBoundary(info: BoundaryStop): Promise<void> {
    if (this.tokenizer) return;
    const model = this.runtime.settings?.run.model || ((info.evaluation.manifest.producer as { model?: { path?: string } }).model?.path ?? '');
    if (!model) return;
    try {
      this.tokenizer = await loadTokenizer(model);
    } catch {
      /* no tokenizer: decode() explains itself when asked */
    }
  }

  private setStop(stop: Stop): void {
    this.paused = stop;
    const ep = stop.kind === 'batch' ? emptyEvalPred() : this.runtime.evaluation?.evalPred ?? emptyEvalPred();
    this.store.reset({ evalPred: ep, decode: this.decoder(), tokenIdField: (f) => this.tokenIdField(f) });
  }

  private decoder(): ((ids: number[]) => string) | undefined {
    const tok = this.tokenizer;
    return tok ? (ids) => tok.decode(ids, { skipSpecialTokens: true }) : undefined;
  }

  private tokenIdField(f: FieldName): boolean {
    if (f === 'inputs') return true;
    return (f === 'predictions' || f === 'label_ids') && !!this.runtime.settings?.run.predictWithGenerate;
  }

  // ------------------------------------------------------------------------------------------ requests

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.clientProgress = !!args.supportsProgressReporting;
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsRestartFrame: true,
      supportsExceptionInfoRequest: true,
      supportsCancelRequest: true,
      supportsTerminateRequest: true,
      supportsSetVariable: false,
      supportsStepBack: false,
      supportsConditionalBreakpoints: false,
      supportsCompletionsRequest: false,
    };
    // Not a DAP Capabilities field (it is the client's flag): stated so clients can see we send progress events.
    (response.body as Record<string, unknown>).supportsProgressReporting = true;
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.markConfigured();
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): Promise<void> {
    let launch;
    try {
      launch = parseLaunchArgs(args as Record<string, unknown>, localIO);
    } catch (e) {
      this.sendErrorResponse(response, { id: ERR_LAUNCH, format: messageOf(e).replace(/[{}]/g, ''), showUser: true });
      return;
    }
    // Breakpoints and function breakpoints come before configurationDone; do not start without them
    // (but do not hang on a client that never sends it).
    await Promise.race([this.configured, new Promise((r) => setTimeout(r, 1000))]);
    this.metricBreakpointFile = launch.run.metrics;
    this.sendResponse(response);
    void this.runtime.start(launch);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const file = args.source.path ?? '';
    const bps = args.breakpoints ?? [];
    // Breakpoints usually arrive before launch names the metric file: then they are verified optimistically
    // (the stop at the boundary happens regardless of them).
    const metricFile = this.metricBreakpointFile;
    const ok = !metricFile || samePath(file, metricFile);
    response.body = {
      breakpoints: bps.map((bp) => {
        const b = new Breakpoint(ok, this.convertDebuggerLineToClient(bp.line)) as DebugProtocol.Breakpoint;
        b.message = ok
          ? 'evalpred stops at the compute_metrics boundary (a breakpoint anywhere in the metric file means: stop there)'
          : `evalpred only stops in the metric file ${metricFile}`;
        return b;
      }),
    };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.runtime.batchStops.clear();
    response.body = {
      breakpoints: args.breakpoints.map((fb) => {
        const m = /^\s*batch\s+(\d+)\s*$/i.exec(fb.name);
        if (m && Number(m[1]) >= 1) {
          this.runtime.batchStops.add(Number(m[1]));
          return { verified: true, message: `stop after batch ${m[1]}` };
        }
        if (/^\s*(compute_metrics|computeMetrics|eval_pred|boundary)\s*$/.test(fb.name) || fb.name.trim() === this.runtime.settings?.run.function) {
          return { verified: true, message: 'evalpred always stops at the compute_metrics boundary' };
        }
        return { verified: false, message: `unknown function breakpoint "${fb.name}": use "batch N" to stop after batch N` };
      }),
    };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse): void {
    this.sendResponse(response);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD_ID, 'evaluation')] };
    this.sendResponse(response);
  }

  private frameAt(id: number, loc: MetricLocation | null, fallbackName: string): DebugProtocol.StackFrame {
    if (!loc || !loc.file) return new StackFrame(id, fallbackName);
    return new StackFrame(id, `${loc.name}(eval_pred)`, new Source(path.basename(loc.file), this.convertDebuggerPathToClient(loc.file)), this.convertDebuggerLineToClient(loc.line));
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse): void {
    const s = this.paused;
    const frames: DebugProtocol.StackFrame[] = [];
    if (s?.kind === 'boundary') frames.push(this.frameAt(1, s.info.location, 'compute_metrics (built-in metrics)'));
    else if (s?.kind === 'batch') frames.push(new StackFrame(1, `evaluation loop: after batch ${s.progress.batch} of ${s.progress.numBatches}`));
    else if (s?.kind === 'metricError') {
      frames.push(this.frameAt(1, s.info.location, 'compute_metrics'));
      const f = new StackFrame(2, 'Trainer.evaluate → compute_metrics(eval_pred)') as DebugProtocol.StackFrame;
      f.presentationHint = 'subtle';
      frames.push(f);
    }
    response.body = { stackFrames: frames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse): void {
    const s = this.paused;
    const scopes: DebugProtocol.Scope[] = [];
    if (s?.kind === 'batch') {
      const p = s.progress;
      scopes.push(new Scope('progress', this.store.record(() => plainVariables(p as unknown as Record<string, unknown>)), false));
    } else if (s) {
      scopes.push(new Scope('eval_pred', this.store.evalPredScope(), false));
      scopes.push(new Scope('sample', this.store.record(() => this.sampleVariables()), false));
      scopes.push(new Scope('run', this.store.record(() => this.runVariables()), true));
    }
    response.body = { scopes };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    response.body = { variables: this.store.variables(args.variablesReference, args.filter, args.start, args.count) };
    this.sendResponse(response);
  }

  private sampleVariables(): DebugProtocol.Variable[] {
    const ev = this.runtime.evaluation;
    if (!ev) return [];
    const ep = ev.evalPred;
    const n = firstRows(ep.predictions);
    const i = Math.min(this.sampleIndex, Math.max(0, n - 1));
    const slice = (node: TensorNode | null): TensorNode | null => (node instanceof Tensor && node.ndim > 0 ? node.rows(i, i + 1) : null);
    // For a tuple of outputs the first member is the logits, as compute_metrics code usually assumes.
    const first = (node: TensorNode | null): TensorNode | null => (node && !(node instanceof Tensor) && 'tuple' in node ? node.tuple[0] ?? null : node);
    const one: EvalPredictionData = { predictions: slice(first(ep.predictions)), labelIds: slice(ep.labelIds), inputs: slice(ep.inputs), losses: slice(ep.losses) };
    const view = one.predictions ? sampleViews(one, 1, { tokenizer: this.tokenizer, id2label: ev.loop?.info?.id2label, task: ev.loop?.task })[0] : undefined;
    const out: DebugProtocol.Variable[] = [{ name: 'index', value: String(i), variablesReference: 0, evaluateName: 'sample' }];
    if (view?.input !== undefined) out.push({ name: 'input', value: JSON.stringify(view.input), variablesReference: 0, evaluateName: `decode(inputs[${i}])` });
    out.push({ name: 'prediction', value: view?.prediction ? JSON.stringify(view.prediction) : 'n/a', variablesReference: 0 });
    if (view?.label !== undefined) out.push({ name: 'label', value: JSON.stringify(view.label), variablesReference: 0 });
    if (view?.correct !== undefined) out.push({ name: 'correct', value: view.correct ? 'True' : 'False', variablesReference: 0 });
    const fields: [string, TensorNode | null][] = [['predictions', ep.predictions], ['label_ids', ep.labelIds], ['inputs', ep.inputs], ['losses', ep.losses]];
    // A tuple (extra model outputs, QA start/end labels) shows each member's row: predictions[0][i], predictions[1][i]…
    // A list (eval_do_concat_batches=False) holds per-batch arrays, so it has no per-sample row.
    const rowsOf = (name: string, node: TensorNode | null): void => {
      if (node instanceof Tensor) {
        if (node.ndim > 0 && i < node.shape[0]) out.push(this.store.forValue(`${name}[${i}]`, node.ndim === 1 ? node.rows(i, i + 1).reshape([]) : node.row(i), `${name}[${i}]`));
      } else if (node && 'tuple' in node) node.tuple.forEach((member, j) => rowsOf(`${name}[${j}]`, member));
    };
    for (const [name, node] of fields) rowsOf(name, node);
    return out;
  }

  private runVariables(): DebugProtocol.Variable[] {
    const ev = this.runtime.evaluation;
    const launch = this.runtime.settings;
    if (!ev || !launch) return [];
    const out: DebugProtocol.Variable[] = [
      { name: 'cacheDir', value: ev.cacheDir, variablesReference: 0 },
      { name: 'cacheKey', value: ev.manifest.key, variablesReference: 0 },
      { name: 'fromCache', value: ev.fromCache ? 'True' : 'False', variablesReference: 0 },
      { name: 'numSamples', value: String(ev.manifest.num_samples), variablesReference: 0 },
      { name: 'settings', value: 'launch settings', variablesReference: this.store.record(() => plainVariables(launch.run as unknown as Record<string, unknown>)) },
    ];
    if (ev.loop) {
      const timings = { runtimeSeconds: ev.loop.runtimeSeconds, numSteps: ev.loop.numSteps, evalLoss: ev.loop.evalLoss, task: ev.loop.task, lastMetricsMs: this.runtime.lastOutcome?.durationMs ?? null };
      out.push({ name: 'timings', value: `${ev.loop.runtimeSeconds.toFixed(3)} s`, variablesReference: this.store.record(() => plainVariables(timings)) });
      if (ev.loop.notes?.length) out.push({ name: 'notes', value: `${ev.loop.notes.length} notes`, variablesReference: this.store.record(() => plainVariables(ev.loop.notes as unknown as Record<string, unknown>)) });
    }
    if (this.runtime.lastOutcome) {
      const m = this.runtime.lastOutcome.metrics;
      out.push({ name: 'metrics', value: this.runtime.lastOutcome.json.replace(/\s+/g, ' '), variablesReference: this.store.record(() => plainVariables(m as Record<string, unknown>)) });
    }
    out.push({
      name: 'lints',
      value: 'pitfall checks',
      presentationHint: { lazy: true },
      variablesReference: this.store.record(() => {
        const lints = this.lints();
        const value = lints.length ? lints.map((l) => `${l.id}: ${l.message}`).join(' | ') : 'no pitfalls found';
        return [{ name: 'lints', value, variablesReference: lints.length ? this.store.record(() => lints.map((l, k) => ({ name: `[${k}] ${l.id}`, value: `${l.message} Fix: ${l.fix}`, variablesReference: 0 }))) : 0 }];
      }),
    });
    return out;
  }

  private lints(): Lint[] {
    const ev = this.runtime.evaluation;
    const launch = this.runtime.settings;
    if (!ev || !launch) return [];
    let source: string | undefined;
    try {
      source = launch.run.metrics ? localIO.readText(launch.run.metrics) : undefined;
    } catch {
      /* unreadable file: lint without the source */
    }
    const generation = launch.run.predictWithGenerate ? generationForLints(launch.run.model) : undefined;
    return lintEvalPrediction({ evalPred: ev.evalPred, numSamples: ev.manifest.num_samples, settings: launch.run, source, task: ev.loop?.task, generation });
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    const ev = this.runtime.evaluation;
    if (!ev || !this.paused || this.paused.kind === 'batch') {
      this.sendErrorResponse(response, { id: ERR_STATE, format: 'no EvalPrediction yet: expressions work once the run is paused at compute_metrics', showUser: false });
      return;
    }
    const ctx: ExprContext = { evalPred: ev.evalPred, decode: this.decoder(), names: { sample: this.sampleIndex } };
    try {
      const value = evaluateExpression(args.expression, ctx);
      const v = this.store.forValue('result', value, args.expression.trim());
      response.body = { result: v.value, type: v.type, variablesReference: v.variablesReference, indexedVariables: v.indexedVariables, namedVariables: v.namedVariables };
      if (args.context === 'clipboard') response.body.result = formatValue(value);
      this.sendResponse(response);
    } catch (e) {
      const msg = isEvalpredError(e) ? e.message : `internal error: ${messageOf(e)}`;
      this.sendErrorResponse(response, { id: ERR_EVALUATE, format: msg.replace(/[{}]/g, ''), showUser: args.context === 'repl' });
    }
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.runtime.continue();
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    this.continueRequest(response as DebugProtocol.ContinueResponse);
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendErrorResponse(response, { id: ERR_STATE, format: 'evalpred pauses between batches only: add a function breakpoint "batch N" (or stopOnBatch)', showUser: true });
  }

  protected override async restartFrameRequest(response: DebugProtocol.RestartFrameResponse): Promise<void> {
    this.sendResponse(response);
    const ok = await this.runtime.rerunMetrics();
    if (ok) {
      this.setStop({ kind: 'boundary', info: { evaluation: this.runtime.evaluation!, location: this.runtime.location(), afterMetrics: true } });
      this.sendEvent(new InvalidatedEvent(['variables']));
      this.sendEvent(new StoppedEvent('restart', THREAD_ID));
    }
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const s = this.paused;
    if (s?.kind !== 'metricError') {
      this.sendErrorResponse(response, { id: ERR_STATE, format: 'not stopped on a metric error', showUser: false });
      return;
    }
    const err = s.info.error;
    const typeName = /\b([A-Z][A-Za-z]*(Error|Exception))\b/.exec(err.message)?.[1] ?? err.name;
    response.body = {
      exceptionId: typeName,
      description: err.message,
      breakMode: 'always',
      details: { message: err.message, typeName, stackTrace: s.info.traceback || undefined, fullTypeName: typeName },
    };
    this.sendResponse(response);
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    if (args.progressId && args.progressId === this.progressId) this.runtime.cancel();
    this.sendResponse(response);
  }

  protected override async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    const handler = (this.customHandlers as Partial<Record<string, CustomHandler<unknown, unknown>>>)[command];
    if (!handler) return super.customRequest(command, response, args);
    const after: (() => void)[] = [];
    try {
      response.body = await handler(args, (fn) => after.push(fn));
      this.sendResponse(response);
      for (const fn of after) fn();
    } catch (e) {
      this.sendErrorResponse(response, { id: ERR_STATE, format: messageOf(e).replace(/[{}]/g, ''), showUser: true });
    }
  }

  /** One handler per custom request of src/shared/dapProtocol.ts; the mapped type makes tsc fail when one is missing. */
  private readonly customHandlers: { [R in DapRequestName]: CustomHandler<DapRequestTypes[R]['args'], DapRequestTypes[R]['body']> } = {
    [DapRequests.RerunMetrics]: async (_args, afterResponse) => {
      const outcome = await this.runtime.rerunMetrics();
      if (!outcome) {
        const s = this.paused;
        return { error: s?.kind === 'metricError' ? s.info.error.message : 'nothing to run yet' };
      }
      afterResponse(() => this.sendEvent(new InvalidatedEvent(['variables'])));
      return { metrics: outcome.metrics, json: outcome.json, durationMs: outcome.durationMs };
    },
    [DapRequests.SelectSample]: (args, afterResponse) => {
      const index = (args as { index?: unknown } | undefined)?.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new Error(`selectSample needs a sample index >= 0, got ${JSON.stringify(index)}`);
      this.sampleIndex = index;
      afterResponse(() => this.sendEvent(new InvalidatedEvent(['variables'])));
      return undefined;
    },
    [DapRequests.RunInfo]: () => this.runInfoBody(),
    [DapRequests.Lints]: () => ({ lints: this.lints().map(({ id, severity, message, fix, line }) => ({ id, severity, message, fix, line })) }),
    [DapRequests.Stats]: (args) => {
      // The adapter's own memory, for bench/debugPaging.ts (paging must not grow it with the tensor size).
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc && args?.gc) gc(); // only when the adapter runs with --expose-gc
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
    },
  };

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    const sawEnd = this.runtime.current === 'ended';
    await this.runtime.shutdown();
    this.sendResponse(response);
    // The runtime's `end` already sent `terminated`, unless the session had ended before (or never started).
    if (sawEnd || this.runtime.current !== 'ended') this.sendEvent(new TerminatedEvent());
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments): Promise<void> {
    await this.runtime.shutdown();
    super.disconnectRequest(response, args);
  }
}

function emptyEvalPred(): EvalPredictionData {
  return { predictions: null, labelIds: null, inputs: null, losses: null };
}

function firstRows(node: TensorNode | null): number {
  if (!node) return 0;
  if (node instanceof Tensor) return node.ndim ? node.shape[0] : 0;
  const items = 'tuple' in node ? node.tuple : node.list;
  return items.length ? firstRows(items[0]) : 0;
}

function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b) || (process.platform !== 'linux' && path.resolve(a).toLowerCase() === path.resolve(b).toLowerCase());
}

/** JSON-ish values as a variable list (records and arrays expand only when asked). */
function plainVariables(obj: Record<string, unknown> | unknown[]): DebugProtocol.Variable[] {
  return Object.entries(obj).map(([k, v]) => ({
    name: Array.isArray(obj) ? `[${k}]` : k,
    value: v === null || v === undefined ? 'None' : typeof v === 'object' ? JSON.stringify(v) : typeof v === 'string' ? v : String(v),
    variablesReference: 0,
  }));
}
