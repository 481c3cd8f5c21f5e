// The runtime behind the debug adapter (mock-debug's MockRuntime; docs/architecture.md, "The debug
// adapter"): it runs evaluate(), stops after chosen batches and at the compute_metrics boundary, runs the
// metric function on the cached EvalPrediction, answers questions about the paused state (sample(i),
// runInfo(), lints(), stack(), expressions), and reports everything as events. It knows nothing of DAP;
// src/debug/session.ts only translates. Files, the tokenizer, the cache and the metric runners come in
// through the constructor (./io.ts).
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { EvalpredError, isEvalpredError, messageOf } from '../errors';
import { samePath } from '../paths';
import { Evaluation, LoopRecord, evaluate } from '../evaluate';
import { evaluateSliced, runSliced, Value } from '../expr';
import type { Lint } from '../lint/lints';
import { CancelledError, LoopProgress } from '../loop/types';
import type { MetricsOutcome } from '../metrics/forEvaluation';
import { MetricFunctionError, Metrics, describeForHumans } from '../metrics/postprocess';
import type { Gen } from '../tensor/blocks';
import type { BatchMapping, EvalPredictionData, TensorNode } from '../tensor/tensor';
import type { LoadedTokenizer } from '../text';
import { RuntimeServices, SessionMetrics, localServices } from './io';
import { LaunchSettings, parseLaunchArgs } from './launchSettings';
import { MetricLocation, diffMetrics, findMetricFunction } from './metricLocation';
import { RuntimeRunInfo, RuntimeSample, lintsOf, runInfoOf, sampleAt } from './pausedState';
import { DEFAULT_PARAM } from '../metrics/metricFunction';
import type { PythonDebugHooks } from '../metrics/pyRunner';
import type { JsDebugHooks } from '../metrics/jsRunner';
import { metricLanguage } from '../metrics/runMetrics';
import { BatchCall, batchCallCount, batchCalls, batchFields, describeBatchCall, recordedBatchEvalMetrics } from '../metrics/batchCalls';
import { RuntimeFrame, RuntimeStop, StopRequestAnswer, exceptionTypeName, framesOf, stopRequest } from './stops';

export type { RuntimeStop, RuntimeFrame, StopRequestAnswer } from './stops';
export type { RuntimeRunInfo, RuntimeSample } from './pausedState';
export type { BatchCall } from '../metrics/batchCalls';

export interface MetricsReport {
  outcome: MetricsOutcome;
  previous: Metrics | null;
  /** What changed since the previous run in this session ([] on the first run). */
  diff: string[];
}

export type ProgressReport =
  | { kind: 'start'; title: string; message: string }
  | { kind: 'update'; message: string; percentage: number; progress: LoopProgress }
  | { kind: 'end'; message: string };

export interface EndReport {
  reason: 'finished' | 'cancelled' | 'error';
  error?: unknown;
}

export interface RuntimeEvents {
  /** The evaluation is ready (run or loaded from the cache); emitted once, before its first stop. */
  ready: [RuntimeRunInfo];
  /** The runtime stopped (after a batch, at the boundary, on a metric error); `stopped` holds it until it resumes. */
  stop: [RuntimeStop];
  output: [text: string, category: 'console' | 'stdout' | 'stderr'];
  progress: [ProgressReport];
  metrics: [MetricsReport];
  end: [EndReport];
}

type State = 'idle' | 'running' | 'batch' | 'boundary' | 'metricError' | 'metrics' | 'ended';

export class EvalRuntime extends EventEmitter<RuntimeEvents> {
  private state: State = 'idle';
  private launch?: LaunchSettings;
  private abort = new AbortController();
  private resumeBatch?: { resolve(): void; reject(e: unknown): void };
  /** The Debug Console evaluation in progress (one at a time; see evaluate). */
  private consoleEvaluation?: AbortController;
  private lastMetrics: Metrics | null = null;
  private tokenizer?: LoadedTokenizer;
  /** The model folder the tokenizer came from (a debugged Python metric decodes token ids with it too). */
  private tokenizerDir?: string;
  /** Extra batch stops (function breakpoints "batch N"), merged with the launch's stopOnBatch. */
  private batchStops = new Set<number>();
  evaluation?: Evaluation;
  lastOutcome?: MetricsOutcome;
  /** Where the runtime stands while stopped; undefined while running. */
  stopped?: RuntimeStop;
  /** The session's metric processes (warm between reruns); made at launch, closed by shutdown(). */
  private metrics?: SessionMetrics;
  /**
   * Under batch_eval_metrics (docs/trainer-semantics.md#batch_eval_metrics): the call `continue` makes next. The session
   * stops before every call; after the last (compute_result true) the metrics are reported and it starts over.
   */
  private pendingCall?: BatchCall;

