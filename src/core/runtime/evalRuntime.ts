// The runtime behind the debug adapter (mock-debug's runtime/session split): it runs evaluate(), pauses
// after chosen batches and at the compute_metrics boundary, runs the metric function on the cached
// EvalPrediction, and reports everything as events. It knows nothing of DAP; src/debug/session.ts
// translates these events into protocol messages.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { readCache } from '../cache/store';
import { EvalpredError, isEvalpredError, messageOf } from '../errors';
import { Evaluation, LoopRecord, evaluate } from '../evaluate';
import { CancelledError, LoopProgress } from '../loop/evaluationLoop';
import { MetricsOutcome, metricsForEvaluation, metricsFromCache } from '../metrics/forEvaluation';
import { MetricFunctionError, Metrics } from '../metrics/postprocess';
import { closeRunners } from '../metrics/runMetrics';
import { RuntimeIO, localIO } from './io';
import { LaunchSettings } from './launchSettings';
import { MetricLocation, diffMetrics, findMetricFunction } from './metricLocation';

export interface BoundaryStop {
  evaluation: Evaluation;
  /** The metric function's definition, or null when the run has no metric file. */
  location: MetricLocation | null;
  /** True for the stop that follows a metric run (continue), false for the first arrival. */
  afterMetrics: boolean;
}

export interface MetricErrorStop {
  error: EvalpredError;
  /** Where the failure is: the user's line from the traceback, else the function definition. */
  location: MetricLocation | null;
  /** The user's traceback / stack text ('' when the error is about the returned value). */
  traceback: string;
  stdout: string;
}

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
  ready: [Evaluation];
  stopOnBoundary: [BoundaryStop];
  stopOnBatch: [LoopProgress];
  stopOnMetricError: [MetricErrorStop];
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
  private lastMetrics: Metrics | null = null;
  evaluation?: Evaluation;
  lastOutcome?: MetricsOutcome;
  /** Extra batch stops (function breakpoints "batch N"), merged with the launch's stopOnBatch. */
  batchStops = new Set<number>();
  /** The progress of the loop when paused after a batch. */
  pausedAt?: LoopProgress;

  constructor(private readonly io: RuntimeIO = localIO) {
    super();
  }

  get settings(): LaunchSettings | undefined {
    return this.launch;
  }

  get current(): State {
    return this.state;
  }

  /** Run (or reuse) the evaluation, then stop at the boundary. Resolves when the first stop (or end) is reported. */
  async start(launch: LaunchSettings): Promise<void> {
    this.launch = launch;
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
    this.emit('ready', ev);
    this.stopAtBoundary(false);
  }

  private openCache(dir: string): Evaluation {
    const { manifest, evalPred } = readCache(dir);
    return { cacheDir: dir, fromCache: true, manifest, evalPred, loop: manifest.loop as LoopRecord };
  }

  private async runLoop(launch: LaunchSettings): Promise<Evaluation> {
    this.emit('progress', { kind: 'start', title: 'Evaluating', message: `${path.basename(launch.run.model)} on ${path.basename(launch.run.dataset)}` });
    const stops = [...new Set([...launch.stopOnBatch, ...this.batchStops])].sort((a, b) => a - b);
    const ev = await evaluate(launch.run, {
      signal: this.abort.signal,
      cwd: launch.cwd,
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
          this.pausedAt = p;
          this.state = 'batch';
          this.emit('stopOnBatch', p);
        }),
    });
    this.emit('progress', { kind: 'end', message: ev.fromCache ? 'reused the cache' : 'done' });
    return ev;
  }

  /** The metric function's definition in the user's file (re-read: the file may have been edited). */
  location(): MetricLocation | null {
    const file = this.launch?.run.metrics;
    if (!file) return null;
    let source = '';
    try {
      source = this.io.readText(file);
    } catch {
      /* a deleted file still gets a frame, at line 1 */
    }
    return findMetricFunction(file, source, this.launch?.run.function);
  }

  private stopAtBoundary(afterMetrics: boolean): void {
    this.state = 'boundary';
    this.emit('stopOnBoundary', { evaluation: this.evaluation!, location: this.location(), afterMetrics });
  }

  /** Resume: after a batch stop the loop goes on; at the boundary the metric function runs, then we stop there again. */
  continue(): void {
    if (this.state === 'batch') {
      const r = this.resumeBatch;
      this.resumeBatch = undefined;
      this.pausedAt = undefined;
      this.state = 'running';
      r?.resolve();
      return;
    }
    if (this.state === 'boundary' || this.state === 'metricError') {
      void this.rerunMetrics().then((ok) => {
        if (ok && this.state !== 'ended') this.stopAtBoundary(true);
      });
    }
  }

  /**
   * Run the metric function on the cached EvalPrediction and report `metrics` (or `stopOnMetricError`).
   * Returns the outcome, or undefined when it failed (or there is nothing to run yet).
   */
  async rerunMetrics(): Promise<MetricsOutcome | undefined> {
    const ev = this.evaluation;
    const launch = this.launch;
    if (!ev || !launch || this.state === 'ended') return undefined;
    this.state = 'metrics';
    let outcome: MetricsOutcome;
    try {
      if (launch.run.metrics) {
        outcome = await metricsFromCache(ev.cacheDir, ev.loop, launch.run.metrics, {
          function: launch.run.function,
          batchSize: launch.run.batchSize,
          profile: launch.run.evalPredictionProfile,
          python: launch.python,
          timeoutMs: launch.metricTimeoutMs,
        });
      } else if (ev.loop) {
        outcome = await metricsForEvaluation(ev, launch.run);
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
        line !== undefined ? { file: err.place.file ?? def?.file ?? '', line, name: def?.name ?? 'compute_metrics' } : def;
      const mfe = err instanceof MetricFunctionError ? err : undefined;
      if (mfe?.stdout) this.emit('output', mfe.stdout, 'stdout');
      this.emit('output', err.message + '\n', 'stderr');
      this.emit('stopOnMetricError', { error: err, location, traceback: mfe?.traceback ?? '', stdout: mfe?.stdout ?? '' });
      return undefined;
    }
    if ((this.state as State) === 'ended') return undefined;
    this.state = 'boundary';
    const previous = this.lastMetrics;
    this.lastMetrics = outcome.metrics;
    this.lastOutcome = outcome;
    if (outcome.stdout) this.emit('output', outcome.stdout.endsWith('\n') ? outcome.stdout : outcome.stdout + '\n', 'stdout');
    for (const w of outcome.warnings) this.emit('output', `warning: ${w}\n`, 'console');
    this.emit('metrics', { outcome, previous, diff: previous ? diffMetrics(previous, outcome.metrics) : [] });
    return outcome;
  }

  /** Stop the loop (mid-batch too: the worker is terminated after a grace period) and end the session. */
  cancel(): void {
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
    await closeRunners();
  }

  private finish(r: EndReport): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.emit('end', r);
  }
}
