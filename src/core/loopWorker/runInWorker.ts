// Host side of the loop worker: start it, relay progress and logs, honour an AbortSignal (cooperative
// between batches, then terminate() if a batch does not finish within the grace period), and rebuild the
// EvalPrediction from transferred buffers.
import { Worker } from 'node:worker_threads';
import { EvalpredError } from '../errors';
import { distFile } from '../paths';
import { evalPredFromWire } from '../tensor/transfer';
import { CancelledError, LoopProgress, LoopResult } from '../loop/types';
import { RunSettings } from '../loop/settings';
import { FromWorker, ToWorker } from './protocol';
import type { MetricRunnersOptions } from '../metrics/runMetrics';
import type { FeaturesCacheTarget } from '../textFeatures/featuresKey';

export interface WorkerRunOptions {
  signal?: AbortSignal;
  onProgress?(p: LoopProgress): void;
  onLog?(line: string): void;
  /** 1-based batch numbers after which the loop pauses until `onPause` resolves. */
  pauseAfterBatches?: number[];
  onPause?(p: LoopProgress): Promise<void>;
  /** How long a cancelled batch may keep running before the worker is terminated. */
  cancelGraceMs?: number;
  /** Options for the metric runners the loop thread starts for preprocess_logits_for_metrics (it owns and closes them). */
  runners?: MetricRunnersOptions;
  /** Stream the arrays to this folder as they come (LoopHooks.spoolDir): the result's tensors are its files. */
  spoolDir?: string;
  /** Where tokenized features are cached between runs (LoopHooks.featuresCache). */
  featuresCache?: FeaturesCacheTarget;
  /**
   * Start now, run later: the worker opens the model, tokenizer and dataset, then waits for this to resolve;
   * run: true runs the loop (spooling to spoolDir and caching features as given here), false calls it off (the
   * promise rejects with CancelledError).
   */
  gate?: Promise<GateDecision>;
}

export type GateDecision = { run: false } | { run: true; spoolDir?: string; featuresCache?: FeaturesCacheTarget };

export function runLoopInWorker(settings: RunSettings, opts: WorkerRunOptions = {}): Promise<LoopResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CancelledError());
    const worker = new Worker(distFile('loopWorker.js'));
    const send = (m: ToWorker) => worker.postMessage(m);
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      // unref: a worker still inside a native call (a model load, when a gated start is called off) must not keep the process alive.
      worker.unref();
      void worker.terminate();
      fn();
    };
    const onAbort = () => {
      send({ type: 'cancel' });
      killTimer = setTimeout(() => finish(() => reject(new CancelledError())), opts.cancelGraceMs ?? 2000);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'progress':
          opts.onProgress?.(m.progress);
          break;
        case 'log':
          opts.onLog?.(m.line);
          break;
        case 'paused':
          Promise.resolve(opts.onPause?.(m.progress)).then(
            () => send({ type: 'resume' }),
            () => send({ type: 'cancel' }),
          );
          break;
        case 'done':
          finish(() => resolve({ ...m.result, evalPred: evalPredFromWire(m.evalPred) }));
          break;
        case 'cancelled':
          finish(() => reject(new CancelledError()));
          break;
        case 'error':
          finish(() =>
            reject(m.userError ? new EvalpredError(m.message) : Object.assign(new Error(m.message), { stack: m.stack ?? m.message })),
          );
          break;
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the evaluation worker exited unexpectedly (code ${code})`))));
    send({ type: 'start', settings, pauseAfterBatches: opts.pauseAfterBatches ?? [], runners: opts.runners, spoolDir: opts.spoolDir, featuresCache: opts.featuresCache, gated: !!opts.gate });
    // Not needed after all: stop the worker at once (it holds no result and has written nothing yet).
    opts.gate?.then(
      (d) => (d.run ? send({ type: 'go', spoolDir: d.spoolDir, featuresCache: d.featuresCache }) : finish(() => reject(new CancelledError()))),
      () => finish(() => reject(new CancelledError())),
    );
  });
}