  /**
   * @param debug how a Python metric run gets a line debugger (the debug adapter's debugpy bridge), if any.
   * @param jsDebug the same for a TS/JS metric (the adapter's Node inspector bridge).
   */
  constructor(
    private readonly services: RuntimeServices = localServices(),
    private readonly debug?: PythonDebugHooks,
    private readonly jsDebug?: JsDebugHooks,
  ) {
    super();
  }

  get settings(): LaunchSettings | undefined {
    return this.launch;
  }

  get current(): State {
    return this.state;
  }

  /** Launch arguments (a DAP launch configuration) as settings; throws an EvalpredError naming the attribute. */
  parseLaunch(args: Record<string, unknown>): LaunchSettings {
    return parseLaunchArgs(args, this.services.files);
  }

  /**
   * Use `python` for the metric from now on (the user selected another interpreter): the session's warm
   * workers end and the next metric run starts a fresh one in that interpreter. A run in progress finishes
   * in the old worker, which ends with the session. False when nothing changed.
   */
  async usePython(python: string | undefined): Promise<boolean> {
    const launch = this.launch;
    if (!launch || launch.python === python || this.state === 'ended') return false;
    this.launch = { ...launch, python };
    const old = this.metrics;
    this.metrics = this.newMetrics(this.launch);
    if (old && this.state !== 'metrics') await old.close();
    else if (old) this.retired.push(old);
    this.emit('output', `metric runs now use the Python interpreter ${python ?? '(default: EVALPRED_PYTHON, else python3 on PATH)'}\n`, 'console');
    return true;
  }

  private retired: SessionMetrics[] = [];

  private newMetrics(launch: LaunchSettings): SessionMetrics {
    return this.services.metrics({
      python: launch.python,
      timeoutMs: launch.metricTimeoutMs,
      memoryLimitMb: launch.metricMemoryLimitMb,
      pythonDebug: this.debug && { ...this.debug, arrays: () => ({ model: this.tokenizerDir, tokenIds: this.holdsTokenIds('predictions') }) },
      jsDebug: this.jsDebug,
    });
  }

  /**
   * Start the metric's process for `launch` now (the debug adapter calls this on the launch request, before the
   * client's breakpoints and configurationDone arrive); start() does it when nobody did.
   */
  prepare(launch: LaunchSettings): void {
    if (this.prepared === launch) return;
    this.prepared = launch;
    this.launch = launch;
    this.metrics = this.newMetrics(launch);
    // Under the TS/JS debugger, the metric's process starts now, beside the loop or cache read: the first stop
    // inside the metric then does not wait for bundling, the process start and the inspector (bench/lineDebug.ts).
    if (this.jsDebug && launch.run.metrics && isJsMetric(launch.run.metrics)) void this.metrics.warmJs?.(launch.run.metrics);
    // A Python metric's worker (and its debugger) starts now, beside the cache load and while the user looks
    // at the boundary stop: the first run finds it warm with the breakpoints bound.
    if (/\.py$/i.test(launch.run.metrics ?? '')) this.metrics.warmPython?.(launch.python);
  }

  private prepared?: LaunchSettings;

