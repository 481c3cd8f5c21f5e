// Questions about a paused evaluation, answered from the cached EvalPrediction: one sample (its decoded
// text, prediction and label, and each field's row), what the run is (cache, settings, timings), and the
// pitfall checks. Plain values; src/debug/session.ts turns them into DAP variables.
import type { Evaluation } from '../evaluate';
import { SampleView, sampleViews } from '../inspect/describe';
import { generationForLints } from '../lint/generationInput';
import { Lint, lintPass } from '../lint/lints';
import type { RunSettings } from '../loop/settings';
import type { MetricsOutcome } from '../metrics/forEvaluation';
import type { Gen } from '../tensor/blocks';
import { EvalPredictionData, Tensor, TensorNode } from '../tensor/tensor';
import type { LoadedTokenizer } from '../text';

export interface SampleRow {
  /** e.g. "predictions[0][3]": also the expression that gives it. */
  name: string;
  value: Tensor;
}

export interface RuntimeSample {
  /** The sample shown: the asked index, kept within the evaluation set. */
  index: number;
  /** Decoded input, prediction and label (undefined when the predictions have no per-sample row). */
  view?: SampleView;
  /** Each field's row of this sample; a tuple shows each member's row. */
  rows: SampleRow[];
}

function firstRows(node: TensorNode | null): number {
  if (!node) return 0;
  if (node instanceof Tensor) return node.ndim ? node.shape[0] : 0;
  const items = 'tuple' in node ? node.tuple : node.list;
  return items.length ? firstRows(items[0]) : 0;
}

export function sampleAt(ev: Evaluation, index: number, tokenizer: LoadedTokenizer | undefined): RuntimeSample {
  const ep = ev.evalPred;
  // num_return_sequences: each sample owns a block of `per` prediction rows (docs/trainer-semantics.md#generation-options)
  const per = ev.loop?.info?.numReturnSequences ?? 1;
  const n = Math.floor(firstRows(ep.predictions) / per);
  const i = Math.min(index, Math.max(0, n - 1));
  const slice = (node: TensorNode | null, k = 1): TensorNode | null => (node instanceof Tensor && node.ndim > 0 ? node.rows(i * k, (i + 1) * k) : null);
  // For a tuple of outputs the first member is the logits, as compute_metrics code usually assumes.
  const first = (node: TensorNode | null): TensorNode | null => (node && !(node instanceof Tensor) && 'tuple' in node ? node.tuple[0] ?? null : node);
  const one: EvalPredictionData = { predictions: slice(first(ep.predictions), per), labelIds: slice(ep.labelIds), inputs: slice(ep.inputs), losses: slice(ep.losses) };
  const view = one.predictions ? sampleViews(one, 1, { tokenizer, id2label: ev.loop?.info?.id2label, task: ev.loop?.task, numReturnSequences: per })[0] : undefined;
  const rows: SampleRow[] = [];
  const fields: [string, TensorNode | null][] = [['predictions', ep.predictions], ['label_ids', ep.labelIds], ['inputs', ep.inputs], ['losses', ep.losses]];
  // A tuple (extra model outputs, QA start/end labels) shows each member's row: predictions[0][i], predictions[1][i]…
  // A list (eval_do_concat_batches=False) holds per-batch arrays, so it has no per-sample row.
  const rowsOf = (name: string, node: TensorNode | null): void => {
    if (node instanceof Tensor) {
      const k = name === 'predictions' ? per : 1;
      if (k > 1 && node.ndim > 0 && (i + 1) * k <= node.shape[0]) {
        for (let j = i * k; j < (i + 1) * k; j++) rows.push({ name: `${name}[${j}]`, value: node.row(j) });
      } else if (node.ndim > 0 && i < node.shape[0]) rows.push({ name: `${name}[${i}]`, value: node.ndim === 1 ? node.rows(i, i + 1).reshape([]) : node.row(i) });
    } else if (node && 'tuple' in node) node.tuple.forEach((member, j) => rowsOf(`${name}[${j}]`, member));
  };
  for (const [name, node] of fields) rowsOf(name, node);
  return { index: i, view, rows };
}

export interface RuntimeRunInfo {
  cacheDir: string;
  cacheKey: string;
  fromCache: boolean;
  numSamples: number;
  /** The launch's run settings (what the loop ran with). */
  settings: RunSettings;
  /** The loop's task; undefined for a cache without a loop record. */
  task?: string;
  /** From the loop record, when the cache has one. */
  timings?: { runtimeSeconds: number; numSteps: number; evalLoss: number | null; task: string; lastMetricsMs: number | null };
  notes?: string[];
  /** The last metric run's result in this session. */
  lastMetrics?: MetricsOutcome;
}

export function runInfoOf(ev: Evaluation, settings: RunSettings, lastMetrics: MetricsOutcome | undefined): RuntimeRunInfo {
  const info: RuntimeRunInfo = {
    cacheDir: ev.cacheDir,
    cacheKey: ev.manifest.key,
    fromCache: ev.fromCache,
    numSamples: ev.manifest.num_samples,
    settings,
    task: ev.loop?.task,
    lastMetrics,
  };
  if (ev.loop) {
    info.timings = { runtimeSeconds: ev.loop.runtimeSeconds, numSteps: ev.loop.numSteps, evalLoss: ev.loop.evalLoss, task: ev.loop.task, lastMetricsMs: lastMetrics?.durationMs ?? null };
    info.notes = ev.loop.notes;
  }
  return info;
}

/**
 * The pitfall checks over the EvalPrediction, the settings and the metric source (undefined: no file or unreadable),
 * as a pass in slices (lintPass: its statistics read whole arrays, maybe file-backed gigabytes).
 */
export function lintsOf(ev: Evaluation, settings: RunSettings, source: string | undefined): Gen<Lint[]> {
  const generation = settings.predictWithGenerate ? generationForLints(settings.model) : undefined;
  return lintPass({ evalPred: ev.evalPred, numSamples: ev.manifest.num_samples, settings, source, task: ev.loop?.task, generation });
}
