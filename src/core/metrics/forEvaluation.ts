// Metrics for one evaluation, the way Trainer assembles them: the user's compute_metrics (or the built-in
// ones when no file is given), then eval_loss, the eval_ prefix and speed metrics (docs/trainer-semantics.md#the-metrics-dictionary).
//
// Speed fields on a rerun: eval_runtime, eval_samples_per_second and eval_steps_per_second describe the
// model run that made the cache, never a rerun of compute_metrics (which runs no model). They are kept, so
// the dict has the keys Trainer.evaluate() returns and diffs against a Trainer log line up, computed with the
// batch size recorded in the cache's manifest, and every rerun says whose they are in `notes` (the CLI prints
// it on stderr, the debug session in the Debug Console): docs/trainer-semantics.md#speed-fields-on-a-rerun.
import { readCacheManifest } from '../cache/store';
import type { Evaluation } from '../cache/evaluation';
import type { LoopRecord } from '../loop/types';
import { DEFAULT_BATCH_SIZE, EvalPredictionProfile, RunSettings } from '../loop/settings';
import { builtinMetrics } from './builtin';
import { FinalizeOptions, Metrics, finalizeMetrics, metricsToJson } from './postprocess';
import type { MetricRunners } from './runMetrics';
import { loadTokenizer } from '../text';
import { squad } from './library/squad';
import { QaEvalPrediction, postprocessedQa } from './qaPostprocess';
import type { Described } from './postprocess';
import { BatchCall, recordedBatchEvalMetrics } from './batchCalls';

/** run_qa's compute_metrics with evaluate's "squad": exact_match and f1 in percent over the post-processed answers. */
function qaBuiltinMetrics(qa: QaEvalPrediction, warnings: string[]): Described | null {
  if (qa.predictions.some((p) => p.no_answer_probability !== undefined)) {
    warnings.push('no built-in metrics for SQuAD v2 (evaluate\'s "squad_v2"); pass a metric file (--metrics) to score null answers.');
    return null;
  }
  const refs = qa.label_ids.map((r) => {
    const text = (r.answers as { text?: unknown } | null)?.text;
    return Array.isArray(text) ? text.map(String) : [];
  });
  if (refs.some((r) => r.length === 0)) {
    warnings.push('no built-in SQuAD metrics: some examples have no reference answers (an "answers" column with "text" lists is needed).');
    return null;
  }
  const s = squad(qa.predictions.map((p) => p.prediction_text), refs);
  return { type: 'mapping', entries: [[{ type: 'string', value: 'exact_match' }, { type: 'number', value: s.exact_match }], [{ type: 'string', value: 'f1' }, { type: 'number', value: s.f1 }]] };
}

export interface MetricsOutcome {
  metrics: Metrics;
  json: string;
  warnings: string[];
  /** What the user's function printed. */
  stdout: string;
  durationMs: number;
  /** Remarks for the user that are not warnings (whose the speed fields are on a rerun). */
  notes: string[];
  /** Under batch_eval_metrics: the calls made and what the last returned (batchCalls.ts). */
  batch?: { calls: BatchCall[]; returned: Described };
  /** The files the metric's code came from, when a metric file ran (RunMetricResult.sources). */
  sources?: string[];
}

/** The batch size of the model run that made the cache (its manifest), else `fallback`. */
export function recordedBatchSize(cacheDir: string, fallback?: number): number | undefined {
  try {
    const b = (readCacheManifest(cacheDir).producer as { settings?: { batchSize?: unknown } } | undefined)?.settings?.batchSize;
    if (typeof b === 'number' && Number.isInteger(b) && b > 0) return b;
  } catch {
    // an unreadable manifest is reported by whoever reads the arrays
  }
  return fallback;
}

/** The label a rerun's speed fields get: they are the cached model run's. */
export function rerunSpeedNote(loop: LoopRecord | undefined, batchSize: number | undefined, rerunMs: number, prefix = 'eval'): string[] {
  if (!loop) return [];
  const bs = batchSize !== undefined ? ` at batch size ${batchSize}` : '';
  return [
    `${prefix}_runtime, ${prefix}_samples_per_second and ${prefix}_steps_per_second are the model run's that made this cache ` +
      `(${loop.runtimeSeconds.toFixed(2)} s for ${loop.numSamples} samples${bs}), not this rerun's: compute_metrics alone took ${rerunMs.toFixed(0)} ms.`,
  ];
}

function finalizeOptions(loop: LoopRecord | undefined, batchSize: number | undefined, file?: string): FinalizeOptions {
  return {
    prefix: 'eval',
    trainerLoss: loop?.evalLoss ?? undefined,
    speed: loop ? { runtimeS: loop.runtimeSeconds, numSamples: loop.numSamples, batchSize: batchSize ?? DEFAULT_BATCH_SIZE } : undefined,
    file,
  };
}

