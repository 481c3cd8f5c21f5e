// Extractive QA with a doc stride, as transformers' run_qa.py evaluates it (docs/trainer-semantics.md#question-answering-with-doc-stride):
// prepare_validation_features cuts every context into overflowing windows of max length tokens (`stride` tokens
// shared between neighbours), the loop runs over those features (Trainer's num_samples is their count), and the
// post-processing (src/core/metrics/qaPostprocess.ts) maps the start/end logits back to one answer per example.
import { Dataset, getField, requireField } from '../data';
import { EvalpredError } from '../errors';
import { runQaPositions } from '../text';
import type { Encoded, LoadedTokenizer } from '../text';
import type { FeatureSet } from '../textFeatures/featuresFile';
import type { TextSettings } from '../textFeatures/featuresKey';
import { FeaturesLookup, wholeFeatures } from '../textFeatures/rowFeatures';
import { FeatureChunk, encodedAt, packEncodings } from '../textFeatures/tokenFeatures';
import type { ColumnPlan } from './batches';

/** run_qa's post-processing arguments (DataTrainingArguments), with its defaults. */
export interface QaPostprocessOptions {
  /** SQuAD v2: a null answer ("") is possible, chosen by nullScoreDiffThreshold. */
  version2WithNegative: boolean;
  nBestSize: number;
  maxAnswerLength: number;
  nullScoreDiffThreshold: number;
}

export const QA_POSTPROCESS_DEFAULTS: QaPostprocessOptions = { version2WithNegative: false, nBestSize: 20, maxAnswerLength: 30, nullScoreDiffThreshold: 0 };

export interface QaExample {
  id: string;
  context: string;
  /** The dataset's answers value, passed through to the references unchanged (null without an answers column). */
  answers: unknown;
}

export interface QaFeature {
  /** The id of the example this window was cut from. */
  exampleId: string;
  /** offset_mapping with None (null) outside the context, as prepare_validation_features leaves it. */
  offsets: ([number, number] | null)[];
}

/** What the post-processing needs beside the logits; stored in the cache (docs/cache-format.md#attachments). */
export interface QaRecord {
  examples: QaExample[];
  features: QaFeature[];
  options: QaPostprocessOptions;
}

export interface QaValidationFeatures extends QaRecord {
  /** Every feature's tokens, in order (each example's windows one after the other), as the features cache holds
   *  them: the loop pads each batch straight from them (collateChunk), with no per-window objects. */
  windows: FeatureChunk;
  /** Each feature's (start_positions, end_positions) when asked for (label_names): prepare_train_features' labels. */
  positions?: [number, number][];
}

/**
 * run_qa's prepare_train_features labels of one feature, transcribed line by line: the CLS index (else BOS, else 0)
 * when there is no answer or the answer is not wholly inside this window, else the tokens holding the answer's first
 * and last characters. `offsets` and `sequenceIds` are the feature's as the tokenizer returns them with
 * padding="max_length" when `padTo` is given (pads have offset (0, 0) and no sequence id), which matters in run_qa's
 * own edge case: an answer that starts in the window's last context token runs the start scan on through [SEP] and
 * the padding, so the start becomes the last position (test/trainer/cases.py, case qa-doc-stride, checks it against
 * the real script's code).
 */
export function trainFeaturePositions(
  enc: Encoded,
  answers: unknown,
  opts: { contextIndex: 0 | 1; padTo?: number; padSide: 'right' | 'left'; clsTokenId?: number; bosTokenId?: number },
  where: { file: string; row: number; column: string },
): [number, number] {
  const pad = opts.padTo !== undefined ? Math.max(0, opts.padTo - enc.ids.length) : 0;
  const fill = <T>(v: T[], p: T): T[] => (pad === 0 ? v : opts.padSide === 'right' ? [...v, ...Array<T>(pad).fill(p)] : [...Array<T>(pad).fill(p), ...v]);
  const inputIds = fill(enc.ids, -1);
  const offsets = fill<[number, number]>(enc.offsets, [0, 0]);
  const seq = fill<number | null>(enc.sequenceIds, null);
  let cls = 0;
  if (opts.clsTokenId !== undefined && inputIds.includes(opts.clsTokenId)) cls = inputIds.indexOf(opts.clsTokenId);
  else if (opts.bosTokenId !== undefined && inputIds.includes(opts.bosTokenId)) cls = inputIds.indexOf(opts.bosTokenId);
  const a = answers as { answer_start?: unknown; text?: unknown } | null;
  if (!a || typeof a !== 'object' || !Array.isArray(a.answer_start) || !Array.isArray(a.text)) {
    throw new EvalpredError(
      `${where.file}, row ${where.row}, column "${where.column}": labelling the features (label_names with docStride) needs SQuAD answers ` +
        `{"text": [...], "answer_start": [...]}, found ${JSON.stringify(answers)?.slice(0, 80)}.`,
      where,
    );
  }
  if (a.answer_start.length === 0) return [cls, cls];
  const startChar = Number(a.answer_start[0]);
  const endChar = startChar + Array.from(String(a.text[0])).length; // len() counts code points, as the offsets do
  if (!Number.isInteger(startChar)) throw new EvalpredError(`${where.file}, row ${where.row}, column "${where.column}": answer_start[0] is ${JSON.stringify(a.answer_start[0])}, not a character index.`, where);
  return runQaPositions(offsets, seq, startChar, endChar, cls, opts.contextIndex);
}