  /** Run (or reuse) the evaluation, then stop at the boundary. Resolves when the first stop (or end) is reported. */
  async start(launch: LaunchSettings): Promise<void> {
    this.prepare(launch);
    this.state = 'running';
    for (const w of launch.warnings) this.emit('output', w + '\n', 'console');
    try {
      this.evaluation = launch.cacheOnly ? this.openCache(launch.run.cache!) : await this.runLoop(launch);
    } catch (e) {
      this.emit('progress', { kind: 'end', message: e instanceof CancelledError ? 'cancelled' : 'failed' });
      if (e instanceof CancelledError || this.abort.signal.aborted) {
        this.emit('output', 'evaluation cancelled\n', 'console');
        this.finish({ reason: 'cancelled' });
      } else {
        this.emit('output', (isEvalpredError(e) ? e.message : `internal error: ${e instanceof Error ? e.stack : String(e)}`) + '\n', 'stderr');
        this.finish({ reason: 'error', error: e });
      }
      return;
    }
    const ev = this.evaluation;
    this.emit('output', `${ev.fromCache ? 'loaded cached predictions' : 'evaluated'}: ${ev.manifest.num_samples} samples, cache ${ev.cacheDir}\n`, 'console');
    try {
      this.pendingCall = this.firstBatchCall(ev, launch);
    } catch (e) {
      this.emit('output', messageOf(e) + '\n', 'stderr');
      this.finish({ reason: 'error', error: e });
      return;
    }
    this.emit('ready', this.runInfo()!);
    await this.loadTokenizer(ev);
    if (this.abort.signal.aborted) {
      // cancelled while the tokenizer loaded: the loop is over, so nothing else will end the session
      this.emit('output', 'session ended\n', 'console');
      this.finish({ reason: 'cancelled' });
      return;
    }
    this.stopAtBoundary('entry');
  }

  /** The first batch_eval_metrics call, when this session makes them (launch setting, else the cache's own), else undefined. */
  private firstBatchCall(ev: Evaluation, launch: LaunchSettings): BatchCall | undefined {
    if (!launch.run.metrics || !(launch.run.batchEvalMetrics ?? recordedBatchEvalMetrics(ev.manifest))) return undefined;
    const count = batchCallCount({ predictions: ev.evalPred.predictions, labels: ev.evalPred.labelIds }, ev.cacheDir);
    if (count === 0) return undefined;
    this.emit('output', `batch_eval_metrics: compute_metrics is called once per batch (${count} calls, compute_result=True on the last); the session stops before each call.\n`, 'console');
    return batchCalls(count)[0];
  }

  private openCache(dir: string): Evaluation {
    const { manifest, evalPred } = this.services.openCache(dir);
    return { cacheDir: dir, fromCache: true, manifest, evalPred, loop: manifest.loop as LoopRecord };
  }

  /** The model's tokenizer, for decoded text at the boundary (a cache opened alone names its model in the manifest). */
  private async loadTokenizer(ev: Evaluation): Promise<void> {
    const model = this.launch?.run.model || ((ev.manifest.producer as { model?: { path?: string } }).model?.path ?? '');
    if (!model) return;
    try {
      this.tokenizer = await this.services.loadTokenizer(model);
      this.tokenizerDir = model;
    } catch {
      /* no tokenizer: decode() explains itself when asked */
    }
  }

  private async runLoop(launch: LaunchSettings): Promise<Evaluation> {
    this.emit('progress', { kind: 'start', title: 'Evaluating', message: `${path.basename(launch.run.model)} on ${path.basename(launch.run.dataset)}` });
    const stops = [...new Set([...launch.stopOnBatch, ...this.batchStops])].sort((a, b) => a - b);
    const ev = await evaluate(launch.run, {
      signal: this.abort.signal,
      cwd: launch.cwd,
      runners: { python: launch.python, timeoutMs: launch.metricTimeoutMs, memoryLimitMb: launch.metricMemoryLimitMb },
      onLog: (line) => this.emit('output', line + '\n', 'console'),
      onProgress: (p) =>
        this.emit('progress', {
          kind: 'update',
          message: `batch ${p.batch}/${p.numBatches} (${p.samples}/${p.numSamples} samples)`,
          percentage: p.numBatches ? (100 * p.batch) / p.numBatches : 0,
          progress: p,
        }),
      pauseAfterBatches: stops.length ? stops : undefined,
      onPause: (p) =>
        new Promise<void>((resolve, reject) => {
          if (this.abort.signal.aborted) return reject(new CancelledError());
          this.resumeBatch = { resolve, reject };
          this.state = 'batch';
          this.setStopped({ kind: 'batch', progress: p });
        }),
    });
    this.emit('progress', { kind: 'end', message: ev.fromCache ? 'reused the cache' : 'done' });
    return ev;
  }