/**
 * `runners`: the caller's metric processes (it closes them); used only when settings name a metric file.
 * `rerun` (default: the predictions came from the cache) labels the speed fields as the cached model run's.
 */
export async function metricsForEvaluation(runners: MetricRunners, ev: Evaluation, settings: RunSettings, opts: { rerun?: boolean } = {}): Promise<MetricsOutcome> {
  const rerun = opts.rerun ?? ev.fromCache;
  if (settings.metrics) {
    return metricsFromCache(runners, ev.cacheDir, ev.loop, settings.metrics, {
      function: settings.function,
      batchSize: settings.batchSize,
      profile: settings.evalPredictionProfile,
      rerun,
      batchEvalMetrics: settings.batchEvalMetrics,
    });
  }
  const t0 = performance.now();
  const warnings: string[] = [];
  // Trainer calls compute_metrics only when both predictions and labels exist (docs/trainer-semantics.md#when-compute_metrics-is-not-called).
  // seq2seq ROUGE decodes with the model's tokenizer (the loop already loaded it once, so this does not fail here)
  const tokenizer = ev.loop.task === 'seq2seq-lm' && settings.predictWithGenerate ? await loadTokenizer(settings.model) : undefined;
  // run_qa (doc stride): QuestionAnsweringTrainer scores the post-processed answers, with no label_ids in the loop.
  const qa = ev.loop.task === 'question-answering' ? postprocessedQa(ev.cacheDir, ev.evalPred) : undefined;
  const raw = qa
    ? qaBuiltinMetrics(qa, warnings)
    : ev.evalPred.labelIds
      ? builtinMetrics(ev.evalPred, ev.loop.task, ev.loop.info.id2label, { tokenizer, predictWithGenerate: settings.predictWithGenerate })
      : null;
  if (!raw && ev.evalPred.labelIds && !qa) {
    warnings.push(
      settings.batchEvalMetrics
        ? 'no built-in metrics under --batch-eval-metrics: it calls your compute_metrics(eval_pred, compute_result) once per batch; pass --metrics FILE.'
        : `no built-in metrics for ${ev.loop.task}; pass --metrics FILE to compute your own.`,
    );
  }
  const batchSize = recordedBatchSize(ev.cacheDir, ev.fromCache ? undefined : settings.batchSize);
  const fin = finalizeMetrics(raw ?? { type: 'mapping', entries: [] }, { ...finalizeOptions(ev.loop, batchSize), questionAnswering: !!qa });
  const durationMs = performance.now() - t0;
  const notes = rerun ? rerunSpeedNote(ev.loop, batchSize, durationMs) : [];
  return { metrics: fin.metrics, json: metricsToJson(fin.metrics), warnings: [...warnings, ...fin.warnings], stdout: '', durationMs, notes };
}

/** How to run a metric file on a cache (metricsFromCache). */
export interface MetricsFromCacheOptions {
  function?: string;
  batchSize?: number;
  python?: string;
  timeoutMs?: number;
  profile?: EvalPredictionProfile;
  /** The predictions were not made by a model run just now: the speed fields are labelled as the cached run's. */
  rerun?: boolean;
  /** batch_eval_metrics; undefined: as the run that made the cache (its manifest's settings). */
  batchEvalMetrics?: boolean;
  /** Only this batch_eval_metrics call (the debug session's stop before each call). */
  batchCall?: BatchCall;
}

export async function metricsFromCache(
  runners: MetricRunners,
  cacheDir: string,
  loop: LoopRecord | undefined,
  file: string,
  opts: MetricsFromCacheOptions = {},
): Promise<MetricsOutcome> {
  // The speed fields are the model run's, so its batch size (the manifest's) wins over whatever launched this
  // rerun: a cache opened alone has only the default batch size in its launch settings.
  const batchSize = recordedBatchSize(cacheDir, opts.batchSize);
  const fin = finalizeOptions(loop, batchSize, file);
  const r = await runners.run(cacheDir, file, {
    function: opts.function,
    python: opts.python,
    timeoutMs: opts.timeoutMs,
    profile: opts.profile,
    batchEvalMetrics: opts.batchEvalMetrics ?? recordedBatchEvalMetrics(readCacheManifest(cacheDir)),
    batchCall: opts.batchCall,
    prefix: fin.prefix,
    trainerLoss: fin.trainerLoss,
    speed: fin.speed,
  });
  // A batch_eval_metrics call before the last one has no metrics yet, so nothing to label.
  const partial = opts.batchCall !== undefined && !opts.batchCall.computeResult;
  const notes = opts.rerun !== false && !partial ? rerunSpeedNote(loop, batchSize, r.durationMs) : [];
  const out: MetricsOutcome = { metrics: r.metrics, json: metricsToJson(r.metrics), warnings: r.warnings, stdout: r.stdout, durationMs: r.durationMs, notes, sources: r.sources };
  if (r.batch) out.batch = r.batch;
  return out;
}
