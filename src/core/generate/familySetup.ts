// What the two generative families (seq2seqFamily.ts, causalLmFamily.ts) share before and around their model:
//   the settings and loaded inputs they get from the loop driver (src/core/loop/driver.ts), the text and target
//   columns, prompt encoding, generation_config.json with the CLI's overrides, and Trainer's padding of
//   generated ids. These types mirror the loop's FamilyContext structurally: generate/ never imports loop/.
import { Dataset, renderTemplate, requireField } from '../data';
import { COLUMN_GUESSES } from '../data/columnGuesses';
import { EvalpredError } from '../errors';
import type { ModelConfig } from '../model/config';
import type { GenerativeTask } from '../model/heads';
import { Tensor, TensorNode } from '../tensor/tensor';
import type { Device } from '../model/session';
import { LoadedTokenizer, collate, padLabels } from '../text';
import type { FeaturesCacheTarget } from '../textFeatures/featuresKey';
import { RowFeatures } from '../textFeatures/rowFeatures';
import { GenerateArgs, GenerationConfig, checkGenerationOptions, effectiveConfig, readGenerationConfig } from './generationConfig';

/** The run settings a generative family reads (a subset of the loop's RunSettings). */
export interface GenerativeSettings {
  model: string;
  batchSize: number;
  textColumn?: string;
  textTemplate?: string;
  labelColumn?: string;
  maxTargetLength?: number;
  predictWithGenerate?: boolean;
  generationMaxLength?: number;
  maxNewTokens?: number;
  numBeams?: number;
  numReturnSequences?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  badWordsIds?: number[][];
  labelSmoothingFactor?: number;
  /** Which Trainer's causal-LM loss divisor to imitate (causalLossCountsAllLabels in model/heads/causalLm.ts). */
  evalPredictionProfile?: string;
  device?: Device;
}

/** What the loop driver loaded before the family opens its model (the loop's FamilyContext). */
export interface GenerativeContext {
  config: ModelConfig;
  tok: LoadedTokenizer;
  ds: Dataset;
  /** The dataset rows the run covers (--max-samples applied). */
  numRows: number;
  maxLength: number;
  /** Predictions are reduced per batch (built-in argmax or the metric file's preprocess). */
  reduced: boolean;
  notes: string[];
  log(line: string): void;
  /** Where tokenized features are cached (the loop's LoopHooks.featuresCache), asked at the first batch. */
  featuresCache?(): FeaturesCacheTarget | undefined;
}

/** One batch of prompts (and targets for seq2seq) as the forward step gets it. */
export interface PromptBatch {
  size: number;
  inputIds: Tensor;
  attentionMask: Tensor;
  /** Seq2seq targets tokenized and padded with -100 (DataCollatorForSeq2Seq), or null without a target column. */
  labels: Tensor | null;
}

const SOURCE_GUESSES = COLUMN_GUESSES.seq2seqSource;
const TARGET_GUESSES = COLUMN_GUESSES.seq2seqTarget;

export interface TextColumns {
  text?: string;
  template?: string;
  label?: string;
}

/** Right-pad [n, w] int64 to `width` with `value` (Seq2SeqTrainer._pad_tensors_to_max_len). */
export function padToWidth(t: Tensor, width: number, value: number): Tensor {
  const [n, w] = t.shape;
  if (w >= width) return t;
  const out = Tensor.full('int64', [n, width], value);
  const s = t.data as BigInt64Array, d = out.data as BigInt64Array;
  for (let r = 0; r < n; r++) d.set(s.subarray(r * w, (r + 1) * w), r * width);
  return out;
}

