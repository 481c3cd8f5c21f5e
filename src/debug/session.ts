// The DAP face of EvalRuntime (mock-debug's MockDebugSession; docs/architecture.md, "The debug adapter"):
// it maps DAP requests to runtime calls and runtime events to DAP events, and nothing else. What a stop
// is, its frames, samples, run info, lints and expressions are the runtime's; the custom requests and
// events are the typed ones of src/shared/dapProtocol.ts. Tensors become paged variables in ./variables.ts,
// the sample and run scopes are built in ./scopeVariables.ts.
import fs from 'node:fs';
import path from 'node:path';
import {
  Breakpoint,
  BreakpointEvent,
  ContinuedEvent,
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
import { helpLines, runSliced } from '../core/expr';
import { EvalRuntime, RuntimeRunInfo, RuntimeStop } from '../core/runtime/evalRuntime';
import { RuntimeServices, localServices } from '../core/runtime/io';
import type { Lint } from '../core/lint/lints';
import { inLaunchTerms } from '../core/runtime/launchSettings';
import type { Gen } from '../core/tensor/blocks';
import type { EvalPredictionData } from '../core/tensor/tensor';
import { DapEventName, DapEventTypes, DapEvents, DapRequestName, DapRequestTypes, DapRequests, RunInfoBody } from '../shared/dapProtocol';
import { batchCallVariables, plainVariables, runVariables, sampleVariables } from './scopeVariables';
import { VariableStore } from './variables';
import { DebugpyBridge, EXCEPTION_FILTERS, LABEL_FRAME_ID } from './python/debugpyBridge';
import { hiddenPythonPaths } from '../core/metrics/pyRunner';
import { clipboardText } from './clipboard';
import { completionsAt } from './completions';
import { hiddenJsPaths } from '../core/metrics/jsRunner';
import { InspectorBridge, NODE_REF_BASE } from './node/inspectorBridge';
import { StartupTimeline } from './startupTimeline';

const THREAD_ID = 1;
/** A TS/JS metric file (its breakpoints go to the Node inspector). */
const JS_FILE = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/i;
/** What `help` answers in the Debug Console. */
const CONSOLE_HELP = [
  'Paused at compute_metrics: what you type is your metric\'s language. Python for a .py metric, evaluated in your',
  'module with the EvalPrediction under your parameter\'s name (and eval_pred), NumPy as np; JavaScript for a TS/JS',
  'metric, in its process with your exports and the EvalPrediction under your parameter\'s name (and evalPred).',
  'Stopped at a breakpoint inside your function, it runs in that frame.',
  'Start a line with ":" for the safe expression language (no code runs):',
  '  :predictions.shape   :label_ids[:8]   :argmax(predictions, -1)[0]   :decode(inputs[sample])   :softmax(predictions[0])',
  '  :count(label_ids == -100)   :mean(losses)   — indexing, slices, masks, broadcasting.',
  'Under batch_eval_metrics with inputs, inputs is the call\'s batch mapping: :inputs["attention_mask"]   :inputs.labels   :inputs.keys()',
  'Its functions:',
  ...helpLines(),
].join('\n');
const ERR_LAUNCH = 1001;
const ERR_EVALUATE = 1002;
const ERR_STATE = 1003;
const ERR_VARIABLES = 1004;

/** A custom request's handler: returns the response body; `afterResponse` queues events to send once the response is out. */
type CustomHandler<A, B> = (args: A, afterResponse: (send: () => void) => void) => Promise<B> | B;

export class EvalpredSession extends LoggingDebugSession {
  private runtime: EvalRuntime;
  private store = new VariableStore({ evalPred: emptyEvalPred(), tokenIdField: () => false });
  /** The row the `sample` scope shows (custom request selectSample). */
  private sampleIndex = 0;
  private clientProgress = false;
  private progressId?: string;
  private progressCount = 0;
  private configured!: Promise<void>;
  private markConfigured!: () => void;
  /** Line debugging of a Python metric: debugpy in the metric's worker (README "Debugging your metric"). */
  private readonly python = new DebugpyBridge(
    hiddenPythonPaths(),
    (name) => this.timeline.mark(name),
    () => this.runtime.settings?.run.metrics,
  );
  /** The metric's thread stopped in Python during the current run (a rerun then re-announces the boundary stop). */
  private stoppedInPython = false;
  /**
   * The last stop the client was sent is inside the metric (debugpy or the inspector), not the boundary.
   * debugpy's `continued` can arrive after the metric has finished and the boundary stop was sent: forwarded
   * then, it would show a paused session as running.
   */
  private clientSeesMetricStop = false;
  /**
   * A rerun started while the client shows the boundary stop (a save or the CodeLens: no continue request).
   * A stop inside the metric must first say the boundary thread runs again, or the client keeps the
   * boundary's stop description ("Paused at compute_metrics …") over the new stop.
   */
  private rerunFromBoundary = false;
  /** Line debugging of a TS/JS metric: the Node inspector of its worker process (./node/inspectorBridge.ts). */
  private readonly node = new InspectorBridge(hiddenJsPaths(), THREAD_ID);
  /** When each start-up step happened (the Stats request answers it; bench/pythonDebug.ts prints it). */
  private readonly timeline = new StartupTimeline();

  constructor(services: RuntimeServices = localServices()) {
    super();
    this.runtime = new EvalRuntime(services, {
      attach: (port) => this.python.attach(port),
      paused: () => this.python.paused,
      breakpointFiles: () => this.python.breakpointFiles(),
      reached: (files, done) => this.python.reached(files, done),
      mark: (name, at) => this.timeline.mark(name, at),
      unavailable: (why) => {
        const first = !this.python.unavailable;
        this.python.markUnavailable(why);
        if (first) this.sendEvent(new OutputEvent(`${why}\n`, 'console')); // once per session
      },
    }, {
      attach: (url) => this.node.attach(url),
      beforeLoad: (bundle) => this.node.beforeLoad(bundle),
      paused: () => this.node.paused,
      unavailable: (why) => {
        if (!this.node.unavailable) this.sendEvent(new OutputEvent(`${why}\n`, 'console'));
        this.node.markUnavailable(why);
      },
    });
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configured = new Promise((r) => (this.markConfigured = r));
    this.wireRuntime();
  }

  private wireRuntime(): void {
    const rt = this.runtime;
    // Our notes and errors name launch attributes here (the CLI prints the same lines with flags); the user's own output is theirs.
    rt.on('output', (text, category) => this.sendEvent(new OutputEvent(category === 'stdout' ? text : inLaunchTerms(text), category)));
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
    rt.on('ready', (info) => {
      this.timeline.mark('predictions ready (cache read)');
      this.sendDapEvent(DapEvents.RunInfo, runInfoBody(info));
    });
    rt.on('stop', (stop) => this.onStop(stop));
    rt.on('metrics', (r) => {
      let text = `metrics (${Math.round(r.outcome.durationMs)} ms):\n${r.outcome.json}\n`;
      if (r.previous) text += r.diff.length ? `changes since the previous run:\n${r.diff.map((l) => `  ${l}`).join('\n')}\n` : 'no change since the previous run\n';
      this.sendEvent(new OutputEvent(text, 'stdout'));
      this.sendDapEvent(DapEvents.Metrics, { metrics: r.outcome.metrics, json: r.outcome.json, durationMs: r.outcome.durationMs, diff: r.diff });
    });
    rt.on('end', () => this.sendEvent(new TerminatedEvent()));
    const py = this.python;
    py.on('stopped', (body) => this.metricStopped(body));
    py.on('continued', () => this.metricContinued(py.stoppedThread ?? THREAD_ID));
    py.on('breakpoint', (bp) => this.sendEvent(new BreakpointEvent('changed', bp as DebugProtocol.Breakpoint)));
    py.on('output', (text, category) => this.sendEvent(new OutputEvent(text, category)));
    const node = this.node;
    node.on('stopped', (body) => this.metricStopped(body));
    node.on('continued', () => this.metricContinued(THREAD_ID));
    node.on('breakpoint', (bp) => this.sendEvent(new BreakpointEvent('changed', bp as DebugProtocol.Breakpoint)));
    node.on('output', (text, category) => this.sendEvent(new OutputEvent(text, category)));
  }

  /** While a TS/JS metric is paused in the inspector, requests about threads, frames and values are the bridge's. */
  private async forwardToNode(response: DebugProtocol.Response, command: string, args: unknown): Promise<void> {
    try {
      response.body = await this.node.request(command, (args ?? {}) as Record<string, unknown>, `Trainer.evaluate → ${this.runtime.location()?.name ?? 'computeMetrics'}(…)`);
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: ERR_EVALUATE, format: messageOf(e).replace(/[{}]/g, ''), showUser: command === 'evaluate' });
    }
  }

  /** While the metric's thread is stopped in Python, requests about threads, frames and values are debugpy's. */
  private get inPython(): boolean {
    return this.python.paused;
  }

  /** Answer `response` with debugpy's body for the same request (errors as error responses). */
  private async forwardToPython(response: DebugProtocol.Response, command: string, args: unknown): Promise<void> {
    try {
      response.body = await this.python.forward(command, args);
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: ERR_EVALUATE, format: messageOf(e).replace(/[{}]/g, ''), showUser: command === 'evaluate' });
    }
  }

  /** The lints in launch.json words (src/core writes them with CLI flags), as a pass run in slices. */
  private *launchLints(): Gen<Lint[]> {
    return (yield* this.runtime.lintPass()).map((l) => ({ ...l, message: inLaunchTerms(l.message), fix: inLaunchTerms(l.fix) }));
  }

  private launchRunInfo(): RuntimeRunInfo | undefined {
    const info = this.runtime.runInfo();
    return info && { ...info, notes: info.notes?.map(inLaunchTerms) };
  }

  private sendDapEvent<E extends DapEventName>(name: E, body: DapEventTypes[E]): void {
    this.sendEvent(new Event(name, body));
  }

  /** Every stopped event goes through here: after it, the client shows that stop (see clientSeesMetricStop). */
  override sendEvent(event: DebugProtocol.Event): void {
    if (event.event === 'stopped') this.clientSeesMetricStop = false;
    super.sendEvent(event);
  }

  /** The metric's thread runs on inside the metric: said only while the client still shows a stop in there. */
  private metricContinued(threadId: number): void {
    if (!this.clientSeesMetricStop) return;
    this.clientSeesMetricStop = false;
    this.sendEvent(new ContinuedEvent(threadId, true));
  }

  /** A stop inside the metric (debugpy or the inspector: the same handling for both). */
  private metricStopped(body: DebugProtocol.StoppedEvent['body']): void {
    this.timeline.mark('stopped inside the metric');
    this.stoppedInPython = true; // a rerun then re-announces the boundary stop
    if (this.rerunFromBoundary) {
      // The first stop inside a rerun's metric: the boundary thread the client shows as stopped runs again.
      this.rerunFromBoundary = false;
      this.sendEvent(new ContinuedEvent(THREAD_ID, true));
    }
    this.sendEvent(Object.assign(new StoppedEvent(body.reason, body.threadId, body.text), { body }));
    this.clientSeesMetricStop = true;
  }

  /** A runtime stop as a DAP stopped event; variable references of the previous stop become invalid. */
  private onStop(stop: RuntimeStop): void {
    this.timeline.mark('boundary stop');
    this.stoppedInPython = false; // this stop is the announcement a client needs
    this.node.released(); // a runtime stop means the metric's run is over
    this.store.reset({
      evalPred: this.runtime.evalPredAtStop() ?? emptyEvalPred(),
      decode: this.runtime.decoder(),
      tokenIdField: (f) => this.runtime.holdsTokenIds(f),
      sequencesPerSample: this.runtime.sequencesPerSample(),
      inputsMapping: this.runtime.inputsMappingAtStop(),
    });
    if (stop.kind === 'batch') {
      const e = new StoppedEvent('breakpoint', THREAD_ID);
      (e.body as DebugProtocol.StoppedEvent['body']).description = `Paused after batch ${stop.progress.batch} of ${stop.progress.numBatches}`;
      this.sendEvent(e);
    } else if (stop.kind === 'metricError') {
      this.sendEvent(new StoppedEvent('exception', THREAD_ID, inLaunchTerms(stop.error.message)));
    } else if (stop.reason === 'restart') {
      this.sendEvent(new InvalidatedEvent(['variables']));
      this.sendEvent(new StoppedEvent('restart', THREAD_ID));
    } else {
      const e = new StoppedEvent('breakpoint', THREAD_ID);
      const call = stop.call;
      const fn = this.runtime.location()?.name ?? 'compute_metrics';
      // batch_eval_metrics: the stop names the call continue makes next (docs/trainer-semantics.md#batch_eval_metrics).
      const args = call ? `${this.runtime.paramName()}, compute_result=${call.computeResult ? 'True' : 'False'}` : this.runtime.paramName();
      const batch = call ? `: batch ${call.index + 1} of ${call.count}` : '';
      (e.body as DebugProtocol.StoppedEvent['body']).description =
        stop.reason === 'metrics'
          ? call
            ? `Paused at ${fn}(${args}) (metrics computed; continue calls it again from batch 1)`
            : 'Paused at compute_metrics (metrics computed; edit and continue to rerun)'
          : `Paused at ${fn}(${args})${batch}`;
      this.sendEvent(e);
    }
  }

  // ------------------------------------------------------------------------------------------ requests

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.timeline.mark('initialize request');
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
      // Conditions, hit counts and logpoints are debugpy's, in .py metric files (README "Debugging your metric").
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      // Names and attributes at the boundary (./completions.ts); debugpy's inside a Python frame, the inspector's
      // inside a TS/JS one (./node/frameCompletions.ts).
      supportsCompletionsRequest: true,
      completionTriggerCharacters: ['.'],
      // Copy Value gives the whole value, bounded (./clipboard.ts), not the shortened display.
      supportsClipboardContext: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS,
    };
    // Not a DAP Capabilities field (it is the client's flag): stated so clients can see we send progress events.
    (response.body as Record<string, unknown>).supportsProgressReporting = true;
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.timeline.mark('configurationDone request');
    this.markConfigured();
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): Promise<void> {
    this.timeline.mark('launch request');
    let launch;
    try {
      launch = this.runtime.parseLaunch(args as Record<string, unknown>);
    } catch (e) {
      this.sendErrorResponse(response, { id: ERR_LAUNCH, format: inLaunchTerms(messageOf(e)).replace(/[{}]/g, ''), showUser: true });
      return;
    }
    // The metric's worker (and its debugger) starts now, while the client sends its configuration.
    this.runtime.prepare(launch);
    // Breakpoints and function breakpoints come before configurationDone; do not start without them
    // (but do not hang on a client that never sends it).
    await Promise.race([this.configured, new Promise((r) => setTimeout(r, 1000))]);
    this.sendResponse(response);
    this.timeline.mark('run started');
    void this.runtime.start(launch);
  }

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    const bps = args.breakpoints ?? [];
    const file = this.convertClientPathToDebugger(args.source.path ?? '');
    if (/\.py$/i.test(file)) {
      // Python files: real line breakpoints in the metric's worker (debugpy moves a blank line's to code).
      const lines = bps.map((bp) => ({ ...bp, line: this.convertClientLineToDebugger(bp.line) }));
      this.runtime.setBreakpoints(file, lines.map((bp) => bp.line));
      const bound = await this.python.setBreakpoints(file, lines);
      response.body = { breakpoints: bound.map((b) => ({ ...b, line: b.line !== undefined ? this.convertDebuggerLineToClient(b.line) : undefined })) };
      this.sendResponse(response);
      return;
    }
    if (JS_FILE.test(file)) {
      // TS/JS files: real line breakpoints through the Node inspector, mapped by the bundle's source map.
      this.runtime.setBreakpoints(file, []);
      const bound = await this.node.setBreakpoints(file, bps.map((bp) => ({ ...bp, line: this.convertClientLineToDebugger(bp.line) })));
      response.body = { breakpoints: bound.map((b) => ({ ...b, line: b.line !== undefined ? this.convertDebuggerLineToClient(b.line) : undefined })) };
      this.sendResponse(response);
      return;
    }
    const answers = this.runtime.setBreakpoints(
      this.convertClientPathToDebugger(args.source.path ?? ''),
      bps.map((bp) => this.convertClientLineToDebugger(bp.line)),
    );
    response.body = {
      breakpoints: answers.map((a, k) => {
        const b = new Breakpoint(a.verified, bps[k].line) as DebugProtocol.Breakpoint;
        b.message = a.message;
        return b;
      }),
    };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    response.body = { breakpoints: this.runtime.setBatchStops(args.breakpoints.map((fb) => fb.name)).map(({ verified, message }) => ({ verified, message })) };
    this.sendResponse(response);
  }

  protected override async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    await this.python.setExceptionFilters(args.filters ?? []).catch(() => undefined);
    await this.node.setExceptionFilters(args.filters ?? []).catch(() => undefined);
    this.sendResponse(response);
  }

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    if (this.inPython) return this.forwardToPython(response, 'threads', {});
    if (this.node.paused) return this.forwardToNode(response, 'threads', {});
    response.body = { threads: [new Thread(THREAD_ID, 'evaluation')] };
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    if (this.node.paused) return this.forwardToNode(response, 'stackTrace', args);
    if (this.inPython) {
      try {
        response.body = await this.python.stackTrace(args, `Trainer.evaluate → ${this.runtime.location()?.name ?? 'compute_metrics'}(…)`);
        this.sendResponse(response);
      } catch (e) {
        this.sendErrorResponse(response, { id: ERR_STATE, format: messageOf(e).replace(/[{}]/g, ''), showUser: false });
      }
      return;
    }
    const frames = this.runtime.stack().map((f, k) => {
      const frame: DebugProtocol.StackFrame = f.file
        ? new StackFrame(k + 1, f.name, new Source(path.basename(f.file), this.convertDebuggerPathToClient(f.file)), this.convertDebuggerLineToClient(f.line ?? 1))
        : new StackFrame(k + 1, f.name);
      if (f.subtle) frame.presentationHint = 'subtle';
      return frame;
    });
    response.body = { stackFrames: frames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override async scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): Promise<void> {
    if (this.node.paused) return this.forwardToNode(response, 'scopes', args);
    if (this.inPython) {
      if (args.frameId === LABEL_FRAME_ID) {
        response.body = { scopes: [] };
        return this.sendResponse(response);
      }
      return this.forwardToPython(response, 'scopes', args);
    }
    const s = this.runtime.stopped;
    const scopes: DebugProtocol.Scope[] = [];
    if (s?.kind === 'batch') {
      const p = s.progress;
      scopes.push(new Scope('progress', this.store.record(() => plainVariables(p as unknown as Record<string, unknown>)), false));
    } else if (s) {
      // batch_eval_metrics: which call the paused EvalPrediction belongs to, and its compute_result.
      const call = s.kind === 'boundary' || s.kind === 'metricError' ? s.call : undefined;
      if (call) scopes.push(new Scope('batch_eval_metrics', this.store.record(() => batchCallVariables(call)), false));
      // Named as the user's function names its parameter (eval_preds, p, …).
      scopes.push(new Scope(this.runtime.paramName(), this.store.evalPredScope(), false));
      scopes.push(new Scope('sample', this.store.record(() => sampleVariables(this.store, this.runtime.sample(this.sampleIndex))), false));
      scopes.push(new Scope('run', this.store.record(() => runVariables(this.store, this.launchRunInfo(), () => this.launchLints())), true));
    }
    response.body = { scopes };
    this.sendResponse(response);
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    if (this.inPython) return this.forwardToPython(response, 'variables', args);
    if (this.node.paused && args.variablesReference >= NODE_REF_BASE) return this.forwardToNode(response, 'variables', args);
    try {
      response.body = { variables: await this.store.variables(args.variablesReference, args.filter, args.start, args.count) };
      this.sendResponse(response);
    } catch (e) {
      // Bad paging (negative or fractional start, ...): one clear message, never a stack.
      this.sendErrorResponse(response, { id: ERR_VARIABLES, format: messageOf(e).replace(/[{}]/g, ''), showUser: false });
    }
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    if (this.inPython) {
      // Real Python in the selected frame of the user's code (the label frame has none).
      const frameId = args.frameId === LABEL_FRAME_ID ? undefined : args.frameId;
      void this.forwardToPython(response, 'evaluate', { ...args, frameId });
      return;
    }
    if (this.node.paused && args.expression.trim() !== 'help' && !args.expression.trim().startsWith(':')) {
      void this.forwardToNode(response, 'evaluate', args); // JavaScript in the selected frame of the user's code
      return;
    }
    const typed = args.context === 'repl' ? args.expression.trim() : '';
    if (typed === 'help') {
      response.body = { result: CONSOLE_HELP, variablesReference: 0 };
      this.sendResponse(response);
      return;
    }
    // A line typed at the boundary of a Python metric is Python, run by the metric's own worker; a leading
    // ':' (and hovers, watches, untyped contexts) uses the safe expression language (README "Debug Console").
    if (typed && !typed.startsWith(':') && (/\.py$/i.test(this.runtime.settings?.run.metrics ?? '') || JS_FILE.test(this.runtime.settings?.run.metrics ?? '')) && this.runtime.evalPredAtStop()) {
      void this.evaluatePython(response, typed);
      return;
    }
    if (typed.startsWith(':')) args = { ...args, expression: typed.slice(1) };
    // The runtime evaluates in slices (src/core/expr/slices.ts), so threads/stackTrace/pause/disconnect are
    // answered while it runs; a newer evaluation or continue cancels it. Bounded by the caps in src/core/expr.
    void this.evaluateNow(response, args);
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    if (this.inPython) {
      void this.forwardToPython(response, 'completions', { ...args, frameId: args.frameId === LABEL_FRAME_ID ? undefined : args.frameId });
      return;
    }
    const line = args.line ?? 1;
    const column = this.convertClientColumnToDebugger(args.column);
    // `start` is 0-based from either source; the client counts columns from 1 unless it said otherwise.
    const toClient = (targets: DebugProtocol.CompletionItem[]) => targets.map((t) => ({ ...t, start: t.start === undefined ? undefined : this.convertDebuggerColumnToClient(t.start + 1) }));
    if (this.node.paused && !(args.text.split(/\r?\n/)[line - 1] ?? '').trimStart().startsWith(':')) {
      // Paused on a line of a TS/JS metric: JavaScript names and members from that frame (./node/frameCompletions.ts).
      this.node
        .request('completions', { text: args.text, column, line, frameId: args.frameId }, '')
        .then((body) => {
          response.body = { targets: toClient((body as DebugProtocol.CompletionsResponse['body']).targets) };
          this.sendResponse(response);
        })
        .catch((e) => this.sendErrorResponse(response, { id: ERR_EVALUATE, format: messageOf(e).replace(/[{}]/g, ''), showUser: false }));
      return;
    }
    const metrics = this.runtime.settings?.run.metrics ?? '';
    const python = /\.py$/i.test(metrics);
    const inputKeys = this.runtime.inputsMappingAtStop()?.map(([k]) => k);
    const targets = completionsAt(args.text, column, { paramName: this.runtime.paramName(), python, source: python ? readSource(metrics) : undefined, inputKeys }, line);
    response.body = { targets: toClient(targets) };
    this.sendResponse(response);
  }

  private async evaluatePython(response: DebugProtocol.EvaluateResponse, expression: string): Promise<void> {
    try {
      const r = await this.runtime.evaluateInMetricLanguage(expression);
      if (r?.stdout) this.sendEvent(new OutputEvent(r.stdout, 'stdout'));
      response.body = { result: r?.value ?? '', type: r?.type, variablesReference: 0 };
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: ERR_EVALUATE, format: messageOf(e).replace(/[{}]/g, ''), showUser: true });
    }
  }

  private async evaluateNow(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    if (!this.runtime.evalPredAtStop()) {
      this.sendErrorResponse(response, { id: ERR_STATE, format: 'no EvalPrediction yet: expressions work once the run is paused at compute_metrics', showUser: false });
      return;
    }
    try {
      const value = await this.runtime.evaluate(args.expression, this.sampleIndex);
      const v = this.store.forValue('result', value, args.expression.trim());
      response.body = { result: v.value, type: v.type, variablesReference: v.variablesReference, indexedVariables: v.indexedVariables, namedVariables: v.namedVariables };
      if (args.context === 'clipboard') response.body.result = clipboardText(value);
      this.sendResponse(response);
    } catch (e) {
      const msg = isEvalpredError(e) ? e.message : `internal error: ${messageOf(e)}`;
      this.sendErrorResponse(response, { id: ERR_EVALUATE, format: msg.replace(/[{}]/g, ''), showUser: args.context === 'repl' });
    }
  }

  protected override async continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): Promise<void> {
    // pydevd resumes only the thread named; '*' resumes every thread the stop suspended (a metric's own threads too).
    if (this.inPython) return this.forwardToPython(response, 'continue', { ...args, threadId: args.singleThread ? this.python.stoppedThread : '*' });
    if (this.node.paused) return this.forwardToNode(response, 'continue', args);
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.timeline.mark('continue at the boundary');
    this.runtime.continue();
  }

  /** At the boundary a step runs the metric (stopping at breakpoints); inside Python it is debugpy's step. */
  protected override async nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    if (this.inPython) return this.forwardToPython(response, 'next', { ...args, threadId: this.python.stoppedThread });
    if (this.node.paused) return this.forwardToNode(response, 'next', args);
    await this.continueRequest(response as DebugProtocol.ContinueResponse, args);
  }

  protected override async stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    if (this.inPython) return this.forwardToPython(response, 'stepIn', { ...args, threadId: this.python.stoppedThread });
    if (this.node.paused) return this.forwardToNode(response, 'stepIn', args);
    // At the boundary: stop on entry to the metric function (a one-shot function breakpoint in debugpy).
    const name = this.runtime.location()?.name;
    if (name && /\.py$/i.test(this.runtime.settings?.run.metrics ?? '')) await this.python.breakOnEntry(name).catch(() => undefined);
    const def = this.runtime.location();
    if (def && JS_FILE.test(def.file)) await this.node.breakOnEntry(def.line).catch(() => undefined);
    await this.continueRequest(response as DebugProtocol.ContinueResponse, args);
  }

  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    if (this.inPython) return this.forwardToPython(response, 'stepOut', { ...args, threadId: this.python.stoppedThread });
    if (this.node.paused) return this.forwardToNode(response, 'stepOut', args);
    await this.continueRequest(response as DebugProtocol.ContinueResponse, args);
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse, args: DebugProtocol.PauseArguments): Promise<void> {
    if (this.python.attached && this.runtime.current === 'metrics') return this.forwardToPython(response, 'pause', args);
    if (this.node.attached && this.runtime.current === 'metrics') return this.forwardToNode(response, 'pause', args);
    this.sendErrorResponse(response, { id: ERR_STATE, format: 'evalpred pauses between batches only: add a function breakpoint "batch N" (or stopOnBatch)', showUser: true });
  }

  protected override async restartFrameRequest(response: DebugProtocol.RestartFrameResponse): Promise<void> {
    this.sendResponse(response);
    await this.runtime.restartFrame();
  }

  protected override async exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): Promise<void> {
    if (this.inPython) return this.forwardToPython(response, 'exceptionInfo', args);
    if (this.node.paused) return this.forwardToNode(response, 'exceptionInfo', args);
    const s = this.runtime.stopped;
    if (s?.kind !== 'metricError') {
      this.sendErrorResponse(response, { id: ERR_STATE, format: 'not stopped on a metric error', showUser: false });
      return;
    }
    response.body = {
      exceptionId: s.typeName,
      description: inLaunchTerms(s.error.message),
      breakMode: 'always',
      details: { message: inLaunchTerms(s.error.message), typeName: s.typeName, stackTrace: s.traceback || undefined, fullTypeName: s.typeName },
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
      this.stoppedInPython = false;
      const wasError = this.runtime.stopped?.kind === 'metricError';
      this.rerunFromBoundary = !!this.runtime.stopped && !this.python.paused && !this.node.paused;
      const outcome = await this.runtime.rerunMetrics().finally(() => (this.rerunFromBoundary = false));
      // The client saw the metric's thread stop and continue in Python, or holds an exception stop that a
      // successful run has fixed (its frame and editor highlight): tell it the session is paused again.
      const backAtBoundary = () => {
        const fixed = wasError && this.runtime.stopped?.kind === 'boundary';
        if ((this.stoppedInPython || fixed) && this.runtime.stopped) this.sendEvent(new StoppedEvent('breakpoint', THREAD_ID));
        this.stoppedInPython = false;
      };
      if (!outcome) {
        const s = this.runtime.stopped;
        afterResponse(backAtBoundary);
        return { error: s?.kind === 'metricError' ? s.error.message : 'nothing to run yet' };
      }
      afterResponse(() => {
        this.sendEvent(new InvalidatedEvent(['variables']));
        backAtBoundary();
      });
      return { metrics: outcome.metrics, json: outcome.json, durationMs: outcome.durationMs };
    },
    [DapRequests.SelectSample]: (args, afterResponse) => {
      const index = (args as { index?: unknown } | undefined)?.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new Error(`selectSample needs a sample index >= 0, got ${JSON.stringify(index)}`);
      this.sampleIndex = index;
      afterResponse(() => this.sendEvent(new InvalidatedEvent(['variables'])));
      return undefined;
    },
    [DapRequests.RunInfo]: () => {
      const info = this.runtime.runInfo();
      return info && runInfoBody(info);
    },
    [DapRequests.Lints]: async () => ({ lints: (await runSliced(this.launchLints())).map(({ id, severity, message, fix, line }) => ({ id, severity, message, fix, line })) }),
    [DapRequests.Stats]: (args) => {
      // The adapter's own memory, for bench/debugPaging.ts (paging must not grow it with the tensor size).
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc && args?.gc) gc(); // only when the adapter runs with --expose-gc
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, timeline: this.timeline.list() };
    },
    [DapRequests.SetPython]: async (args) => {
      const python = (args as { python?: unknown } | undefined)?.python;
      if (python !== undefined && (typeof python !== 'string' || !python)) throw new Error(`evalpredSetPython needs an interpreter path, got ${JSON.stringify(python)}`);
      return { restarted: await this.runtime.usePython(python) };
    },
  };

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    this.python.detach();
    this.node.detach(); // a metric paused in the inspector runs on (and ends with its process)
    const sawEnd = this.runtime.current === 'ended';
    await this.runtime.shutdown();
    this.sendResponse(response);
    // The runtime's `end` already sent `terminated`, unless the session had ended before (or never started).
    if (sawEnd || this.runtime.current !== 'ended') this.sendEvent(new TerminatedEvent());
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments): Promise<void> {
    this.python.detach(); // a metric paused in Python runs on (and ends with the worker)
    this.node.detach();
    await this.runtime.shutdown();
    super.disconnectRequest(response, args);
  }
}

function runInfoBody(info: RuntimeRunInfo): RunInfoBody {
  return {
    cacheDir: info.cacheDir,
    cacheKey: info.cacheKey,
    numSamples: info.numSamples,
    fromCache: info.fromCache,
    metricsFile: info.settings.metrics,
    functionName: info.settings.function,
    task: info.task,
  };
}

/** The metric file's text for completions (its top-level names); none when it cannot be read. */
function readSource(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function emptyEvalPred(): EvalPredictionData {
  return { predictions: null, labelIds: null, inputs: null, losses: null };
}
