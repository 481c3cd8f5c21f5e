// Metrics for one evaluation, the way Trainer assembles them: the user's compute_metrics (or the built-in
// ones when no file is given), then eval_loss, the eval_ prefix and speed metrics (docs/trainer-semantics.md#the-metrics-dictionary).
import { readCacheManifest } from '../cache/store';
import type { Evaluation } from '../cache/evaluation';
import type { LoopRecord } from '../loop/types';
import type { EvalPredictionProfile, RunSettings } from '../loop/settings';
import { builtinMetrics } from './builtin';
import { FinalizeOptions, Metrics, finalizeMetrics, metricsToJson } from './postprocess';
import type { MetricRunners } from './runMetrics';
import { loadTokenizer } from '../text';

export interface MetricsOutcome {
  metrics: Metrics;
  json: string;
  warnings: string[];
  /** What the user's function printed. */
  stdout: string;
  durationMs: number;
}

function finalizeOptions(loop: LoopRecord | undefined, batchSize: number, file?: string): FinalizeOptions {
  return {
    prefix: 'eval',
    trainerLoss: loop?.evalLoss ?? undefined,
    speed: loop ? { runtimeS: loop.runtimeSeconds, numSamples: loop.numSamples, batchSize } : undefined,
    file,
  };
}

/** `runners`: the caller's metric processes (it closes them); used only when settings name a metric file. */
export async function metricsForEvaluation(runners: MetricRunners, ev: Evaluation, settings: RunSettings): Promise<MetricsOutcome> {
  if (settings.metrics) {
    return metricsFromCache(runners, ev.cacheDir, ev.loop, settings.metrics, { function: settings.function, batchSize: settings.batchSize, profile: settings.evalPredictionProfile });
  }
  const t0 = performance.now();
  const warnings: string[] = [];
  // Trainer calls compute_metrics only when both predictions and labels exist (docs/trainer-semantics.md#when-compute_metrics-is-not-called).
  // seq2seq ROUGE decodes with the model's tokenizer (the loop already loaded it once, so this does not fail here)
  const tokenizer = ev.loop.task === 'seq2seq-lm' && settings.predictWithGenerate ? await loadTokenizer(settings.model) : undefined;
  const raw = ev.evalPred.labelIds
    ? builtinMetrics(ev.evalPred, ev.loop.task, ev.loop.info.id2label, { tokenizer, predictWithGenerate: settings.predictWithGenerate })
    : null;
  if (!raw && ev.evalPred.labelIds) warnings.push(`no built-in metrics for ${ev.loop.task}; pass --metrics FILE to compute your own.`);
  const fin = finalizeMetrics(raw ?? { type: 'mapping', entries: [] }, finalizeOptions(ev.loop, settings.batchSize));
  return { metrics: fin.metrics, json: metricsToJson(fin.metrics), warnings: [...warnings, ...fin.warnings], stdout: '', durationMs: performance.now() - t0 };
}

export async function metricsFromCache(
  runners: MetricRunners,
  cacheDir: string,
  loop: LoopRecord | undefined,
  file: string,
  opts: { function?: string; batchSize?: number; python?: string; timeoutMs?: number; profile?: EvalPredictionProfile } = {},
): Promise<MetricsOutcome> {
  const batchSize = opts.batchSize ?? Number((readCacheManifest(cacheDir).producer as { settings?: { batchSize?: number } })?.settings?.batchSize ?? 8);
  const fin = finalizeOptions(loop, batchSize, file);
  const r = await runners.run(cacheDir, file, {
    function: opts.function,
    python: opts.python,
    timeoutMs: opts.timeoutMs,
    profile: opts.profile,
    prefix: fin.prefix,
    trainerLoss: fin.trainerLoss,
    speed: fin.speed,
  });
  return { metrics: r.metrics, json: metricsToJson(r.metrics), warnings: r.warnings, stdout: r.stdout, durationMs: r.durationMs };
}
