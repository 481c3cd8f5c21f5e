// Copy Value (DAP evaluate with context 'clipboard', `supportsClipboardContext`): the whole value as text a
// user can paste into Python — nested lists with every element, not the Debug Console's elided display —
// bounded at CLIPBOARD_LIMIT characters, past which the text is cut and a note says what was left out.
import { formatNumber, formatValue, isEvalPred, isMapping, isNode, isSeq, mappingSummary, pyString, summary } from '../core/expr';
import type { Value } from '../core/expr';
import { BatchMapping, Tensor, TensorNode } from '../core/tensor/tensor';

/** 1 MB of text: more than a person reads, small enough for the clipboard and the DAP message. */
export const CLIPBOARD_LIMIT = 1_000_000;

class Full extends Error {}

/** Collects text until the limit; then throws Full so no further element is even formatted. */
class Budget {
  parts: string[] = [];
  length = 0;
  constructor(readonly limit: number) {}
  push(s: string): void {
    this.parts.push(s);
    this.length += s.length;
    if (this.length > this.limit) throw new Full();
  }
}

function writeTensor(t: Tensor, out: Budget): void {
  const fmt = (flat: number) => (t.dtype === 'bool' ? (t.at(flat) ? 'True' : 'False') : formatNumber(t.at(flat), t.dtype));
  if (t.ndim === 0) return out.push(fmt(0));
  const strides = t.strides;
  const rec = (axis: number, offset: number): void => {
    out.push('[');
    for (let i = 0; i < t.shape[axis]; i++) {
      if (i) out.push(', ');
      const at = offset + i * strides[axis];
      if (axis === t.ndim - 1) out.push(fmt(at));
      else rec(axis + 1, at);
    }
    out.push(']');
  };
  rec(0, 0);
}

function writeNode(n: TensorNode, out: Budget): void {
  if (n instanceof Tensor) return writeTensor(n, out);
  const items = 'tuple' in n ? n.tuple : n.list;
  out.push('tuple' in n ? '(' : '[');
  items.forEach((c, i) => {
    if (i) out.push(', ');
    writeNode(c, out);
  });
  out.push('tuple' in n && items.length === 1 ? ',)' : 'tuple' in n ? ')' : ']');
}

/** batch_eval_metrics' batch mapping as the dict it pastes as: `{'input_ids': [[...]], 'labels': [...]}`. */
function writeMapping(m: BatchMapping, out: Budget): void {
  out.push('{');
  m.forEach(([k, n], i) => {
    out.push(`${i ? ', ' : ''}${pyString(k)}: `);
    writeNode(n, out);
  });
  out.push('}');
}

function writeValue(v: Value, out: Budget): void {
  if (v instanceof Tensor || isNode(v)) return writeNode(v as TensorNode, out);
  if (isMapping(v)) return writeMapping(v.mapping, out);
  if (isSeq(v)) {
    out.push('(');
    v.seq.forEach((x, i) => {
      if (i) out.push(', ');
      writeValue(x, out);
    });
    return out.push(v.seq.length === 1 ? ',)' : ')');
  }
  if (isEvalPred(v)) {
    const ep = v.evalPred;
    const fields: [string, TensorNode | null][] = [['predictions', ep.predictions], ['label_ids', ep.labelIds], ['inputs', ep.inputs], ['losses', ep.losses]];
    out.push('EvalPrediction(');
    fields.forEach(([name, node], i) => {
      out.push(`${i ? ', ' : ''}${name}=`);
      if (name === 'inputs' && v.inputsMapping) writeMapping(v.inputsMapping, out);
      else if (node) writeNode(node, out);
      else out.push('None');
    });
    return out.push(')');
  }
  out.push(typeof v === 'string' ? pyString(v) : formatValue(v));
}

/** The full text of `v` for the clipboard, at most `limit` characters plus a note saying what was cut. */
export function clipboardText(v: Value, limit = CLIPBOARD_LIMIT): string {
  const out = new Budget(limit);
  try {
    writeValue(v, out);
    return out.parts.join('');
  } catch (e) {
    if (!(e instanceof Full)) throw e;
    const what = v instanceof Tensor || isNode(v) ? summary(v as TensorNode) : isMapping(v) ? `the batch mapping ${mappingSummary(v.mapping)}` : 'the value';
    return (
      out.parts.join('').slice(0, limit) +
      `\n… cut at ${limit.toLocaleString('en-US')} characters: ${what} is larger than the clipboard copy holds ` +
      `(np.save it from the metric, or open it in the prediction view).`
    );
  }
}
