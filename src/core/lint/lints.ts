// Pitfall detectors (spec §12): warnings about an EvalPrediction, the metric function's source and the
// settings, each with the fix in words. Pure functions over what the cache holds; views and the CLI show them.
import { tensorStats } from '../tensor/stats';
import { EvalPredictionData, Tensor, TensorNode, walkTensors } from '../tensor/tensor';
import type { RunSettings } from '../loop/settings';

export interface Lint {
  id: string;
  severity: 'warning' | 'info';
  message: string;
  fix: string;
  /** 1-based line in the metric source, when the lint points at one. */
  line?: number;
  /** spec §12 row, or the issue that explains it. */
  reference?: string;
}

export interface LintInput {
  evalPred: EvalPredictionData;
  numSamples?: number;
  settings?: Partial<RunSettings>;
  /** The metric file's text, when there is one. */
  source?: string;
  task?: string;
}

const LARGE_LOGITS_BYTES = 1024 ** 3;

function lineOf(source: string, re: RegExp): number | undefined {
  const lines = source.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  return i >= 0 ? i + 1 : undefined;
}

function firstTensor(n: TensorNode | null): Tensor | undefined {
  if (!n) return undefined;
  if (n instanceof Tensor) return n;
  const items = 'tuple' in n ? n.tuple : n.list;
  return items.length ? firstTensor(items[0]) : undefined;
}

function rows(n: TensorNode | null): number | undefined {
  const t = n instanceof Tensor ? n : undefined;
  return t && t.ndim > 0 ? t.shape[0] : undefined;
}

