// Extractive QA with a doc stride, as transformers' run_qa.py evaluates it (docs/trainer-semantics.md#question-answering-with-doc-stride):
// prepare_validation_features cuts every context into overflowing windows of max length tokens (`stride` tokens
// shared between neighbours), the loop runs over those features (Trainer's num_samples is their count), and the
// post-processing (src/core/metrics/qaPostprocess.ts) maps the start/end logits back to one answer per example.
import { Dataset, getField, requireField } from '../data';
import { EvalpredError } from '../errors';
import type { Encoded, LoadedTokenizer } from '../text';
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
  /** One encoding per feature, in order: each example's windows one after the other. */
  encodings: Encoded[];
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
 * column (run_qa's), else the row number.
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
): QaValidationFeatures {
  if (!Number.isInteger(docStride) || docStride < 0) throw new EvalpredError(`the doc stride must be a whole number of tokens (0 or more), got ${docStride}.`, { column: 'docStride' });
  const padOnRight = tok.padSide === 'right';
  const contextIndex = padOnRight ? 1 : 0;
  const hasId = ds.columns.includes('id');
  if (!hasId) notes.push(`${ds.source} has no "id" column: examples are identified by their row number in the post-processing and the references.`);
  const examples: QaExample[] = [];
  const features: QaFeature[] = [];
  const encodings: Encoded[] = [];
  for (let i = 0; i < numRows; i++) {
    const question = text(requireField(ds, i, plan.text!), ds, i, plan.text!).trimStart(); // run_qa: q.lstrip()
    const context = text(requireField(ds, i, plan.pair!), ds, i, plan.pair!);
    const id = hasId ? String(requireField(ds, i, 'id')) : String(i);
    examples.push({ id, context, answers: plan.label ? (getField(ds.row(i), plan.label) ?? null) : null });
    const encs = tok.encodeOverflowing(padOnRight ? question : context, padOnRight ? context : question, {
      maxLength,
      stride: docStride,
      truncation: padOnRight ? 'only_second' : 'only_first',
    });
    for (const enc of encs) {
      encodings.push(enc);
      features.push({ exampleId: id, offsets: enc.offsets.map((o, k) => (enc.sequenceIds[k] === contextIndex ? o : null)) });
    }
  }
  return { examples, features, encodings, options };
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
