// Batches of encodings -> int64 model inputs, as DataCollatorWithPadding / DataCollatorForTokenClassification do.
import { EvalpredError } from '../errors';
import { Tensor } from '../tensor/tensor';
import type { Encoded } from './encoded';

export interface Collated {
  feeds: Record<string, Tensor>;
  size: number;
  width: number;
}

/** Pad every row to the longest in the batch (at least padTo, rounded up to padToMultipleOf); pad side from the tokenizer. */
export function collate(
  encs: Encoded[],
  /** typeIds false: the tokenizer returns no token_type_ids, so the model sees zeros (LoadedTokenizer.returnsTokenTypeIds). */
  opts: { padTokenId: number; padSide: 'right' | 'left'; names: string[]; padToMultipleOf?: number; padTo?: number; typeIds?: boolean },
): Collated {
  // padTo: padding="max_length" at tokenization (run_qa's pad_to_max_length), every row that wide.
  let width = encs.reduce((m, e) => Math.max(m, e.ids.length), opts.padTo ?? 0);
  const k = opts.padToMultipleOf;
  if (k && width % k !== 0) width = (Math.floor(width / k) + 1) * k;
  const fields: Record<string, { pick: (e: Encoded) => number[]; pad: number }> = {
    input_ids: { pick: (e) => e.ids, pad: opts.padTokenId },
    attention_mask: { pick: (e) => e.attentionMask, pad: 0 },
    token_type_ids: { pick: (e) => (opts.typeIds === false ? e.typeIds.map(() => 0) : e.typeIds), pad: 0 },
  };
  const feeds: Record<string, Tensor> = {};
  for (const name of opts.names) {
    const f = fields[name];
    if (!f) {
      throw new EvalpredError(`the model input "${name}" cannot be built from a tokenizer (only input_ids, attention_mask and token_type_ids can).`, {
        tensor: name,
      });
    }
    feeds[name] = padRows(encs.map(f.pick), width, opts.padSide, f.pad);
  }
  return { feeds, size: encs.length, width };
}

function padRows(rows: number[][], width: number, side: 'right' | 'left', value: number): Tensor {
  const data = new BigInt64Array(rows.length * width).fill(BigInt(value));
  rows.forEach((r, i) => {
    if (r.length > width) throw new Error(`row ${i} has ${r.length} entries, wider than ${width}`);
    const o = i * width + (side === 'right' ? 0 : width - r.length);
    for (let j = 0; j < r.length; j++) data[o + j] = BigInt(r[j]);
  });
  return new Tensor('int64', [rows.length, width], data);
}

/** DataCollatorForTokenClassification: label rows padded with -100 to the inputs' width, on the tokenizer's side. */
export function padLabels(rows: number[][], width: number, padSide: 'right' | 'left', value = -100): Tensor {
  return padRows(rows, width, padSide, value);
}

/**
 * The collated tensors transformers' tokenizer would have returned, in its order (input_ids, token_type_ids,
 * attention_mask): how a collator's batch mapping begins. `typeIds` false (LoadedTokenizer.returnsTokenTypeIds):
 * the tokenizer returns none, so the batch has none, whatever zeros the model was fed.
 */
export function tokenizerBatch(feeds: Record<string, Tensor>, typeIds: boolean): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const k of ['input_ids', 'token_type_ids', 'attention_mask']) if (feeds[k] && (k !== 'token_type_ids' || typeIds)) out[k] = feeds[k];
  return out;
}
