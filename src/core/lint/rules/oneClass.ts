// every row's argmax is the same class: usually a label mapping or an input column problem.
import { firstTensor } from '../../tensor/tensor';
import { isFloat } from '../context';
import type { LintRule } from '../types';

export const oneClass: LintRule = {
  ids: ['one-class'],
  check({ evalPred, task }) {
    const p0 = firstTensor(evalPred.predictions);
    if (!p0 || p0.ndim !== 2 || !isFloat(p0) || p0.shape[0] <= 1 || p0.shape[1] <= 1 || task === 'question-answering') return [];
    const ids = p0.argmax(-1);
    const first = ids.at(0);
    for (let i = 1; i < ids.size; i++) if (ids.at(i) !== first) return [];
    return [{ id: 'one-class', severity: 'warning', message: `every prediction is class ${first}.`, fix: 'Check the label mapping (id2label) and the input columns: a model that sees empty or wrong text often predicts one class.' }];
  },
};