export function lintEvalPrediction(input: LintInput): Lint[] {
  const out: Lint[] = [];
  const { evalPred: ep, source } = input;
  const src = source ?? '';
  const decodes = /\b(batch_)?decode\s*\(/.test(src);
  const preds = ep.predictions;
  const predTensors = preds ? [...walkTensors(preds, 'predictions')] : [];
  const labelTensors = ep.labelIds ? [...walkTensors(ep.labelIds, 'label_ids')] : [];
  const inputTensors = ep.inputs ? [...walkTensors(ep.inputs, 'inputs')] : [];

  // #1 / #2 / inputs: decoding arrays that hold -100 crashes fast tokenizers (OverflowError).
  const intWithMinus100 = (ts: [string, Tensor][]) => ts.filter(([, t]) => !['float16', 'float32', 'float64'].includes(t.dtype) && tensorStats(t).minus100Count > 0);
  if (decodes) {
    for (const [name, t] of [...intWithMinus100(predTensors), ...intWithMinus100(labelTensors), ...intWithMinus100(inputTensors)]) {
      const field = name.split('[')[0];
      const needsFix = !/(np\.where|\.where\(|replace|-100)/.test(src); // the source already handles -100
      out.push({
        id: 'decode-minus-100',
        severity: needsFix ? 'warning' : 'info',
        message: `${name} (${t.dtype}[${t.shape.join(', ')}]) holds ${tensorStats(t).minus100Count} values of -100 and the metric decodes token ids; a fast tokenizer raises "OverflowError: out of range integral type conversion attempted" on them.`,
        fix: `Replace -100 by the pad id before decoding: ${field} = np.where(${field} != -100, ${field}, tokenizer.pad_token_id).`,
        line: lineOf(src, /\b(batch_)?decode\s*\(/),
        reference: field === 'label_ids' ? 'https://github.com/huggingface/transformers/pull/10046' : 'https://github.com/huggingface/transformers/issues/22634',
      });
    }
  }

  // #3: a tuple of predictions handed to argmax.
  if (preds && !(preds instanceof Tensor) && 'tuple' in preds) {
    const argmaxLine = lineOf(src, /argmax\s*\(\s*(preds|predictions|logits|eval_pred\.predictions)\b/);
    out.push({
      id: 'tuple-predictions',
      severity: argmaxLine ? 'warning' : 'info',
      message: `predictions is a tuple of ${preds.tuple.length} arrays (${preds.tuple.map((n) => (n instanceof Tensor ? n.toString() : 'nested')).join(', ')}), not one array.`,
      fix: 'Take the logits first: logits = eval_pred.predictions[0] (or logits, *_ = eval_pred.predictions).',
      line: argmaxLine,
      reference: 'https://github.com/huggingface/transformers/issues/7247',
    });
  }

  // #4: full logits accumulated.
  const bytes = predTensors.reduce((a, [, t]) => a + t.size * (t.dtype === 'float64' || t.dtype === 'int64' ? 8 : t.dtype === 'float16' ? 2 : 4), 0);
  const big = predTensors.find(([, t]) => t.ndim === 3 && ['float16', 'float32', 'float64'].includes(t.dtype));
  if (big && bytes > LARGE_LOGITS_BYTES) {
    out.push({
      id: 'large-logits',
      severity: 'warning',
      message: `predictions take ${(bytes / 1024 ** 3).toFixed(1)} GiB: Trainer accumulates the full logits on the accelerator and the host.`,
      fix: 'Reduce them per batch with preprocess_logits_for_metrics (e.g. return logits.argmax(-1)), or --preprocess argmax here.',
      reference: 'https://github.com/huggingface/transformers/issues/8476',
    });
  }

  // #6: no labels -> compute_metrics is never called.
  if (!ep.labelIds && ep.predictions) {
    out.push({
      id: 'no-labels',
      severity: 'warning',
      message: 'label_ids is None: Trainer would not call compute_metrics at all and would report no eval_loss.',
      fix: 'Make sure the dataset has the label column the model expects ("labels"/"label"), or set label_names in TrainingArguments.',
      reference: 'https://github.com/huggingface/transformers/issues/21553',
    });
  }

  // #10: `preds, labels = eval_pred` with inputs/losses included.
  const unpackLine = lineOf(src, /^\s*\(?\s*\w+\s*,\s*\w+\s*\)?\s*=\s*eval_pred\s*(#.*)?$/);
  if (unpackLine && (ep.inputs || ep.losses)) {
    out.push({
      id: 'two-way-unpack',
      severity: 'warning',
      message: `"x, y = eval_pred" raises "ValueError: too many values to unpack (expected 2)" because ${[ep.inputs ? 'inputs' : '', ep.losses ? 'losses' : ''].filter(Boolean).join(' and ')} are included.`,
      fix: 'Use the attributes (eval_pred.predictions, eval_pred.label_ids) or "preds, labels, *_ = eval_pred".',
      line: unpackLine,
      reference: 'https://github.com/huggingface/transformers/pull/16461',
    });
  }

  // #13 / #17: shape disagreements between predictions and labels.
  const p0 = firstTensor(preds);
  const l0 = firstTensor(ep.labelIds);
  if (p0 && l0 && preds instanceof Tensor && ep.labelIds instanceof Tensor) {
    if (rows(preds) !== rows(ep.labelIds)) {
      out.push({
        id: 'row-mismatch',
        severity: 'warning',
        message: `predictions has ${rows(preds)} rows but label_ids has ${rows(ep.labelIds)}.`,
        fix: 'Check num_return_sequences, dataloader_drop_last, or batches without labels.',
        reference: 'https://github.com/huggingface/transformers/issues/25231',
      });
    } else if (p0.dtype === 'int64' && l0.dtype === 'int64' && p0.ndim === 2 && l0.ndim === 2 && p0.shape[1] !== l0.shape[1]) {
      out.push({
        id: 'width-mismatch',
        severity: 'info',
        message: `predictions are ${p0.shape[1]} wide but label_ids ${l0.shape[1]}: elementwise comparison needs the same width.`,
        fix: 'Compare decoded texts, or cut both to the shorter width and mask -100.',
        reference: 'https://github.com/huggingface/transformers/issues/30361',
      });
    }
  }

  // #20: QA pairs.
  if (ep.labelIds && !(ep.labelIds instanceof Tensor) && 'tuple' in ep.labelIds) {
    out.push({
      id: 'tuple-labels',
      severity: 'info',
      message: `label_ids is a tuple of ${ep.labelIds.tuple.length} arrays (one per label name, e.g. start_positions and end_positions).`,
      fix: 'Unpack it: start_labels, end_labels = eval_pred.label_ids.',
      reference: 'https://github.com/huggingface/transformers/issues/8390',
    });
  }

  // Float predictions: -100.0 padding, NaN/Inf, logits mistaken for probabilities.
  for (const [name, t] of predTensors) {
    if (!['float16', 'float32', 'float64'].includes(t.dtype)) continue;
    const s = tensorStats(t);
    if (s.nanCount || s.posInfCount || s.negInfCount) {
      out.push({
        id: 'non-finite',
        severity: 'warning',
        message: `${name} holds ${s.nanCount} NaN and ${s.posInfCount + s.negInfCount} infinite values.`,
        fix: 'Check the model export (fp16 overflow) and mask them before averaging.',
      });
    }
    if (s.minus100Count > 0 && t.ndim >= 3) {
      out.push({
        id: 'padded-float-predictions',
        severity: 'info',
        message: `${name} has ${s.minus100Count} values of exactly -100.0: positions padded across batches. Softmax or argmax over them is meaningless.`,
        fix: 'Mask positions where label_ids == -100 before computing metrics.',
      });
    }
    const probLine = lineOf(src, /(>=?\s*0\.5\b|roc_auc|log_loss|brier)/);
    if (probLine && s.min !== null && s.max !== null && (s.min < 0 || s.max > 1)) {
      out.push({
        id: 'logits-not-probabilities',
        severity: 'warning',
        message: `${name} ranges from ${s.min.toPrecision(3)} to ${s.max.toPrecision(3)}: these are raw logits, not probabilities.`,
        fix: 'Apply softmax (or sigmoid for multi-label) before thresholds or probability metrics.',
        line: probLine,
        reference: 'https://github.com/huggingface/transformers/issues/10960',
      });
    }
  }

  // All predictions one class.
  if (p0 && p0.ndim === 2 && ['float16', 'float32', 'float64'].includes(p0.dtype) && p0.shape[0] > 1 && p0.shape[1] > 1 && input.task !== 'question-answering') {
    const ids = p0.argmax(-1);
    const first = ids.at(0);
    let same = true;
    for (let i = 1; i < ids.size && same; i++) same = ids.at(i) === first;
    if (same) {
      out.push({ id: 'one-class', severity: 'warning', message: `every prediction is class ${first}.`, fix: 'Check the label mapping (id2label) and the input columns: a model that sees empty or wrong text often predicts one class.' });
    }
  }

  // #23: attribute typos.
  const typo = src.match(/eval_pred\.(prediction|labels|label|label_id|input|loss)\b/);
  if (typo) {
    const right: Record<string, string> = { prediction: 'predictions', labels: 'label_ids', label: 'label_ids', label_id: 'label_ids', input: 'inputs', loss: 'losses' };
    out.push({
      id: 'attribute-typo',
      severity: 'warning',
      message: `eval_pred.${typo[1]} does not exist on EvalPrediction (AttributeError).`,
      fix: `Use eval_pred.${right[typo[1]]}.`,
      line: lineOf(src, new RegExp(`eval_pred\\.${typo[1]}\\b`)),
      reference: 'https://github.com/huggingface/transformers/issues/24034',
    });
  }

  // losses are repeated batch means
  if (ep.losses && /\blosses\b/.test(src)) {
    out.push({
      id: 'losses-are-batch-means',
      severity: 'info',
      message: 'eval_pred.losses holds each batch\'s mean loss repeated once per example, not per-example losses.',
      fix: 'Use it for averages only (e.g. perplexity = exp(mean)).',
    });
  }
  // #22: rows dropped
  const n = rows(ep.predictions);
  if (input.numSamples !== undefined && n !== undefined && n < input.numSamples) {
    out.push({
      id: 'rows-dropped',
      severity: 'warning',
      message: `predictions has ${n} rows but the dataset has ${input.numSamples} samples.`,
      fix: 'dataloader_drop_last=True drops the last partial eval batch too; turn it off for evaluation.',
      reference: 'https://github.com/huggingface/transformers/issues/18021',
    });
  }
  return out;
}
