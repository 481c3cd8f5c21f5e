// Pitfall detectors (docs/trainer-semantics.md#pitfalls): warnings about an EvalPrediction, the metric function's source and the
// settings, each with the fix in words. Pure functions over what the cache holds; views and the CLI show them.
import fs from 'node:fs';
import { tensorStats } from '../tensor/stats';
import { EvalPredictionData, Tensor, TensorNode, firstTensor, walkTensors } from '../tensor/tensor';
import type { RunSettings } from '../loop/settings';
import { readGenerationConfig } from '../generate/generationConfig';
import { EvalField, decodeSites } from './minusHundredFlow';

export interface Lint {
  id: string;
  severity: 'warning' | 'info';
  message: string;
  fix: string;
  /** 1-based line in the metric source, when the lint points at one. */
  line?: number;
  /** The issue or pull request that explains it (the pitfalls table in docs/trainer-semantics.md lists every lint). */
  reference?: string;
}

export interface LintInput {
  evalPred: EvalPredictionData;
  numSamples?: number;
  settings?: Partial<RunSettings>;
  /** The metric file's text, when there is one. */
  source?: string;
  task?: string;
  /**
   * The model's generation_config (model.generation_config: decides Seq2SeqTrainer's padding width, docs/trainer-semantics.md#generation-padding
   * step 4); undefined when unknown. Used by the generation lints (generation-width, generation-capped-20) with settings.predictWithGenerate.
   */
  generation?: { maxLength?: number; maxNewTokens?: number | null };
}

/** The model folder's generation_config for LintInput.generation; undefined when the folder is gone or unreadable. */
export function generationForLints(modelDir: string | undefined): LintInput['generation'] {
  // a missing folder would read as GenerationConfig defaults (max_length 20) and claim generation-capped-20 wrongly
  if (!modelDir || !fs.existsSync(modelDir)) return undefined;
  try {
    const gc = readGenerationConfig(modelDir);
    return { maxLength: gc.maxLength, maxNewTokens: gc.maxNewTokens };
  } catch {
    return undefined; // a broken config already failed the run that made the cache; lints stay quiet
  }
}

const LARGE_LOGITS_BYTES = 1024 ** 3;

/** `preds == labels`-style elementwise comparisons of predictions with labels (either order). */
const PRED_NAME = String.raw`(?:preds?|predictions|predicted|pred_ids|predicted_ids|eval_pred\.predictions|p\.predictions)`;
const LABEL_NAME = String.raw`(?:labels?|label_ids|refs|references|targets|eval_pred\.label_ids|p\.label_ids)`;
const ELEMENTWISE_COMPARE = new RegExp(String.raw`\b${PRED_NAME}\s*(?:===?|!==?)\s*${LABEL_NAME}\b|\b${LABEL_NAME}\s*(?:===?|!==?)\s*${PRED_NAME}\b`);
/** The one-token shift of run_clm's compute_metrics: preds[:, :-1] against labels[:, 1:]. */
const SHIFT_SLICE = /\[\s*(?::|\.\.\.)\s*,\s*(?::\s*-1|1\s*:)\s*\]/;

