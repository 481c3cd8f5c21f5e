// every row's argmax is the same class: usually a label mapping or an input column problem.
import { SLICE_ELEMENTS } from '../../tensor/blocks';
import { DTYPES } from '../../tensor/dtype';
import { firstTensor } from '../../tensor/tensor';
import { isFloat } from '../context';
import type { LintRule } from '../types';

export const oneClass: LintRule = {
  ids: ['one-class'],
  *scan({ evalPred, task }) {
    const p0 = firstTensor(evalPred.predictions);
    if (!p0 || p0.ndim !== 2 || !isFloat(p0) || p0.shape[0] <= 1 || p0.shape[1] <= 1 || task === 'question-answering') return [];
    // A few rows at a time, yielding between them (file-backed logits may be gigabytes); the first row of
    // another class settles it, so real predictions are read only as far as the first disagreement.
    let first: number | undefined;
    for (const { rows } of p0.chunks(SLICE_ELEMENTS * DTYPES[p0.dtype].itemSize)) {
      const ids = rows.argmax(-1);
      for (let i = 0; i < ids.size; i++) {
        const c = ids.at(i);
        if (first === undefined) first = c;
        else if (c !== first) return [];
      }
      yield;
    }
    return [{ id: 'one-class', severity: 'warning', message: `every prediction is class ${first}.`, fix: 'Check the label mapping (id2label) and the input columns: a model that sees empty or wrong text often predicts one class.' }];
  },
};
