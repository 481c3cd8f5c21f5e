// One entry point for "run this metric file on this cache": picks the runner by extension, keeps the
// runners warm across calls (the debug adapter and the extension rerun on every save), and applies
// Trainer's post-processing.
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError } from '../errors';
import { readCache } from '../cache/store';
import type { EvalPredictionProfile } from '../loop/settings';
import { TensorNode } from '../tensor/tensor';
import { mentionsPreprocess } from './metricFunction';
import { JsMetricRunner, JsRunnerOptions } from './jsRunner';
import { PyMetricRunner, defaultPython } from './pyRunner';
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
  /** EvalPrediction profile for .py files (spec §2.1); undefined: installed transformers, else current. */
  profile?: EvalPredictionProfile;
}

export interface RunMetricResult {
  metrics: Metrics;
  warnings: string[];
  /** What the function printed. */
  stdout: string;
  durationMs: number;
}

const JS_EXT = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.tsx', '.jsx']);

let js: JsMetricRunner | undefined;
let py: PyMetricRunner | undefined;
let jsOptions: JsRunnerOptions = {};
let pyOptions: PyRunnerDefaults = {};

export interface PyRunnerDefaults {
  /** Interpreter when a call names none (default python3 on PATH). */
  python?: string;
  /** Extra environment for the worker (tests: EVALPRED_NO_TRANSFORMERS, EVALPRED_NO_TORCH, PYTHONPATH). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Options for the TS/JS runner created on first use (worker file, heap limit, default timeout). */
export function configureJsRunner(opts: JsRunnerOptions): void {
  jsOptions = opts;
  if (js) void js.close();
  js = undefined;
}

function jsRunner(): JsMetricRunner {
  return (js ??= new JsMetricRunner(jsOptions));
}

/**
 * Defaults for the Python runner created on first use. The loop's preprocess hook takes only the file, so
 * this is how a host picks the interpreter for preprocess_logits_for_metrics.
 */
export function configurePyRunner(opts: PyRunnerDefaults): void {
  pyOptions = opts;
  if (py) void py.close();
  py = undefined;
}

function pyRunner(): PyMetricRunner {
  return (py ??= new PyMetricRunner({ env: pyOptions.env, timeoutMs: pyOptions.timeoutMs }));
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

export async function runMetricFile(cacheDir: string, file: string, opts: RunMetricOptions = {}): Promise<RunMetricResult> {
  const lang = metricLanguage(file);
  let raw: Described;
  let stdout: string;
  let durationMs: number;
  const extra: string[] = [];
  if (lang === 'py') {
    cacheKey(cacheDir); // a clear error for a missing cache before starting Python
    const python = opts.python ?? pyOptions.python;
    const r = await pyRunner().run(file, cacheDir, { functionName: opts.function, python, timeoutMs: opts.timeoutMs, profile: opts.profile });
    ({ raw, stdout, durationMs } = r);
    extra.push(...r.warnings);
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
    ({ raw, stdout, durationMs } = await jsRunner().run(
      file,
      { key, load: () => readCache(cacheDir).evalPred, detach: true },
      { functionName: opts.function, timeoutMs: opts.timeoutMs },
    ));
  }
  const { metrics, warnings } = finalizeMetrics(raw, { prefix: opts.prefix, trainerLoss: opts.trainerLoss, speed: opts.speed, file: path.basename(file) });
  return { metrics, warnings: [...extra, ...warnings], stdout, durationMs };
}

/** A per-batch preprocess hook; `notes` holds remarks for the run's notes (e.g. NumPy instead of torch). */
export type PreprocessHook = ((logits: TensorNode, labels: TensorNode | null) => Promise<TensorNode>) & { notes: string[] };

/**
 * The file's preprocess_logits_for_metrics (preprocessLogitsForMetrics in TS/JS) as a per-batch hook for the
 * loop, or null when it defines none. A .py file's function runs in the warm Python worker with torch
 * tensors when torch is importable there (as in Trainer), else with NumPy arrays (said once in `notes`).
 */
export async function preprocessFn(file: string, opts: { python?: string; timeoutMs?: number } = {}): Promise<PreprocessHook | null> {
  if (metricLanguage(file) === 'py') {
    // No Python start for the usual file without a preprocessor (the same test as the cache key's).
    let source = '';
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      throw new EvalpredError(`metric file ${path.resolve(file)} does not exist or cannot be read`, { file });
    }
    if (!mentionsPreprocess(source)) return null;
    const runner = pyRunner();
    const call = { python: opts.python ?? pyOptions.python, timeoutMs: opts.timeoutMs };
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
  const runner = jsRunner();
  if (!(await runner.hasPreprocess(file))) return null;
  const hook = async (logits: TensorNode, labels: TensorNode | null) => {
    const out = await runner.preprocess(file, logits, labels);
    if (!out) throw new EvalpredError(`${path.basename(file)}: preprocessLogitsForMetrics disappeared from the file`, { file });
    return out;
  };
  return Object.assign(hook, { notes: [] as string[] });
}

/** Stop the warm workers (call on shutdown; they never keep the process alive on their own). */
export async function closeRunners(): Promise<void> {
  const [a, b] = [js, py];
  js = py = undefined;
  await Promise.all([a?.close(), b?.close()]);
}
