// Dataset rows -> collated model inputs and Trainer's labels for one batch, per task, following the
// transformers examples: run_glue (text or text pair, DataCollatorWithPadding), run_ner (pre-split words,
// label on the first sub-token, -100 elsewhere, DataCollatorForTokenClassification), run_qa (question +
// context, start/end positions from the answer's character offset; one feature per example, no doc stride).
import { Dataset, encodeLabel, getField, renderTemplate, requireField, rowLabel } from '../data';
import { COLUMN_GUESSES } from '../data/columnGuesses';
import { EvalpredError } from '../errors';
import { ModelConfig } from '../model/config';
import { Tensor, TensorNode } from '../tensor/tensor';
import { Encoded, LoadedTokenizer, alignWordLabels, collate, padLabels, qaPositions } from '../text';
import type { TextSettings } from '../textFeatures/featuresKey';
import type { RowFeatures } from '../textFeatures/rowFeatures';
import { ClassifierTaskName, RunSettings, TaskName } from './settings';

export interface PreparedBatch {
  feeds: Record<string, Tensor>;
  /** Trainer's labels for this batch (null when the dataset has no label column). */
  labels: TensorNode | null;
  size: number;
}

/** Which dataset columns feed the model; resolved once, from flags or from common column names. */
export interface ColumnPlan {
  task: TaskName;
  text?: string;
  pair?: string;
  template?: string;
  label?: string;
  /** Why a column was chosen, for the run log. */
  notes: string[];
}

const TEXT_GUESSES = COLUMN_GUESSES.text;
const LABEL_GUESSES = COLUMN_GUESSES.labels;

