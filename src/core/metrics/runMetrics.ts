// One entry point for "run this metric file on this cache": picks the runner by extension, keeps the
// runners warm across calls (the debug adapter and the extension rerun on every save), and applies
// Trainer's post-processing.
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError } from '../errors';
import { readCache } from '../cache/store';
import { TensorNode } from '../tensor/tensor';
import { JsMetricRunner, JsRunnerOptions } from './jsRunner';
import { PyMetricRunner } from './pyRunner';
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

/** Options for the TS/JS runner created on first use (worker file, heap limit, default timeout). */
export function configureJsRunner(opts: JsRunnerOptions): void {
  jsOptions = opts;
  if (js) void js.close();
  js = undefined;
}

function jsRunner(): JsMetricRunner {
  return (js ??= new JsMetricRunner(jsOptions));
}

function pyRunner(): PyMetricRunner {
  return (py ??= new PyMetricRunner());
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
  if (lang === 'py') {
    cacheKey(cacheDir); // a clear error for a missing cache before starting Python
    ({ raw, stdout, durationMs } = await pyRunner().run(file, cacheDir, { functionName: opts.function, python: opts.python, timeoutMs: opts.timeoutMs }));
  } else {
    const key = cacheKey(cacheDir);
    ({ raw, stdout, durationMs } = await jsRunner().run(
      file,
      { key, load: () => readCache(cacheDir).evalPred, detach: true },
      { functionName: opts.function, timeoutMs: opts.timeoutMs },
    ));
  }
  const { metrics, warnings } = finalizeMetrics(raw, { prefix: opts.prefix, trainerLoss: opts.trainerLoss, speed: opts.speed, file: path.basename(file) });
  return { metrics, warnings, stdout, durationMs };
}

/**
 * The file's preprocess_logits_for_metrics as a per-batch hook for the loop, or null when it defines
 * none. TS/JS files only for now (a .py file returns null: its preprocessor is not run).
 */
export async function preprocessFn(file: string): Promise<((logits: TensorNode, labels: TensorNode | null) => Promise<TensorNode>) | null> {
  if (metricLanguage(file) !== 'js') return null;
  const runner = jsRunner();
  if (!(await runner.hasPreprocess(file))) return null;
  return async (logits, labels) => {
    const out = await runner.preprocess(file, logits, labels);
    if (!out) throw new EvalpredError(`${path.basename(file)}: preprocessLogitsForMetrics disappeared from the file`, { file });
    return out;
  };
}

/** Stop the warm workers (call on shutdown; they never keep the process alive on their own). */
export async function closeRunners(): Promise<void> {
  const [a, b] = [js, py];
  js = py = undefined;
  await Promise.all([a?.close(), b?.close()]);
}