function text(v: unknown, ds: Dataset, row: number, column: string): string {
  if (typeof v === 'string') return v;
  throw new EvalpredError(`${ds.source}, row ${row}, column "${column}": expected text, found ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}.`, {
    file: ds.source,
    row,
    column,
  });
}

/**
 * prepare_validation_features for rows [0, numRows): the question's leading whitespace stripped, question and
 * context in the tokenizer's padding order (context first for left-padding tokenizers), only the context
 * truncated, one feature per window, offsets kept for context tokens only. Example ids come from the "id"
 * column (run_qa's), else the row number. The windows come from the tokenized-features cache when `cache` has
 * them (docs/cache-format.md#tokenized-features), else are tokenized here and stored there.
 */
export function prepareValidationFeatures(
  ds: Dataset,
  tok: LoadedTokenizer,
  plan: ColumnPlan,
  numRows: number,
  maxLength: number,
  docStride: number,
  options: QaPostprocessOptions,
  notes: string[],
  /** Label the features as prepare_train_features does (label_names asked for): padding as the loop will pad them. */
  labels?: { padTo?: number },
  cache?: Pick<FeaturesLookup, 'cache' | 'log'>,
): QaValidationFeatures {
  if (!Number.isInteger(docStride) || docStride < 0) throw new EvalpredError(`the doc stride must be a whole number of tokens (0 or more), got ${docStride}.`, { column: 'docStride' });
  const padOnRight = tok.padSide === 'right';
  const contextIndex = padOnRight ? 1 : 0;
  const truncation = padOnRight ? 'only_second' : 'only_first';
  const hasId = ds.columns.includes('id');
  if (!hasId) notes.push(`${ds.source} has no "id" column: examples are identified by their row number in the post-processing and the references.`);
  if (labels && !plan.label) {
    throw new EvalpredError(
      `${ds.source}: label_names (--label-names) with --doc-stride labels each feature from the answers, as run_qa.py's prepare_train_features does, ` +
        `but there is no answers column (columns: ${ds.columns.join(', ')}). Name it with --label-column.`,
      { file: ds.source, column: 'labelNames' },
    );
  }
  const question = (i: number) => text(requireField(ds, i, plan.text!), ds, i, plan.text!).trimStart(); // run_qa: q.lstrip()
  const context = (i: number) => text(requireField(ds, i, plan.pair!), ds, i, plan.pair!);
  // The expensive part, what the features cache keeps: every row's windows, and the row each came from.
  const tokenize = (): FeatureSet => {
    const encs: Encoded[] = [];
    const itemRows: number[] = [];
    for (let i = 0; i < numRows; i++) {
      const q = question(i), c = context(i);
      for (const enc of tok.encodeOverflowing(padOnRight ? q : c, padOnRight ? c : q, { maxLength, stride: docStride, truncation })) {
        encs.push(enc);
        itemRows.push(i);
      }
    }
    return { rows: numRows, tables: { inputs: packEncodings(0, encs, { aligned: true }) }, itemRows: Int32Array.from(itemRows) };
  };
  const text_: TextSettings = { task: 'question-answering', text: plan.text, pair: plan.pair, maxLength, truncation, docStride };
  const set = cache ? wholeFeatures({ ...cache, text: text_, numRows }, tokenize) : tokenize();
  const windows = set.tables.inputs, itemRows = set.itemRows!;
  const { starts, sequenceIds, offsets } = windows;
  if (!sequenceIds || !offsets) throw new Error('prepareValidationFeatures: the windows have no sequence ids and offsets');
  const examples: QaExample[] = [];
  const features: QaFeature[] = [];
  const positions: [number, number][] = [];
  const clsTokenId = tok.specialTokenId('cls_token');
  const bosTokenId = tok.specialTokenId('bos_token');
  let f = 0;
  for (let i = 0; i < numRows; i++) {
    const id = hasId ? String(requireField(ds, i, 'id')) : String(i);
    examples.push({ id, context: context(i), answers: plan.label ? (getField(ds.row(i), plan.label) ?? null) : null });
    for (; f < itemRows.length && itemRows[f] === i; f++) {
      if (labels) {
        const where = { file: ds.source, row: i, column: plan.label! };
        positions.push(trainFeaturePositions(encodedAt(windows, f), examples[i].answers, { contextIndex, padTo: labels.padTo, padSide: tok.padSide, clsTokenId, bosTokenId }, where));
      }
      // the context tokens' offsets, None elsewhere (sequence ids: -1 for None)
      const a = starts[f], n = starts[f + 1] - a;
      const offs = new Array<[number, number] | null>(n);
      for (let k = 0, j = a; k < n; k++, j++) offs[k] = sequenceIds[j] === contextIndex ? [offsets[2 * j], offsets[2 * j + 1]] : null;
      features.push({ exampleId: id, offsets: offs });
    }
  }
  return labels ? { examples, features, windows, options, positions } : { examples, features, windows, options };
}

