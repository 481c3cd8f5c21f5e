// One entry point for "run this metric file on this cache": picks the runner by extension, keeps the
// runners warm across calls (the debug adapter and the extension rerun on every save) inside an owned
// MetricRunners object, and applies Trainer's post-processing.
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError } from '../errors';
import type { EvalPredictionProfile } from '../loop/settings';
import { QA_ATTACHMENT } from '../loop/qaFeatures';
import { CheckedCache, checkCache, readCacheManifest } from '../cache/reader';
import { BatchCall, batchCallCount, batchCalls } from './batchCalls';
import { TensorNode } from '../tensor/tensor';
import { memoryLimitMb } from './containment';
import { mentionsPreprocess } from './metricFunction';
import { JsDebugHooks, JsMetricRunner } from './jsRunner';
import { PyMetricRunner, PythonDebugHooks } from './pyRunner';
import { defaultPython } from './pythonInterpreters';
import { Described, finalizeMetrics, Metrics } from './postprocess';

export interface RunMetricOptions {
  /** Function name (default computeMetrics / compute_metrics / default export). */
  function?: string;
  /** Python interpreter for .py files (default python3 on PATH). */
  python?: string;
  timeoutMs?: number;
  /** Metric key prefix (default "eval"). */
  prefix?: string;
  /** Trainer's eval_loss, when known (added before prefixing, as Trainer does). */
  trainerLoss?: number;
  speed?: { runtimeS: number; numSamples: number; batchSize: number };
  /** EvalPrediction profile for .py files (docs/trainer-semantics.md#the-evalprediction-object); undefined: installed transformers, else current. */
  profile?: EvalPredictionProfile;
  /** batch_eval_metrics: one call per cached batch, the last call's result is the metrics (batchCalls.ts). */
  batchEvalMetrics?: boolean;
  /** Only this call of batch_eval_metrics (the debug session steps through them); metrics only when it is the last. */
  batchCall?: BatchCall;
}

export interface RunMetricResult {
  metrics: Metrics;
  warnings: string[];
  /** What the function printed. */
  stdout: string;
  durationMs: number;
  /** Under batch_eval_metrics: the calls made, and what the last one returned (metrics are {} until compute_result is true). */
  batch?: { calls: BatchCall[]; returned: Described };
  /** The files the metric's code came from (the metric file, the local modules it imports): what `--watch` watches. */
  sources: string[];
}

const JS_EXT = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.tsx', '.jsx']);

export interface MetricRunnersOptions {
  /** Interpreter when a call names none (default python3 on PATH). */
  python?: string;
  /** Extra environment for the Python worker (tests: EVALPRED_NO_TRANSFORMERS, EVALPRED_NO_TORCH, PYTHONPATH). */
  env?: NodeJS.ProcessEnv;
  /** Default time limit of one call, ms (60 000). */
  timeoutMs?: number;
  /** Memory limit of each metric process, MB (default: half of physical memory; containment.ts). */
  memoryLimitMb?: number;
  /** The bundled TS/JS worker; default dist/metricWorker.js. */
  jsWorkerFile?: string;
  /** A line debugger for Python metric runs (the debug adapter's); its runs have no time limit. */
  pythonDebug?: PythonDebugHooks;
  /** A line debugger for TS/JS metric runs (the debug adapter's Node inspector bridge). */
  jsDebug?: JsDebugHooks;
}

/**
 * The warm metric processes of one owner (a CLI command, the debug runtime, the loop worker, the extension's
 * reruns): created on first use, reused across calls, ended by `close()`. Whoever creates it closes it; the
 * loop and the metric helpers only borrow it.
 */
export class MetricRunners {
  private js: JsMetricRunner | undefined;
  private py: PyMetricRunner | undefined;
  private closed = false;

  constructor(readonly options: MetricRunnersOptions = {}) {
    // Validate now: a bad limit is the caller's error, not the first metric run's.
    memoryLimitMb(options.memoryLimitMb);
  }

  get memoryLimitMb(): number {
    return memoryLimitMb(this.options.memoryLimitMb);
  }

  /** The TS/JS runner (child process), started on first use. */
  jsRunner(): JsMetricRunner {
    this.open();
    return (this.js ??= new JsMetricRunner({ workerFile: this.options.jsWorkerFile, timeoutMs: this.options.timeoutMs, memoryLimitMb: this.options.memoryLimitMb, debug: this.options.jsDebug }));
  }

  /** The Python runner (one warm worker per interpreter), started on first use. */
  pyRunner(): PyMetricRunner {
    this.open();
    return (this.py ??= new PyMetricRunner({ env: this.options.env, timeoutMs: this.options.timeoutMs, memoryLimitMb: this.options.memoryLimitMb, debug: this.options.pythonDebug }));
  }

  /** Calls bound to one metric file: its metric run on a cache and its per-batch preprocess hook. */
  forMetricFile(file: string, opts: Omit<RunMetricOptions, 'prefix' | 'trainerLoss' | 'speed'> = {}): MetricFile {
    return {
      file,
      run: (cacheDir, more = {}) => this.run(cacheDir, file, { ...opts, ...more }),
      preprocessHook: () => this.preprocessHook(file, { python: opts.python, timeoutMs: opts.timeoutMs }),
    };
  }