  private setStopped(stop: RuntimeStop): void {
    this.stopped = stop;
    this.emit('stop', stop);
  }

  /** The metric function's definition in the user's file (re-read: the file may have been edited). */
  location(): MetricLocation | null {
    const file = this.launch?.run.metrics;
    if (!file) return null;
    return findMetricFunction(file, this.metricSource() ?? '', this.launch?.run.function);
  }

  /** The metric file's text now, or undefined when there is none (a deleted file still gets a frame, at line 1). */
  private metricSource(): string | undefined {
    const file = this.launch?.run.metrics;
    if (!file) return undefined;
    try {
      return this.services.files.readText(file);
    } catch {
      return undefined;
    }
  }

  private stopAtBoundary(reason: 'entry' | 'metrics' | 'restart' | 'call'): void {
    this.state = 'boundary';
    this.setStopped({ kind: 'boundary', reason, location: this.location(), ...(this.pendingCall ? { call: this.pendingCall } : {}) });
  }

  // ------------------------------------------------------------------------------------ breakpoints

  /** Function breakpoints by name ("batch N", or the metric function): what each one will do. */
  setBatchStops(names: string[]): StopRequestAnswer[] {
    this.batchStops.clear();
    return names.map((name) => {
      const answer = stopRequest(name, this.launch?.run.function);
      if (answer.batch !== undefined) this.batchStops.add(answer.batch);
      return answer;
    });
  }

  /**
   * Line breakpoints in `file`. Any line of the metric file means "stop at the boundary" (where evalpred
   * always stops); breakpoints set before the launch names the metric file are accepted optimistically.
   */
  setBreakpoints(file: string, lines: number[]): StopRequestAnswer[] {
    const metricFile = this.launch?.run.metrics;
    const ok = !metricFile || samePath(file, metricFile);
    const message = ok
      ? 'evalpred stops at the compute_metrics boundary (a breakpoint anywhere in the metric file means: stop there)'
      : `evalpred only stops in the metric file ${metricFile}`;
    return lines.map(() => ({ verified: ok, message }));
  }

  // ------------------------------------------------------------------------------------ paused state

  /** The frames of the current stop, innermost first ([] while running). */
  stack(): RuntimeFrame[] {
    return framesOf(this.stopped);
  }

  /** The EvalPrediction the user's function sees, while stopped at the boundary or on a metric error. */
  evalPredAtStop(): EvalPredictionData | undefined {
    return this.stopped && this.stopped.kind !== 'batch' ? this.callEvaluation()?.evalPred : undefined;
  }

  /**
   * Under batch_eval_metrics, the `inputs` the next call gets: the whole batch mapping, [key, that batch's array] in the
   * collator's order (docs/trainer-semantics.md#batch_eval_metrics); undefined otherwise or without inputs. The
   * Variables view and the expression language (watches, hovers, the Debug Console's ':' lines) both take it from here.
   */
  inputsMappingAtStop(): BatchMapping | undefined {
    const ep = this.evalPredAtStop();
    const call = this.pendingCall;
    if (!ep?.inputs || !call) return undefined;
    const b = this.evaluation?.evalPred.batchInputs;
    if (!b) return [['input_ids', ep.inputs]];
    const others = batchFields(b.lists, call.index);
    return b.keys.map((k): [string, TensorNode] => [k, k === b.main ? ep.inputs! : others[k]!]);
  }

  /** The evaluation as the next metric call sees it: under batch_eval_metrics, that batch's entry of every field. */
  private callEvaluation(): Evaluation | undefined {
    const ev = this.evaluation;
    const call = this.pendingCall;
    if (!ev || !call) return ev;
    const ep = ev.evalPred;
    const f = batchFields({ predictions: ep.predictions, labelIds: ep.labelIds, inputs: ep.inputs, losses: ep.losses }, call.index);
    return { ...ev, evalPred: { predictions: f.predictions, labelIds: f.labelIds, inputs: f.inputs, losses: f.losses } };
  }