function lineOf(source: string, re: RegExp): number | undefined {
  const lines = source.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  return i >= 0 ? i + 1 : undefined;
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

  // decoding arrays that hold -100 crashes fast tokenizers (OverflowError). Silenced for a value whose -100 the
  // source removes before the decode, whatever the variable is called (minusHundredFlow.ts follows the data).
  const intWithMinus100 = (ts: [string, Tensor][]) => ts.filter(([, t]) => !['float16', 'float32', 'float64'].includes(t.dtype) && tensorStats(t).minus100Count > 0);
  if (decodes) {
    const sites = decodeSites(src);
    for (const [name, t] of [...intWithMinus100(predTensors), ...intWithMinus100(labelTensors), ...intWithMinus100(inputTensors)]) {
      const field = name.split('[')[0] as EvalField;
      // the decodes this value can reach: those traced to its field, and those whose origin the source does not show
      const reaching = sites.filter((d) => d.field === field || d.field === undefined);
      const dirty = reaching.find((d) => !d.clean);
      if (!dirty) continue;
      const v = /^[\w$.]+$/.test(dirty.variable) ? dirty.variable : field;
      out.push({
        id: 'decode-minus-100',
        severity: 'warning',
        message: `${name} (${t.dtype}[${t.shape.join(', ')}]) holds ${tensorStats(t).minus100Count} values of -100 and line ${dirty.line} decodes ${dirty.variable} with them still in; a fast tokenizer raises "OverflowError: out of range integral type conversion attempted" on them.`,
        fix: `Replace -100 by the pad id before decoding: ${v} = np.where(${v} != -100, ${v}, tokenizer.pad_token_id) (see docs/trainer-semantics.md#the-decode-trap).`,
        line: dirty.line,
        reference: field === 'label_ids' ? 'https://github.com/huggingface/transformers/pull/10046' : 'https://github.com/huggingface/transformers/issues/22634',
      });
    }
  }

  // a tuple of predictions handed to argmax.
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

  // full logits accumulated.
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

  // no labels -> compute_metrics is never called.
  if (!ep.labelIds && ep.predictions) {
    out.push({
      id: 'no-labels',
      severity: 'warning',
      message: 'label_ids is None: Trainer would not call compute_metrics at all and would report no eval_loss.',
      fix: 'Make sure the dataset has the label column the model expects ("labels"/"label"), or set label_names in TrainingArguments.',
      reference: 'https://github.com/huggingface/transformers/issues/21553',
    });
  }

  // `preds, labels = eval_pred` with inputs/losses included.
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

  // shape disagreements between predictions and labels.
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
      // Under predict_with_generate this is the normal case (docs/trainer-semantics.md#the-decode-trap); it only hurts a metric that compares elementwise.
      const generated = !!input.settings?.predictWithGenerate;
      const compareLine = lineOf(src, ELEMENTWISE_COMPARE);
      out.push({
        id: 'width-mismatch',
        severity: generated && compareLine ? 'warning' : 'info',
        message: generated
          ? `predictions (generated ids) are ${p0.shape[1]} wide but label_ids ${l0.shape[1]}: under predict_with_generate each is padded to its own widest batch, so position k of a prediction is not position k of its label.`
          : `predictions are ${p0.shape[1]} wide but label_ids ${l0.shape[1]}: elementwise comparison needs the same width.`,
        fix: 'Compare decoded texts, or cut both to the shorter width and mask -100.',
        line: generated ? compareLine : undefined,
        reference: 'https://github.com/huggingface/transformers/issues/30361',
      });
    }
  }

  out.push(...generationLints(input));

  // QA pairs.
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

  // attribute typos.
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
  // rows dropped
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

