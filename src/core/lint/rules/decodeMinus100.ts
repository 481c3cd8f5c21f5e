// decoding arrays that hold -100 crashes fast tokenizers (OverflowError). Silenced for a value whose -100 the
// source removes before the decode, whatever the variable is called (../minusHundredFlow.ts follows the data).
import { statsOf } from '../../tensor/stats';
import type { Gen } from '../../tensor/blocks';
import type { Tensor } from '../../tensor/tensor';
import { isFloat } from '../context';
import { EvalField, decodeSites } from '../minusHundredFlow';
import type { Lint, LintRule } from '../types';

/** The integer arrays holding -100, with how many (a statistics pass over each, in slices). */
function* withMinus100(ts: [string, Tensor][]): Gen<Array<[string, Tensor, number]>> {
  const out: Array<[string, Tensor, number]> = [];
  for (const [name, t] of ts) {
    if (isFloat(t)) continue;
    const n = (yield* statsOf(t)).minus100Count;
    if (n > 0) out.push([name, t, n]);
  }
  return out;
}

export const decodeMinus100: LintRule = {
  ids: ['decode-minus-100'],
  *scan({ src, predTensors, labelTensors, inputTensors }) {
    if (!/\b(batch_)?decode\s*\(/.test(src)) return [];
    const out: Lint[] = [];
    const sites = decodeSites(src);
    for (const [name, t, minus100] of yield* withMinus100([...predTensors, ...labelTensors, ...inputTensors])) {
      const field = name.split('[')[0] as EvalField;
      // the decodes this value can reach: those traced to its field, and those whose origin the source does not show
      const reaching = sites.filter((d) => d.field === field || d.field === undefined);
      const dirty = reaching.find((d) => !d.clean);
      if (!dirty) continue;
      const v = /^[\w$.]+$/.test(dirty.variable) ? dirty.variable : field;
      out.push({
        id: 'decode-minus-100',
        severity: 'warning',
        message: `${name} (${t.dtype}[${t.shape.join(', ')}]) holds ${minus100} values of -100 and line ${dirty.line} decodes ${dirty.variable} with them still in; a fast tokenizer raises "OverflowError: out of range integral type conversion attempted" on them.`,
        fix: `Replace -100 by the pad id before decoding: ${v} = np.where(${v} != -100, ${v}, tokenizer.pad_token_id) (see docs/trainer-semantics.md#the-decode-trap).`,
        line: dirty.line,
        reference: field === 'label_ids' ? 'https://github.com/huggingface/transformers/pull/10046' : 'https://github.com/huggingface/transformers/issues/22634',
      });
    }
    return out;
  },
};