  /** Sample `index` (kept within the evaluation set, or within the batch of the next batch_eval_metrics call). */
  sample(index: number): RuntimeSample | undefined {
    const ev = this.callEvaluation();
    return ev ? sampleAt(ev, index, this.tokenizer) : undefined;
  }

  runInfo(): RuntimeRunInfo | undefined {
    return this.evaluation && this.launch ? runInfoOf(this.evaluation, this.launch.run, this.lastOutcome) : undefined;
  }

  /**
   * The pitfall checks over the paused EvalPrediction and the metric file as it is now, in the user's own names:
   * a pass that yields between slices (its statistics read whole arrays), for a caller running it in slices.
   */
  *lintPass(): Gen<Lint[]> {
    if (!this.evaluation || !this.launch) return [];
    const param = this.paramName();
    const source = this.metricSource();
    const lints = yield* lintsOf(this.evaluation, this.launch.run, source === undefined ? undefined : asDefaultParam(source, param));
    return param === DEFAULT_PARAM ? lints : lints.map((l) => ({ ...l, message: fromDefaultParam(l.message, param), fix: fromDefaultParam(l.fix, param) }));
  }

  /** lintPass run in slices: the event loop gets a turn every few milliseconds while it reads the arrays. */
  lints(): Promise<Lint[]> {
    return runSliced(this.lintPass());
  }

  /** generate()'s num_return_sequences of the paused run: prediction rows per sample (1 without). */
  sequencesPerSample(): number {
    return this.evaluation?.loop?.info?.numReturnSequences ?? 1;
  }

  /** Token ids -> text with the model's tokenizer, when it has one. */
  decoder(): ((ids: number[]) => string) | undefined {
    const tok = this.tokenizer;
    return tok ? (ids) => tok.decode(ids, { skipSpecialTokens: true }) : undefined;
  }

  /** Whether integer tensors under this EvalPrediction field hold token ids (inputs always; generated ids with predictWithGenerate). */
  holdsTokenIds(field: string): boolean {
    if (field === 'inputs') return true;
    return (field === 'predictions' || field === 'label_ids') && !!this.launch?.run.predictWithGenerate;
  }

  /** The user's name for the EvalPrediction: their metric function's parameter (eval_preds, p, …), else eval_pred. */
  paramName(): string {
    return this.location()?.param ?? DEFAULT_PARAM;
  }

  /**
   * A Debug Console expression on the paused EvalPrediction (`sample` names the selected row). The user's
   * parameter name stands for the EvalPrediction, as in their code. Throws an EvalpredError.
   */
  async evaluate(expression: string, sampleIndex: number): Promise<Value> {
    const evalPred = this.evalPredAtStop();
    if (!evalPred) throw new EvalpredError('no EvalPrediction yet: expressions work once the run is paused at compute_metrics');
    const param = this.paramName();
    // One evaluation at a time, in slices so the adapter keeps answering (src/core/expr/slices.ts): a newer
    // one cancels it, as do continue and the end of the session (cancelEvaluation).
    this.cancelEvaluation('a newer expression was evaluated');
    const running = new AbortController();
    this.consoleEvaluation = running;
    try {
      return await evaluateSliced(asDefaultParam(expression, param), { evalPred, decode: this.decoder(), names: { sample: sampleIndex }, inputsMapping: this.inputsMappingAtStop() }, running.signal);
    } catch (e) {
      if (param !== DEFAULT_PARAM && isEvalpredError(e)) e.message = fromDefaultParam(e.message, param);
      throw e;
    } finally {
      if (this.consoleEvaluation === running) this.consoleEvaluation = undefined;
    }
  }

  /** Stop the running Debug Console evaluation, if any, at its next slice; it rejects with EvaluationCancelled. */
  cancelEvaluation(why: string): void {
    this.consoleEvaluation?.abort(why);
    this.consoleEvaluation = undefined;
  }