/** Generation settings and causal-LM metrics: generation-width, generate-includes-prompt, preprocess-under-generate, generation-capped-20, causal-lm-no-shift (docs/trainer-semantics.md#pitfalls). */
function generationLints(input: LintInput): Lint[] {
  const out: Lint[] = [];
  const s = input.settings ?? {};
  const src = input.source ?? '';
  const gen = input.generation;
  const generate = !!s.predictWithGenerate;
  const causal = input.task === 'causal-lm';

  // generate may produce rows wider than the width Seq2SeqTrainer pads each batch to (model.generation_config,
  // not the per-call max_length), so batches differ in width and the concatenation fills -100 into predictions.
  if (generate && gen) {
    const gcMax = gen.maxLength ?? 20;
    const padTarget = Math.max(gcMax, gen.maxNewTokens != null ? gen.maxNewTokens + 1 : 0);
    const cap = s.generationMaxLength ?? (s.maxNewTokens !== undefined ? s.maxNewTokens + 1 : undefined);
    if (cap !== undefined && cap > padTarget) {
      const asked = s.generationMaxLength !== undefined ? `generation_max_length ${s.generationMaxLength}` : `max_new_tokens ${s.maxNewTokens}`;
      out.push({
        id: 'generation-width',
        severity: 'warning',
        message:
          `${asked} lets generate() produce rows up to ${cap} tokens, but Seq2SeqTrainer pads each batch only to model.generation_config.max_length (${gcMax}): ` +
          `batches come out with different widths and the concatenated predictions hold -100 past each batch's width (docs/trainer-semantics.md#the-decode-trap).`,
        fix: 'Replace -100 by the pad id before decoding (np.where(preds != -100, preds, tokenizer.pad_token_id)), or set model.generation_config.max_length to the same value.',
        reference: 'https://github.com/huggingface/transformers/issues/30361',
      });
    }
  }

  // a decoder-only model's generate() returns prompt + continuation.
  if (generate && causal) {
    const handled = /inputs?\.shape\s*\[\s*-?1\s*\]|prompt_len|input_len|prompt_length/.test(src);
    out.push({
      id: 'generate-includes-prompt',
      severity: handled ? 'info' : 'warning',
      message: 'for a decoder-only model generate() returns the prompt followed by the new tokens: each prediction row starts with its (padded) input ids, so decoded predictions repeat the prompt.',
      fix: 'Cut the prompt off before decoding: include inputs (--include-for-metrics inputs) and take predictions[:, inputs.shape[1]:] (with left padding every prompt has that width).',
      reference: 'https://github.com/huggingface/transformers/issues/32095',
    });
  }

  // preprocess_logits_for_metrics under predict_with_generate receives generated ids.
  if (generate) {
    const preLine = lineOf(src, /\b(def\s+preprocess_logits_for_metrics|preprocessLogitsForMetrics)\b/);
    if (preLine || s.preprocess) {
      out.push({
        id: 'preprocess-under-generate',
        severity: 'warning',
        message: `${preLine ? 'preprocess_logits_for_metrics' : `--preprocess ${s.preprocess}`} runs under predict_with_generate, where it receives the generated token ids [batch, tokens] (int64), not logits: an argmax over the last axis returns one position per row.`,
        fix: 'Drop the preprocessor for generate runs (generated ids are already small), or return the ids unchanged when they are not floating point.',
        line: preLine,
        reference: 'https://github.com/huggingface/transformers/issues/23100',
      });
    }
  }

  // nothing sets a length, so GenerationConfig's default max_length 20 applies.
  if (generate && gen && s.generationMaxLength === undefined && s.maxNewTokens === undefined && (gen.maxLength ?? 20) === 20 && gen.maxNewTokens == null) {
    out.push({
      id: 'generation-capped-20',
      severity: 'warning',
      message: 'generation is capped at 20 tokens: neither generation_max_length nor max_new_tokens is set and the model\'s generation_config keeps the default max_length 20, so longer outputs are cut off (and score low).',
      fix: 'Set generation_max_length (--generation-max-length) or max_new_tokens (--max-new-tokens), or max_length in generation_config.json.',
      reference: 'https://github.com/huggingface/transformers/issues/10032',
    });
  }

  // causal-LM accuracy compares position t of the predictions with label t, but logits at t predict token t+1.
  if (causal && !generate) {
    const compareLine = lineOf(src, ELEMENTWISE_COMPARE);
    if (compareLine && !SHIFT_SLICE.test(src)) {
      out.push({
        id: 'causal-lm-no-shift',
        severity: 'warning',
        message: 'a causal LM\'s prediction at position t is for the token at t+1, but the metric compares predictions and labels at the same positions, so accuracy is scored against the current token.',
        fix: 'Shift as run_clm does: labels = labels[:, 1:]; preds = preds[:, :-1] (then mask labels == -100).',
        line: compareLine,
        reference: 'https://github.com/huggingface/transformers/pull/15473',
      });
    }
  }
  return out;
}