  run(cacheDir: string, file: string, opts: RunMetricOptions = {}): Promise<RunMetricResult> {
    return runMetricFileWith(this, cacheDir, file, opts);
  }

  preprocessHook(file: string, opts: { python?: string; timeoutMs?: number } = {}): Promise<PreprocessHook | null> {
    return preprocessHookWith(this, file, opts);
  }

  /** A Debug Console line in JavaScript at the boundary of a TS/JS metric (JsMetricRunner.evaluate). */
  evaluateJs(cacheDir: string, file: string, expression: string, opts: { param: string; timeoutMs?: number; batch?: BatchCall }): Promise<{ value: string; type: string; stdout: string }> {
    return this.jsRunner().evaluate(file, { key: cacheKey(cacheDir), cacheDir }, expression, opts);
  }

  /** Start the TS/JS worker for `file` ahead of its first run (JsMetricRunner.warm). */
  warmJs(file: string): Promise<void> {
    return this.jsRunner().warm(file);
  }

  /** End every process this owner started (idempotent). */
  async close(): Promise<void> {
    this.closed = true;
    const [a, b] = [this.js, this.py];
    this.js = this.py = undefined;
    await Promise.all([a?.close(), b?.close()]);
  }

  private open(): void {
    if (this.closed) throw new Error('internal: metric runners used after close()');
  }
}

export interface MetricFile {
  file: string;
  run(cacheDir: string, opts?: Pick<RunMetricOptions, 'prefix' | 'trainerLoss' | 'speed'>): Promise<RunMetricResult>;
  preprocessHook(): Promise<PreprocessHook | null>;
}

export function metricLanguage(file: string): 'js' | 'py' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.py') return 'py';
  if (JS_EXT.has(ext)) return 'js';
  throw new EvalpredError(
    `metric file ${file}: unknown extension '${ext}'; use a .py file (compute_metrics) or .ts/.js/.mjs/.cjs (computeMetrics)`,
    { file },
  );
}

/** A stamp of the cache that changes whenever the cache is rewritten (atomic rename = new manifest). */
function cacheKey(cacheDir: string): string {
  const manifest = path.join(path.resolve(cacheDir), 'manifest.json');
  let st: fs.Stats;
  try {
    st = fs.statSync(manifest);
  } catch {
    throw new EvalpredError(`${cacheDir} is not an evalpred cache: ${manifest} is missing`, { file: manifest });
  }
  return `${manifest}:${st.mtimeMs}:${st.size}:${st.ino}`;
}

async function runMetricFileWith(runners: MetricRunners, cacheDir: string, file: string, opts: RunMetricOptions): Promise<RunMetricResult> {
  if (!opts.batchCall && !opts.batchEvalMetrics) {
    const r = await callMetricFile(runners, cacheDir, file, opts);
    const questionAnswering = !!readCacheManifest(cacheDir).attachments?.[QA_ATTACHMENT]; // QuestionAnsweringTrainer's dict
    const { metrics, warnings } = finalizeMetrics(r.raw, { prefix: opts.prefix, trainerLoss: opts.trainerLoss, speed: opts.speed, file: path.basename(file), questionAnswering });
    return { metrics, warnings: [...r.warnings, ...warnings], stdout: r.stdout, durationMs: r.durationMs, sources: r.sources };
  }
  // batch_eval_metrics: Trainer keeps only the last call's return value (`metrics = self.compute_metrics(...)`
  // in every batch) and uses {} when it is None (docs/trainer-semantics.md#batch_eval_metrics).
  // The cache is checked once for the whole replay, not once per call: each check reads every batch's header.
  const checked = opts.batchCall ? undefined : checkCache(cacheDir);
  const calls = opts.batchCall ? [opts.batchCall] : batchCalls(cacheBatchCallCount(cacheDir, checked));
  const stdout: string[] = [];
  const warnings = new Set<string>();
  let durationMs = 0;
  let returned: Described = { type: 'none' };
  const sources = new Set<string>([path.resolve(file)]);
  for (const call of calls) {
    const r = await callMetricFile(runners, cacheDir, file, { ...opts, batchCall: call }, checked);
    stdout.push(r.stdout);
    r.warnings.forEach((w) => warnings.add(w));
    durationMs += r.durationMs;
    returned = r.raw;
    r.sources.forEach((f) => sources.add(f));
  }
  const last = calls[calls.length - 1];
  if (!last) warnings.add(`${path.basename(file)} was not called: no batch has labels, and Trainer calls compute_metrics only for batches with labels.`);
  const final = !last || last.computeResult;
  const raw: Described = final && returned.type !== 'none' ? returned : { type: 'mapping', entries: [] };
  if (last?.computeResult && returned.type === 'none') warnings.add(`${path.basename(file)} returned None for compute_result=True, so the metrics hold only what Trainer adds (eval_loss and the speed fields), as Trainer's would.`);
  const { metrics, warnings: more } = finalizeMetrics(raw, { prefix: opts.prefix, trainerLoss: final ? opts.trainerLoss : undefined, speed: final ? opts.speed : undefined, file: path.basename(file) });
  return { metrics, warnings: [...warnings, ...more], stdout: stdout.join(''), durationMs, batch: { calls, returned }, sources: [...sources] };
}