  /**
   * A Debug Console line in the metric's own language while stopped at the boundary (or on its error):
   * Python for a .py metric, JavaScript for a TS/JS one, run by the metric's warm worker. Undefined without a metric file.
   */
  async evaluateInMetricLanguage(expression: string): Promise<{ value: string; type: string; stdout: string } | undefined> {
    const file = this.launch?.run.metrics;
    const ev = this.evaluation;
    if (!file || !ev || !this.metrics || !this.evalPredAtStop()) return undefined;
    const lang = metricLanguage(file);
    const batch = this.pendingCall;
    if (lang === 'js') return this.metrics.evaluateJs(ev.cacheDir, file, expression, { param: this.paramName(), timeoutMs: this.launch?.metricTimeoutMs, batch });
    if (lang !== 'py') return undefined;
    return this.metrics.evaluatePython(ev.cacheDir, file, expression, {
      batch,
      param: this.paramName(),
      python: this.launch?.python,
      profile: this.launch?.run.evalPredictionProfile,
      timeoutMs: this.launch?.metricTimeoutMs,
    });
  }

  // ------------------------------------------------------------------------------------ execution

  /** Resume: after a batch stop the loop goes on; at the boundary the metric function runs, then we stop there again. */
  continue(): void {
    this.cancelEvaluation('the run continued');
    if (this.state === 'batch') {
      const r = this.resumeBatch;
      this.resumeBatch = undefined;
      this.stopped = undefined;
      this.state = 'running';
      r?.resolve();
      return;
    }
    if (this.state === 'boundary' || this.state === 'metricError') {
      // Under batch_eval_metrics one call per continue, then a stop before the next one.
      const call = this.pendingCall;
      void this.rerunMetrics(call).then((ok) => {
        if (ok && this.state !== 'ended') this.stopAtBoundary(call && !call.computeResult ? 'call' : 'metrics');
      });
    }
  }

  /** Run the metric function again (after an edit) and stop at the boundary (reason restart); false when it failed. */
  async restartFrame(): Promise<boolean> {
    this.cancelEvaluation('the metric was rerun');
    const ok = await this.rerunMetrics();
    if (!ok || this.state === 'ended') return false;
    this.stopAtBoundary('restart');
    return true;
  }

