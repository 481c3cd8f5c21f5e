// What the runtime takes from outside, injected through its constructor (as mock-debug's runtime takes
// its file accessor): file access, tokenizer loading, cache reading and the metric runners. A host with
// another file system, a test, or a later runner that drives a real debugger (debugpy, the Node
// inspector) swaps one member without touching the runtime (docs/architecture.md, "The debug adapter").
import fs from 'node:fs';
import { modelFolderProblem } from '../cache/producerPaths';
import { readCache } from '../cache/reader';
import { EvalpredError } from '../errors';
import type { CacheManifest } from '../cache/manifest';
import type { Evaluation, LoopRecord } from '../evaluate';
import type { EvalPredictionProfile, RunSettings } from '../loop/settings';
import { MetricsFromCacheOptions, MetricsOutcome, metricsForEvaluation, metricsFromCache } from '../metrics/forEvaluation';
import { MetricRunners, MetricRunnersOptions } from '../metrics/runMetrics';
import type { EvalPredictionData } from '../tensor/tensor';
import type { BatchCall } from '../metrics/batchCalls';
import { LoadedTokenizer, loadTokenizer } from '../text';

export interface RuntimeIO {
  readText(file: string): string;
  exists(p: string): boolean;
  isDirectory(p: string): boolean;
}

export const localIO: RuntimeIO = {
  readText: (f) => fs.readFileSync(f, 'utf8'),
  exists: (p) => fs.existsSync(p),
  isDirectory: (p) => {
    try {
      return fs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
};

/** How the session runs its metric file on a cache (one definition: metricsFromCache's). */
export type MetricFileOptions = MetricsFromCacheOptions;

/** Runs metric functions for one session: the user's file on a cache, or the built-in metrics of an evaluation. */
export interface SessionMetrics {
  fromCache(cacheDir: string, loop: LoopRecord | undefined, file: string, opts: MetricFileOptions): Promise<MetricsOutcome>;
  forEvaluation(ev: Evaluation, settings: RunSettings, opts?: { rerun?: boolean }): Promise<MetricsOutcome>;
  /** A Debug Console line in the metric's own language (Python) at the boundary; see PyMetricRunner.evaluate. */
  evaluatePython(
    cacheDir: string,
    file: string,
    expression: string,
    opts: { param?: string; python?: string; profile?: EvalPredictionProfile; timeoutMs?: number; batch?: BatchCall },
  ): Promise<{ value: string; type: string; stdout: string }>;
  /** A Debug Console line in JavaScript at the boundary of a TS/JS metric; see JsMetricRunner.evaluate. */
  evaluateJs(cacheDir: string, file: string, expression: string, opts: { param: string; timeoutMs?: number; batch?: BatchCall }): Promise<{ value: string; type: string; stdout: string }>;
  /** Start a TS/JS metric's process ahead of its first run (no user code runs); optional for other hosts. */
  warmJs?(file: string): Promise<void>;
  /** Start the Python worker for `python` ahead of the first run (PyMetricRunner.warm). */
  warmPython?(python?: string): void;
  /** Stop the warm workers (the runtime calls this when its session shuts down). */
  close(): Promise<void>;
}

export interface RuntimeServices {
  files: RuntimeIO;
  /** The tokenizer of a model folder, for decoded text in samples and expressions. */
  loadTokenizer(modelDir: string): Promise<LoadedTokenizer>;
  /** A cache folder written by an earlier run. */
  openCache(dir: string): { manifest: CacheManifest; evalPred: EvalPredictionData };
  /** The metric processes of one session, owned by the runtime (it closes them at shutdown). */
  metrics(opts: MetricRunnersOptions): SessionMetrics;
}

/** The local disk, the real tokenizer loader and the Python / JS metric runners. */
export function localServices(): RuntimeServices {
  return {
    files: localIO,
    // The model folder may come from a cache's manifest: its files are checked before they are read.
    loadTokenizer: async (dir) => {
      const problem = modelFolderProblem(dir);
      if (problem) throw new EvalpredError(problem, { file: dir });
      return loadTokenizer(dir);
    },
    openCache: readCache,
    metrics: (opts) => {
      const runners = new MetricRunners(opts);
      return {
        fromCache: (cacheDir, loop, file, o) => metricsFromCache(runners, cacheDir, loop, file, o),
        forEvaluation: (ev, settings, o) => metricsForEvaluation(runners, ev, settings, o),
        evaluatePython: (cacheDir, file, expression, o) => runners.pyRunner().evaluate(file, cacheDir, expression, o),
        evaluateJs: (cacheDir, file, expression, o) => runners.evaluateJs(cacheDir, file, expression, o),
        warmJs: (file) => runners.warmJs(file),
        warmPython: (python) => runners.pyRunner().warm(python),
        close: () => runners.close(),
      };
    },
  };
}