export function planColumns(ds: Dataset, task: ClassifierTaskName, s: RunSettings): ColumnPlan {
  const has = (c: string | undefined) => c !== undefined && ds.columns.includes(c);
  const notes: string[] = [];
  const need = (flag: string, c: string | undefined) => {
    // requireField names the file, the row and the columns that do exist.
    if (c !== undefined && !has(c.split(/[.[]/)[0])) requireField(ds, 0, c);
    return c;
  };
  let text = need('--text-column', s.textColumn);
  let pair = need('--text-pair-column', s.textPairColumn);
  if (task === 'question-answering') {
    text ??= has('question') ? 'question' : undefined;
    pair ??= has('context') ? 'context' : undefined;
    if (!text || !pair) {
      throw new EvalpredError(
        `${ds.source}: a question-answering model needs a question and a context column; found columns ` +
          `${ds.columns.join(', ')}. Name them with --text-column (question) and --text-pair-column (context).`,
        { file: ds.source },
      );
    }
  } else if (task === 'token-classification') {
    text ??= ['tokens', 'words'].find(has);
    if (!text) {
      throw new EvalpredError(
        `${ds.source}: a token-classification model needs a column holding a list of words per row (such as ` +
          `"tokens"); found columns ${ds.columns.join(', ')}. Name it with --text-column.`,
        { file: ds.source },
      );
    }
  } else if (!s.textTemplate && !text) {
    const guess = TEXT_GUESSES.find(([a]) => has(a));
    if (!guess) {
      throw new EvalpredError(
        `${ds.source}: no text column given and none of the usual names (${TEXT_GUESSES.map(([a]) => a).join(', ')}) ` +
          `is among the columns ${ds.columns.join(', ')}. Pass --text-column (and --text-pair-column) or --text-template.`,
        { file: ds.source },
      );
    }
    text = guess[0];
    if (!pair && guess[1] && has(guess[1])) pair = guess[1];
    notes.push(`text column: ${text}${pair ? `, pair column: ${pair}` : ''} (guessed from the column names)`);
  }
  let label = need('--label-column', s.labelColumn);
  if (!label) {
    label = LABEL_GUESSES[task].find(has);
    if (label) notes.push(`label column: ${label} (guessed)`);
    else {
      notes.push(
        `no label column (looked for ${LABEL_GUESSES[task].join(', ')}): like Trainer, predictions are produced ` +
          `but compute_metrics is not called and there is no eval_loss (docs/trainer-semantics.md#when-compute_metrics-is-not-called). Pass --label-column.`,
      );
    }
  }
  return { task, text, pair, template: s.textTemplate, label, notes };
}

export interface BatchContext {
  ds: Dataset;
  tok: LoadedTokenizer;
  config: ModelConfig;
  plan: ColumnPlan;
  inputNames: readonly string[];
  maxLength: number;
  /** Token classification and QA: the features cache's rows (rowFeatures.ts); none: tokenized per batch. */
  features?: RowFeatures;
}

function asString(v: unknown, ds: Dataset, row: number, column: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new EvalpredError(
    `${ds.source}, row ${row}, column "${column}": expected text, found ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}.`,
    { file: ds.source, row, column },
  );
}

export function prepareBatch(ctx: BatchContext, start: number, end: number): PreparedBatch {
  const { ds, tok, plan, config } = ctx;
  let encs: Encoded[] = [];
  const labelRows: (number | number[])[] = [];
  const qa: [number, number][] = [];
  // Token classification and QA: the encodings from the features cache when it has them (ctx.features), else tokenized here.
  const encodeRows = (encode: (i: number) => Encoded): Encoded[] => {
    if (ctx.features) return ctx.features.encodings('inputs', start, end, encode);
    const out: Encoded[] = [];
    for (let i = start; i < end; i++) out.push(encode(i));
    return out;
  };
  if (plan.task === 'token-classification') {
    encs = encodeRows((i) => tok.encodeWords(wordsOf(ctx, i), { maxLength: ctx.maxLength }));
    if (plan.label) {
      for (let i = start; i < end; i++) {
        const words = wordsOf(ctx, i);
        const tags = encodeLabel(requireField(ds, i, plan.label), { label2id: config.label2id, ds, row: i, column: plan.label });
        if (!Array.isArray(tags) || tags.length !== words.length) {
          throw new EvalpredError(
            `${ds.source}, row ${i}, column "${plan.label}": expected one tag per word (${words.length} words), ` +
              `found ${Array.isArray(tags) ? tags.length + ' tags' : 'a single value'}.`,
            { file: ds.source, row: i, column: plan.label },
          );
        }
        tags.forEach((t, k) => requireClassId(t, ctx, i, `item ${k} of the tag list`));
        labelRows.push(alignWordLabels(encs[i - start], tags));
      }
    }
  } else if (plan.task === 'question-answering') {
    encs = encodeRows((i) => {
      const q = asString(requireField(ds, i, plan.text!), ds, i, plan.text!);
      const c = asString(requireField(ds, i, plan.pair!), ds, i, plan.pair!);
      return tok.encode(q, c, { maxLength: ctx.maxLength, truncation: 'only_second' });
    });
    if (plan.label) {
      for (let i = start; i < end; i++) {
        const answers = requireField(ds, i, plan.label) as { text?: unknown; answer_start?: unknown };
        const texts = answers?.text, starts = answers?.answer_start;
        if (!Array.isArray(texts) || !Array.isArray(starts)) {
          throw new EvalpredError(
            `${ds.source}, row ${i}, column "${plan.label}": expected SQuAD-style answers {"text": [...], "answer_start": [...]}.`,
            { file: ds.source, row: i, column: plan.label },
          );
        }
        // run_qa labels unanswerable rows (no answer) with the CLS position.
        qa.push(texts.length === 0 ? [0, 0] : qaPositions(encs[i - start], Number(starts[0]), String(texts[0])));
      }
    }
  } else {
    for (let i = start; i < end; i++) {
      const [text, pair] = rowText(ctx, i);
      encs.push(tok.encode(text, pair, { maxLength: ctx.maxLength, align: false }));
      if (plan.label) labelRows.push(rowLabelValue(ctx, i));
    }
  }
  const col = collate(encs, { padTokenId: tok.padTokenId, padSide: tok.padSide, names: [...ctx.inputNames], typeIds: tok.returnsTokenTypeIds });
  let labels: TensorNode | null = null;
  if (plan.task === 'token-classification' && plan.label) {
    labels = padLabels(labelRows as number[][], col.width, tok.padSide, -100);
  } else if (plan.task === 'question-answering' && plan.label) {
    labels = { tuple: [Tensor.from('int64', [qa.length], qa.map((p) => p[0])), Tensor.from('int64', [qa.length], qa.map((p) => p[1]))] };
  } else if (plan.label) {
    labels = sequenceLabels(labelRows, ctx, start);
  }
  return { feeds: col.feeds, labels, size: end - start };
}

/** Token classification: row i's pre-split words. */
function wordsOf(ctx: BatchContext, i: number): string[] {
  const { ds, plan } = ctx;
  const words = requireField(ds, i, plan.text!);
  if (!Array.isArray(words) || words.some((w) => typeof w !== 'string')) {
    throw new EvalpredError(`${ds.source}, row ${i}, column "${plan.text}": expected a list of words (strings).`, {
      file: ds.source,
      row: i,
      column: plan.text,
    });
  }
  return words as string[];
}

/**
 * Token classification and QA without a doc stride: how the rows are tokenized, for the features cache key
 * (docs/cache-format.md#tokenized-features). The labels are not cached (they are built per batch from the
 * encodings), so the label column is not in it.
 */
export function encoderTextSettings(ctx: BatchContext): TextSettings {
  const { plan } = ctx;
  if (plan.task === 'question-answering') return { task: plan.task, text: plan.text, pair: plan.pair, maxLength: ctx.maxLength, truncation: 'only_second' };
  return { task: plan.task, text: plan.text, maxLength: ctx.maxLength, truncation: 'longest_first' };
}

/** Sequence classification: the text (from the column or the template) and the pair text of row i, as tokenized. */
export function rowText(ctx: Pick<BatchContext, 'ds' | 'plan'>, i: number): [string, string | undefined] {
  const { ds, plan } = ctx;
  const text = plan.template ? renderTemplate(plan.template, ds, i) : asString(requireField(ds, i, plan.text!), ds, i, plan.text!);
  const pair = plan.pair ? asString(requireField(ds, i, plan.pair), ds, i, plan.pair) : undefined;
  return [text, pair];
}

function rowLabelValue(ctx: BatchContext, i: number): number | number[] {
  const { ds, plan, config } = ctx;
  return encodeLabel(requireField(ds, i, plan.label!), { label2id: config.label2id, ds, row: i, column: plan.label! });
}

/** Sequence classification: Trainer's labels for rows [start, end), or null without a label column. */
export function sequenceLabelsOf(ctx: BatchContext, start: number, end: number): Tensor | null {
  if (!ctx.plan.label) return null;
  const rows: (number | number[])[] = [];
  for (let i = start; i < end; i++) rows.push(rowLabelValue(ctx, i));
  return sequenceLabels(rows, ctx, start);
}

/** default_data_collator: integer labels -> int64, float labels -> float32; multi-hot lists -> float32 [n, C]. */
function sequenceLabels(rows: (number | number[])[], ctx: BatchContext, start: number): Tensor {
  const n = rows.length;
  if (rows.every((r) => Array.isArray(r))) {
    const width = (rows[0] as number[]).length;
    rows.forEach((r, k) => {
      if ((r as number[]).length !== width) {
        throw new EvalpredError(
          `${ctx.ds.source}, row ${start + k}, column "${ctx.plan.label}": multi-label rows must all have ${width} entries, this one has ${(r as number[]).length}.`,
          { file: ctx.ds.source, row: start + k, column: ctx.plan.label },
        );
      }
    });
    return Tensor.from('float32', [n, width], (rows as number[][]).flat());
  }
  if (rows.some((r) => Array.isArray(r))) {
    throw new EvalpredError(`${ctx.ds.source}, column "${ctx.plan.label}": some rows hold a list and others a single label.`, {
      file: ctx.ds.source,
      column: ctx.plan.label,
    });
  }
  const vals = rows as number[];
  if (expectsClassIds(ctx.config)) vals.forEach((v, k) => requireClassId(v, ctx, start + k, 'the label'));
  const regression = ctx.config.problem_type === 'regression' || vals.some((v) => !Number.isInteger(v));
  return Tensor.from(regression ? 'float32' : 'int64', [n], vals);
}

/**
 * Single-label classification (config.json problem_type, or num_labels > 1 without one) takes class ids only:
 * one 1.5 would make the whole batch float32 and Trainer's loss and metrics vanish without a word.
 */
function expectsClassIds(config: ModelConfig): boolean {
  if (config.problem_type) return config.problem_type === 'single_label_classification';
  return config.configFile !== null && (config.num_labels ?? 0) > 1;
}

/** A class id is a whole number (or -100, ignored); anything else is an error naming the row and value. */
function requireClassId(v: number, ctx: BatchContext, row: number, what: string): void {
  if (Number.isInteger(v)) return;
  const { ds, plan, config } = ctx;
  throw new EvalpredError(
    `${ds.source}, ${rowLabel(ds, row)}, label column "${plan.label}": ${what} is ${v}, not a class id (a whole number). ` +
      `The model classifies${config.configFile ? ` into ${config.num_labels} labels (${config.configFile})` : ''}, so Trainer would turn the labels into floats and ` +
      `its loss and metrics would fail. Fix the row; for a regression dataset set "problem_type": "regression" and "num_labels": 1 in config.json.`,
    { file: ds.source, row, column: plan.label },
  );
}

export { getField };

/**
 * How many eval batches Trainer's dataloader yields: ceil(N / B), or floor(N / B) with dataloader_drop_last
 * (get_eval_dataloader passes drop_last to the DataLoader, so the last incomplete batch is dropped in
 * evaluation too). Trainer's num_samples stays len(eval_dataset) either way (evaluation_loop); when every
 * row would be dropped Trainer silently reports no metrics, so this is an error naming the fix instead.
 */
export function evalBatchCount(numRows: number, batchSize: number, dropLast: boolean | undefined): number {
  if (!dropLast) return Math.ceil(numRows / batchSize);
  const n = Math.floor(numRows / batchSize);
  if (n === 0 && numRows > 0) {
    throw new EvalpredError(
      `dataloader_drop_last with ${numRows} rows and batch size ${batchSize}: the only batch is incomplete and is dropped, so Trainer ` +
        `would evaluate no rows (no predictions, no compute_metrics call, no eval_loss). Use a batch size of at most ${numRows}, or turn off --dataloader-drop-last.`,
      { column: 'dataloaderDropLast' },
    );
  }
  return n;
}