/** The cache attachment's name. */
export const QA_ATTACHMENT = 'qa_postprocess';

/**
 * The cache attachment "qa_postprocess" (docs/cache-format.md#attachments): the options, the examples, and each feature as
 * [example index, index of its first context token, start, end, start, end, ...] (a window's context tokens are contiguous;
 * every other offset is None).
 */
export function qaRecordToJson(r: QaRecord): unknown {
  const index = new Map<string, number>();
  r.examples.forEach((e, i) => index.set(e.id, i));
  const features = r.features.map((f) => {
    const first = f.offsets.findIndex((o) => o !== null);
    const row: number[] = [index.get(f.exampleId)!, first];
    if (first >= 0) for (let k = first; k < f.offsets.length && f.offsets[k] !== null; k++) row.push(f.offsets[k]![0], f.offsets[k]![1]);
    return row;
  });
  return { format: 'evalpred-qa/1', options: r.options, examples: r.examples, features };
}

/** The attachment back, checked: any shape it should not have is an error naming the entry (the caller adds the cache). */
export function qaRecordFromJson(json: unknown): QaRecord {
  const bad = (why: string): never => {
    throw new Error(why);
  };
  const j = json as { format?: unknown; options?: Record<string, unknown>; examples?: unknown; features?: unknown };
  if (!j || typeof j !== 'object' || j.format !== 'evalpred-qa/1') bad('its "format" is not "evalpred-qa/1"');
  const o = j.options ?? {};
  const options: QaPostprocessOptions = {
    version2WithNegative: o.version2WithNegative === true,
    nBestSize: Number(o.nBestSize),
    maxAnswerLength: Number(o.maxAnswerLength),
    nullScoreDiffThreshold: Number(o.nullScoreDiffThreshold),
  };
  if (!Number.isInteger(options.nBestSize) || options.nBestSize < 1 || !Number.isInteger(options.maxAnswerLength) || options.maxAnswerLength < 1 || !Number.isFinite(options.nullScoreDiffThreshold)) {
    bad('"options" are not run_qa post-processing options');
  }
  if (!Array.isArray(j.examples)) return bad('"examples" is not a list');
  const examples: QaExample[] = j.examples.map((e: unknown, i: number) => {
    const x = e as Record<string, unknown>;
    if (!x || typeof x.id !== 'string' || typeof x.context !== 'string') bad(`examples[${i}] is not {"id": text, "context": text, "answers": ...}`);
    return { id: x.id as string, context: x.context as string, answers: x.answers ?? null };
  });
  if (!Array.isArray(j.features)) return bad('"features" is not a list');
  const features: QaFeature[] = j.features.map((row: unknown, i: number) => {
    const r = row as number[];
    if (!Array.isArray(r) || r.length < 2 || r.length % 2 !== 0 || r.some((v) => !Number.isSafeInteger(v) || v < -1)) bad(`features[${i}] is not [example, first, start, end, ...]`);
    const [ex, first] = r;
    if (ex < 0 || ex >= examples.length) bad(`features[${i}] names example ${ex}, but there are ${examples.length}`);
    const offsets: ([number, number] | null)[] = first < 0 ? [] : new Array(first).fill(null);
    for (let k = 2; k < r.length; k += 2) offsets.push([r[k], r[k + 1]]);
    return { exampleId: examples[ex].id, offsets };
  });
  return { examples, features, options };
}
