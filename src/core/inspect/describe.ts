// What `inspect`, the demo and the views show about an EvalPrediction: each array's place, dtype, shape and
// statistics, and the first samples decoded for people.
import { TensorStats, tensorStats } from '../tensor/stats';
import { EvalPredictionData, EvalPredictionField, Tensor, TensorNode, firstTensor, walkTensors } from '../tensor/tensor';
import { Dataset, rowInputText } from '../data';
import type { LoadedTokenizer } from '../text';

export const FIELD_NAMES: Record<EvalPredictionField, string> = {
  predictions: 'predictions',
  labelIds: 'label_ids',
  inputs: 'inputs',
  losses: 'losses',
};

export interface ArraySummary {
  path: string;
  dtype: string;
  shape: number[];
  stats: TensorStats;
}

export function describeEvalPred(ep: EvalPredictionData): ArraySummary[] {
  const out: ArraySummary[] = [];
  for (const key of Object.keys(FIELD_NAMES) as (EvalPredictionField)[]) {
    const node = ep[key];
    if (!node) continue;
    for (const [p, t] of walkTensors(node, FIELD_NAMES[key])) out.push({ path: p, dtype: t.dtype, shape: [...t.shape], stats: tensorStats(t) });
  }
  return out;
}

/** "tuple of 2", "list of 3 batches", "float32[872, 2]". */
export function structureOf(node: TensorNode | null): string {
  if (!node) return 'None';
  if (node instanceof Tensor) return node.toString();
  if ('tuple' in node) return `tuple(${node.tuple.map(structureOf).join(', ')})`;
  return `list of ${node.list.length} batches`;
}

export interface SampleView {
  index: number;
  input?: string;
  prediction: string;
  label?: string;
  correct?: boolean;
  /** prediction and label are decoded text (generative models): shown quoted, side by side. */
  text?: boolean;
  /** num_return_sequences n > 1: the sample's n decoded sequences, best first (`prediction` is the first). */
  sequences?: string[];
}

/** Element `i` as a number; an int64 beyond 2^53 (no class id or token is) as NaN instead of an exception. */
function idAt(t: Tensor, i: number): number {
  if (t.data instanceof BigInt64Array) {
    const v = t.data[i];
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : NaN;
  }
  return t.at(i);
}

/**
 * Gives each sample still without input text its dataset row's (rowInputText), for rows `ds` has: the summary
 * of `run` and `inspect` show it. A row the template cannot fill goes without.
 */
export function addRowTexts(samples: SampleView[], ds: Dataset, columns: { text?: string; template?: string }): void {
  for (const s of samples) {
    if (s.input !== undefined || s.index >= ds.numRows) continue;
    try {
      s.input = rowInputText(ds, s.index, columns);
    } catch {
      // left without text
    }
  }
}

/** Decoded first samples for sequence classification (argmax -> id2label) and token ids (tokenizer decode). */
export function sampleViews(
  ep: EvalPredictionData,
  count: number,
  opts: { tokenizer?: LoadedTokenizer; id2label?: Record<number, string>; task?: string; numReturnSequences?: number },
): SampleView[] {
  const preds = ep.predictions instanceof Tensor ? ep.predictions : undefined;
  const labels = ep.labelIds instanceof Tensor ? ep.labelIds : undefined;
  const inputs = firstTensor(ep.inputs);
  if (!preds || preds.ndim === 0) return [];
  // num_return_sequences: n generated rows per sample, best first; a sample shows them all, is scored by the best (docs/trainer-semantics.md#generation-options)
  const generative = opts.task === 'seq2seq-lm' || opts.task === 'causal-lm';
  const per = generative && opts.numReturnSequences && opts.numReturnSequences > 1 && preds.shape[0] % opts.numReturnSequences === 0 ? opts.numReturnSequences : 1;
  const n = Math.min(count, preds.shape[0] / per);
  const name = (id: number) => opts.id2label?.[id] ?? String(id);
  const out: SampleView[] = [];
  for (let i = 0; i < n; i++) {
    const v: SampleView = { index: i, prediction: '' };
    if (inputs && opts.tokenizer && inputs.ndim === 2) v.input = opts.tokenizer.decode(inputs.row(i).data as BigInt64Array, { skipSpecialTokens: true });
    if (opts.task === 'sequence-classification' || opts.task === undefined) {
      const p = preds.ndim === 2 && preds.shape[1] > 0 ? preds.row(i).argmax(-1).at(0) : preds.ndim === 1 && preds.dtype === 'int64' ? idAt(preds, i) : NaN;
      if (!Number.isNaN(p)) v.prediction = name(p);
      if (labels && labels.ndim === 1) {
        const l = idAt(labels, i);
        v.label = labels.dtype === 'int64' ? name(l) : String(l);
        if (!Number.isNaN(p) && labels.dtype === 'int64') v.correct = p === l;
      }
    } else if ((opts.task === 'seq2seq-lm' || opts.task === 'causal-lm') && opts.tokenizer) {
      // Generated (or argmax) ids decoded as tokenizer.batch_decode(skip_special_tokens=True) would, with -100
      // treated as padding (the fast tokenizer itself would raise on it, docs/trainer-semantics.md#the-decode-trap); logits are argmaxed first.
      const ids = preds.ndim === 3 && preds.shape[2] > 0 ? preds.row(i).argmax(-1) : preds.ndim === 2 ? preds.row(i * per) : undefined;
      v.text = true;
      if (ids) v.prediction = opts.tokenizer.decode(ids.data as BigInt64Array, { skipSpecialTokens: true });
      if (ids && per > 1) {
        const tok = opts.tokenizer;
        v.sequences = Array.from({ length: per }, (_, j) => tok.decode(preds.row(i * per + j).data as BigInt64Array, { skipSpecialTokens: true }));
      }
      if (labels && labels.ndim === 2) {
        v.label = opts.tokenizer.decode(labels.row(i).data as BigInt64Array, { skipSpecialTokens: true });
        if (ids && opts.task === 'seq2seq-lm') v.correct = v.prediction.trim() === v.label.trim();
      }
    } else if (opts.task === 'token-classification') {
      const ids = preds.ndim === 3 && preds.shape[2] > 0 ? preds.row(i).argmax(-1) : preds.ndim === 2 ? preds.row(i) : Tensor.full('int64', [0]);
      const lab = labels && labels.ndim === 2 ? labels.row(i) : undefined;
      const tags: string[] = [];
      const gold: string[] = [];
      for (let k = 0; k < ids.size; k++) {
        const l = lab ? idAt(lab, k) : 0;
        if (lab && l === -100) continue; // only the first sub-token of each word carries a label
        tags.push(name(idAt(ids, k)));
        if (lab) gold.push(name(l));
      }
      v.prediction = tags.join(' ');
      if (lab) {
        v.label = gold.join(' ');
        v.correct = v.prediction === v.label;
      }
    }
    out.push(v);
  }
  return out;
}