/** The number of batch_eval_metrics calls a cache replays (batchCalls.ts), from its checked nodes. */
export function cacheBatchCallCount(cacheDir: string, checked: CheckedCache = checkCache(cacheDir)): number {
  const { nodes } = checked;
  return batchCallCount({ predictions: nodes.predictions, labels: nodes.label_ids }, cacheDir);
}

/** One call of the metric function (the whole EvalPrediction, or one batch_eval_metrics batch): what it returned, before Trainer's post-processing. */
async function callMetricFile(
  runners: MetricRunners,
  cacheDir: string,
  file: string,
  opts: RunMetricOptions,
  checked?: CheckedCache,
): Promise<{ raw: Described; warnings: string[]; stdout: string; durationMs: number; sources: string[] }> {
  const lang = metricLanguage(file);
  let raw: Described;
  let stdout: string;
  let durationMs: number;
  let sources: string[];
  const extra: string[] = [];
  if (lang === 'py') {
    cacheKey(cacheDir); // a clear error for a missing cache before starting Python
    const python = opts.python ?? runners.options.python;
    const r = await runners.pyRunner().run(file, cacheDir, { functionName: opts.function, python, timeoutMs: opts.timeoutMs, profile: opts.profile, batch: opts.batchCall, checked });
    ({ raw, stdout, durationMs, sources } = r);
    extra.push(...r.warnings);
    if (r.batchTensors === 'numpy') {
      extra.push(
        `${path.basename(file)}: under batch_eval_metrics compute_metrics is given NumPy arrays, not torch tensors as in Trainer, because torch is not ` +
          `importable in ${python ?? (await defaultPython())}; torch-only calls such as logits.argmax(dim=-1) fail there.`,
      );
    }
    if (r.preprocessTensors === 'numpy') {
      extra.push(
        `${path.basename(file)}: preprocess_logits_for_metrics is given NumPy arrays, not torch tensors as in Trainer, because torch is not ` +
          `importable in ${python ?? (await defaultPython())}; torch-only calls such as logits.argmax(dim=-1) fail there.`,
      );
    }
  } else {
    if (opts.profile && opts.profile !== 'current') {
      extra.push(`the EvalPrediction profile ${opts.profile} shapes Python's eval_pred only; ${path.basename(file)} gets evalpred's tensor object.`);
    }
    const key = cacheKey(cacheDir);
    ({ raw, stdout, durationMs, sources } = await runners.jsRunner().run(
      file,
      { key, cacheDir },
      { functionName: opts.function, timeoutMs: opts.timeoutMs, batch: opts.batchCall },
    ));
  }
  return { raw, warnings: extra, stdout, durationMs, sources };
}

/** A per-batch preprocess hook; `notes` holds remarks for the run's notes (e.g. NumPy instead of torch). */
export type PreprocessHook = ((logits: TensorNode, labels: TensorNode | null) => Promise<TensorNode>) & { notes: string[] };

/**
 * The file's preprocess_logits_for_metrics (preprocessLogitsForMetrics in TS/JS) as a per-batch hook for the
 * loop, or null when it defines none. A .py file's function runs in the warm Python worker with torch
 * tensors when torch is importable there (as in Trainer), else with NumPy arrays (said once in `notes`).
 */
async function preprocessHookWith(runners: MetricRunners, file: string, opts: { python?: string; timeoutMs?: number }): Promise<PreprocessHook | null> {
  if (metricLanguage(file) === 'py') {
    // No Python start for the usual file without a preprocessor (the same test as the cache key's).
    let source = '';
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      throw new EvalpredError(`metric file ${path.resolve(file)} does not exist or cannot be read`, { file });
    }
    if (!mentionsPreprocess(source)) return null;
    const runner = runners.pyRunner();
    const call = { python: opts.python ?? runners.options.python, timeoutMs: opts.timeoutMs };
    const probe = await runner.probePreprocess(file, call);
    if (!probe.defined) return null;
    const notes =
      probe.tensors === 'numpy'
        ? [
            `preprocess_logits_for_metrics in ${path.basename(file)} received NumPy arrays, not torch tensors as in Trainer, because torch is not ` +
              `importable in ${probe.python}.`,
          ]
        : [];
    const hook = async (logits: TensorNode, labels: TensorNode | null) => (await runner.preprocess(file, logits, labels, call)).result;
    return Object.assign(hook, { notes });
  }
  const runner = runners.jsRunner();
  if (!(await runner.hasPreprocess(file))) return null;
  const hook = async (logits: TensorNode, labels: TensorNode | null) => {
    const out = await runner.preprocess(file, logits, labels);
    if (!out) throw new EvalpredError(`${path.basename(file)}: preprocessLogitsForMetrics disappeared from the file`, { file });
    return out;
  };
  return Object.assign(hook, { notes: [] as string[] });
}