function planText(ds: Dataset, s: GenerativeSettings, task: GenerativeTask, notes: string[]): TextColumns {
  const has = (c?: string) => c !== undefined && ds.columns.includes(c.split(/[.[]/)[0]);
  if (s.textColumn && !has(s.textColumn)) requireField(ds, 0, s.textColumn);
  if (s.labelColumn && !has(s.labelColumn)) requireField(ds, 0, s.labelColumn);
  let text = s.textColumn;
  if (!text && !s.textTemplate) {
    text = (task === 'causal-lm' ? COLUMN_GUESSES.causalText : SOURCE_GUESSES).find((c) => has(c));
    if (!text) {
      throw new EvalpredError(
        `${ds.source}: no text column given and none of the usual names is among the columns ${ds.columns.join(', ')}. ` +
          `Pass --text-column or --text-template (e.g. 'question: {question} context: {context}').`,
        { file: ds.source },
      );
    }
    notes.push(`text column: ${text} (guessed from the column names)`);
  }
  let label: string | undefined;
  if (task === 'seq2seq-lm') {
    label = s.labelColumn ?? TARGET_GUESSES.find((c) => has(c));
    if (!s.labelColumn && label) notes.push(`target column: ${label} (guessed)`);
    if (!label) notes.push(`no target column (looked for ${TARGET_GUESSES.join(', ')}): no labels, no eval_loss, compute_metrics is not called. Pass --label-column.`);
  }
  return { text, template: s.textTemplate, label };
}

export function asText(v: unknown, ds: Dataset, row: number, column: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new EvalpredError(`${ds.source}, row ${row}, column "${column}": expected text, found ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}.`, {
    file: ds.source,
    row,
    column,
  });
}

/** The decisions both generative families make before opening their model, and their shared batch step. */
export class GenerativeSetup {
  readonly columns: TextColumns;
  readonly generate: boolean;
  readonly maxTarget: number;
  readonly gcModel: GenerationConfig;
  readonly genArgs: GenerateArgs;
  /** The prompts' and (seq2seq) targets' encodings, cached between runs (docs/cache-format.md#tokenized-features). */
  private readonly features: RowFeatures;

  constructor(
    readonly settings: GenerativeSettings,
    readonly task: GenerativeTask,
    readonly ctx: GenerativeContext,
  ) {
    const { tok, ds, notes } = ctx;
    notes.push(...tok.notes);
    this.columns = planText(ds, settings, task, notes);
    this.maxTarget = settings.maxTargetLength ?? ctx.maxLength;
    this.generate = !!settings.predictWithGenerate;
    if (this.generate && task === 'causal-lm') {
      notes.push(
        'decoder-only generate(): each prediction row starts with its prompt (padding included), then the new tokens (see docs/trainer-semantics.md#generation-padding; lint generate-includes-prompt); ' +
          'labels are the prompt ids with pad -> -100 (DataCollatorForLanguageModeling), padded like the predictions.',
      );
      if (tok.padSide === 'right') notes.push('the tokenizer pads on the right: transformers warns that decoder-only generation wants padding_side="left"; rows are generated as given.');
    }
    if (this.generate && ctx.reduced) {
      notes.push('with --predict-with-generate the preprocessor receives generated token ids, not logits (see docs/trainer-semantics.md#generation; lint preprocess-under-generate).');
    }
    // transformers 4.57's bad-words matching needs one more token of context than 5.x's (generationConfig.ts)
    this.gcModel = { ...readGenerationConfig(settings.model), badWordsNeedLongerContext: settings.evalPredictionProfile === 'v4.57' };
    this.genArgs = {
      maxLength: settings.generationMaxLength,
      maxNewTokens: settings.maxNewTokens,
      numBeams: settings.numBeams,
      numReturnSequences: settings.numReturnSequences,
      repetitionPenalty: settings.repetitionPenalty,
      noRepeatNgramSize: settings.noRepeatNgramSize,
      badWordsIds: settings.badWordsIds,
    };
    const targets = task === 'seq2seq-lm' && this.columns.label !== undefined;
    const { text, template, label } = this.columns;
    this.features = new RowFeatures({
      cache: ctx.featuresCache,
      // the target column and its max length only when targets are tokenized (seq2seq with a target column)
      text: { task, text: template ? undefined : text, template, maxLength: ctx.maxLength, truncation: 'longest_first', ...(targets ? { target: label, maxTargetLength: this.maxTarget } : {}) },
      numRows: ctx.numRows,
      tables: targets ? ['inputs', 'targets'] : ['inputs'],
      aligned: false,
      log: ctx.log,
    });
  }

  /** After the model opened (its notes first): the generation settings, said once in the notes and the log. */
  announceGeneration(): GenerationConfig {
    const { gcModel, settings, ctx } = this;
    // decoder-only: max_new_tokens counts from each batch's prompt width, so that config is made per batch
    const gc = effectiveConfig(gcModel, this.genArgs, 1, ctx.config.max_position_embeddings);
    if (this.generate) checkGenerationOptions(gc, this.genArgs);
    if (this.generate && gcModel.unsupported.length) {
      ctx.notes.push(`${gcModel.source} sets ${gcModel.unsupported.join(', ')}, which evalpred does not apply: generated ids may differ from transformers'.`);
    }
    if (this.generate) {
      const options = [
        gc.numReturnSequences > 1 ? `${gc.numReturnSequences} sequences per input` : '',
        gc.repetitionPenalty !== 1 ? `repetition_penalty ${gc.repetitionPenalty}` : '',
        gc.noRepeatNgramSize > 0 ? `no_repeat_ngram_size ${gc.noRepeatNgramSize}` : '',
        gc.badWordsIds ? `${gc.badWordsIds.length} bad words` : '',
      ].filter(Boolean);
      ctx.log(
        `generating with ${gc.numBeams > 1 ? `beam search (${gc.numBeams} beams)` : 'greedy search'}${options.map((o) => `, ${o}`).join('')}, ${gc.maxNewTokens !== null ? `${gc.maxNewTokens} new tokens at most` : `max length ${gc.maxLength}`} (model generation_config max_length ${gcModel.maxLength})`,
      );
      if (settings.generationMaxLength === undefined && settings.maxNewTokens === undefined && gcModel.maxNewTokens === null && gcModel.maxLength === 20) {
        ctx.notes.push('generation is capped at max_length 20 (the GenerationConfig default): pass --generation-max-length or --max-new-tokens (see docs/trainer-semantics.md#pitfalls, generation-capped-20).');
      }
    }
    return gc;
  }

  /** LoopInfo's numReturnSequences when generate() returns several rows per input. */
  returnsPerSample(): { numReturnSequences?: number } {
    if (!this.generate) return {};
    const n = effectiveConfig(this.gcModel, this.genArgs, 1).numReturnSequences;
    return n > 1 ? { numReturnSequences: n } : {};
  }

  /** Rows [start, end): prompts encoded and collated; seq2seq targets tokenized to --max-target-length. */
  batch(start: number, end: number, withTargets: boolean): PromptBatch {
    const { tok, ds, maxLength } = this.ctx;
    const cols = this.columns;
    const encs = this.features.encodings('inputs', start, end, (i) => {
      const text = cols.template ? renderTemplate(cols.template, ds, i) : asText(requireField(ds, i, cols.text!), ds, i, cols.text!);
      return tok.encode(text, undefined, { maxLength, align: false });
    });
    const col = collate(encs, { padTokenId: tok.padTokenId, padSide: tok.padSide, names: ['input_ids', 'attention_mask'] });
    let labels: Tensor | null = null;
    if (withTargets && cols.label) {
      const label = cols.label;
      const rows = this.features
        .encodings('targets', start, end, (i) => tok.encode(asText(requireField(ds, i, label), ds, i, label), undefined, { maxLength: this.maxTarget, align: false }))
        .map((e) => e.ids);
      labels = padLabels(rows, Math.max(...rows.map((r) => r.length)), tok.padSide, -100);
    }
    return { size: end - start, inputIds: col.feeds.input_ids, attentionMask: col.feeds.attention_mask, labels };
  }

  /** Stores a miss's features once every row was tokenized (RowFeatures.close). */
  close(): void {
    this.features.close();
  }

  /** The loop's column plan for views and decoding. */
  columnPlan() {
    return { task: this.task, text: this.columns.text, template: this.columns.template, label: this.columns.label, notes: [] as string[] };
  }
}

/** A row width of a [n, w] tensor node, or null for anything else. */
function widthOf(node: TensorNode | null): number | null {
  return node instanceof Tensor && node.ndim === 2 ? node.shape[1] : null;
}

/** With generated ids, predictions and label_ids may differ in width: said once, for the metric author. */
export function generatedWidthNote(generate: boolean, predictions: TensorNode | null, labelIds: TensorNode | null): string[] {
  const pw = widthOf(predictions), lw = widthOf(labelIds);
  if (!generate || pw === null || lw === null || pw === lw) return [];
  return [
    `predictions are ${pw} tokens wide and label_ids ${lw}: compare them row by row after decoding, not element-wise ` +
      `(see docs/trainer-semantics.md#the-decode-trap; lint generation-width); both hold -100 where a batch was narrower than the widest.`,
  ];
}