  /**
   * Run the metric function on the cached EvalPrediction and report `metrics` (or stop on the metric error).
   * Returns the outcome, or undefined when it failed (or there is nothing to run yet). Under batch_eval_metrics,
   * `call` makes only that call (metrics are reported after the last); without it every call runs, from the first.
   */
  async rerunMetrics(call?: BatchCall): Promise<MetricsOutcome | undefined> {
    const ev = this.evaluation;
    const launch = this.launch;
    const metrics = this.metrics;
    if (!ev || !launch || !metrics || this.state === 'ended') return undefined;
    this.state = 'metrics';
    // Only the first metric run after a live model run reports that run's own speed.
    const rerun = ev.fromCache || this.lastOutcome !== undefined;
    let outcome: MetricsOutcome;
    try {
      if (launch.run.metrics) {
        outcome = await metrics.fromCache(ev.cacheDir, ev.loop, launch.run.metrics, {
          function: launch.run.function,
          batchSize: launch.run.batchSize,
          profile: launch.run.evalPredictionProfile,
          python: launch.python,
          timeoutMs: launch.metricTimeoutMs,
          rerun,
          batchEvalMetrics: this.pendingCall ? true : undefined,
          batchCall: call,
        });
      } else if (ev.loop) {
        outcome = await metrics.forEvaluation(ev, launch.run, { rerun });
      } else {
        throw new EvalpredError('this cache has no record of the loop that made it, so there are no built-in metrics for it: add "metrics" (your metric file) to the launch configuration.', {
          file: ev.cacheDir,
        });
      }
    } catch (e) {
      if ((this.state as State) === 'ended') return undefined;
      this.state = 'metricError';
      const err = isEvalpredError(e) ? e : new EvalpredError(`the metric run failed: ${messageOf(e)}`, {}, { cause: e });
      const def = this.location();
      const line = err.place.line;
      const location: MetricLocation | null =
        line !== undefined ? { file: err.place.file ?? def?.file ?? '', line, name: def?.name ?? 'compute_metrics', ...(def?.param ? { param: def.param } : {}) } : def;
      const mfe = err instanceof MetricFunctionError ? err : undefined;
      if (mfe?.stdout) this.emit('output', mfe.stdout, 'stdout');
      this.emit('output', err.message + '\n', 'stderr');
      const failed = call ?? this.pendingCall;
      this.setStopped({ kind: 'metricError', error: err, typeName: exceptionTypeName(err), location, traceback: mfe?.traceback ?? '', stdout: mfe?.stdout ?? '', ...(failed ? { call: failed } : {}) });
      return undefined;
    }
    if ((this.state as State) === 'ended') return undefined;
    this.state = 'boundary';
    if (this.pendingCall) {
      // The next call: the one after `call`, or the first again once compute_result=True has been made.
      const next = call && !call.computeResult ? call.index + 1 : 0;
      this.pendingCall = batchCalls(this.pendingCall.count)[next];
      if (call && !call.computeResult) {
        if (outcome.stdout) this.emit('output', outcome.stdout.endsWith('\n') ? outcome.stdout : outcome.stdout + '\n', 'stdout');
        for (const w of outcome.warnings) this.emit('output', `warning: ${w}\n`, 'console');
        const returned = outcome.batch ? describeForHumans(outcome.batch.returned) : 'nothing';
        this.emit('output', `compute_metrics (${describeBatchCall(call)}) returned ${returned}; metrics come from the call with compute_result=True.\n`, 'console');
        if (this.stopped?.kind === 'metricError') this.stopped = { kind: 'boundary', reason: 'call', location: this.location(), call: this.pendingCall };
        return outcome;
      }
    }
    // The error is fixed: its stop (frame at the raising line, exception info) must not outlive it.
    if (this.stopped?.kind === 'metricError') this.stopped = { kind: 'boundary', reason: 'metrics', location: this.location() };
    const previous = this.lastMetrics;
    this.lastMetrics = outcome.metrics;
    this.lastOutcome = outcome;
    if (outcome.stdout) this.emit('output', outcome.stdout.endsWith('\n') ? outcome.stdout : outcome.stdout + '\n', 'stdout');
    for (const w of outcome.warnings) this.emit('output', `warning: ${w}\n`, 'console');
    for (const n of outcome.notes ?? []) this.emit('output', `note: ${n}\n`, 'console');
    this.emit('metrics', { outcome, previous, diff: previous ? diffMetrics(previous, outcome.metrics) : [] });
    return outcome;
  }

  /** Stop the loop (mid-batch too: the worker is terminated after a grace period) and end the session. */
  cancel(): void {
    this.cancelEvaluation('the session ended');
    if (this.state === 'ended') return;
    this.abort.abort();
    const r = this.resumeBatch;
    this.resumeBatch = undefined;
    r?.reject(new CancelledError());
    if (this.state !== 'running' && this.state !== 'batch') {
      this.emit('output', 'session ended\n', 'console');
      this.finish({ reason: 'cancelled' });
    }
  }

  /** Cancel, wait (briefly) for the loop to wind down, and stop the warm metric workers. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    const ended = this.state === 'ended' || this.state === 'idle' ? Promise.resolve() : new Promise<void>((r) => this.once('end', () => r()));
    this.cancel();
    await Promise.race([ended, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    await this.metrics?.close();
    for (const m of this.retired.splice(0)) await m.close();
  }

  private finish(r: EndReport): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.stopped = undefined;
    this.emit('end', r);
  }
}

function isJsMetric(file: string): boolean {
  try {
    return metricLanguage(file) === 'js';
  } catch {
    return false; // an unknown extension: the run says so
  }
}

/** `text` with the user's parameter name written as eval_pred, the name our expressions and lints know. */
function asDefaultParam(text: string, param: string): string {
  if (param === DEFAULT_PARAM) return text;
  return text.replace(new RegExp(`(?<![\\w.$])${param.replace(/\$/g, '\\$')}(?![\\w$])`, 'g'), DEFAULT_PARAM);
}

/** Messages back in the user's words. */
function fromDefaultParam(text: string, param: string): string {
  return text.replace(/\beval_pred\b/g, param);
}
