// Dataset label values -> the numbers Trainer's collator would put in `labels`.
import { EvalpredError } from '../errors';
import { didYouMean, listNames } from './suggest';
import { Dataset, rowLabel } from './types';

export interface LabelContext {
  /** The model's config.json label2id, when it has one. */
  label2id?: Record<string, number>;
  ds: Dataset;
  row: number;
  column: string;
}

/**
 * int -> int; bool -> 0/1; string -> label2id[string]; non-integer float -> float (regression);
 * list of ints / floats / tag names -> list (token classification, multi-label). Missing -> error.
 */
export function encodeLabel(value: unknown, ctx: LabelContext): number | number[] {
  if (Array.isArray(value)) {
    return value.map((v, k) => {
      if (Array.isArray(v) || (typeof v === 'object' && v !== null)) {
        throw fail(ctx, `item ${k} of the label list is ${Array.isArray(v) ? 'itself a list' : 'a struct'}; expected a number or a tag name.`);
      }
      return scalar(v, ctx, k);
    });
  }
  if (typeof value === 'object' && value !== null) {
    throw fail(
      ctx,
      `the label is a struct (fields ${listNames(Object.keys(value))}), not a class id, name or list; ` +
        `point the label column at one field with a dotted path such as ${ctx.column}.${Object.keys(value)[0] ?? 'field'}.`,
    );
  }
  return scalar(value, ctx);
}

function scalar(v: unknown, ctx: LabelContext, item?: number): number {
  const what = item === undefined ? 'the label' : `item ${item} of the label list`;
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) {
    throw fail(ctx, `${what} is missing (${v === undefined ? 'no value' : String(v)}); every evaluated row needs a label.`);
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw fail(ctx, `${what} is ${v}, which is not a usable label.`);
    return v; // integers are class ids; other floats are regression targets or multi-hot weights
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') {
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw fail(ctx, `${what} is ${v}, too large to be a class id.`);
    }
    return Number(v);
  }
  if (typeof v === 'string') return byName(v, ctx, what);
  throw fail(ctx, `${what} is a ${typeof v}; expected a number, a boolean or a label name.`);
}

function byName(name: string, ctx: LabelContext, what: string): number {
  const names = ctx.ds.classNames?.[ctx.column];
  if (!ctx.label2id || Object.keys(ctx.label2id).length === 0) {
    throw fail(
      ctx,
      `${what} is the name ${JSON.stringify(name)}, but the model's config.json has no label2id to turn names into ids. ` +
        `Add "label2id" (and "id2label") to config.json, or use a label column holding class ids` +
        (names ? ` (this dataset's class names, in id order: ${listNames(names)}).` : '.'),
    );
  }
  const id = Object.prototype.hasOwnProperty.call(ctx.label2id, name) ? ctx.label2id[name] : undefined;
  if (typeof id === 'number') return id;
  const known = Object.keys(ctx.label2id);
  throw fail(
    ctx,
    `${what} is ${JSON.stringify(name)}, which is not among the model's label names (config.json label2id): ${listNames(known)}.` +
      didYouMean(name, known),
  );
}

function fail(ctx: LabelContext, why: string): EvalpredError {
  return new EvalpredError(`${ctx.ds.source}, ${rowLabel(ctx.ds, ctx.row)}, label column "${ctx.column}": ${why}`, {
    file: ctx.ds.source,
    row: ctx.row,
    column: ctx.column,
  });
}
