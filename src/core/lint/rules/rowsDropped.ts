// fewer prediction rows than dataset samples: dataloader_drop_last drops the last partial eval batch too.
import { rows } from '../context';
import type { LintRule } from '../types';

export const rowsDropped: LintRule = {
  ids: ['rows-dropped'],
  check({ evalPred, numSamples }) {
    const n = rows(evalPred.predictions);
    if (numSamples === undefined || n === undefined || n >= numSamples) return [];
    return [{
      id: 'rows-dropped',
      severity: 'warning',
      message: `predictions has ${n} rows but the dataset has ${numSamples} samples.`,
      fix: 'dataloader_drop_last=True drops the last partial eval batch too; turn it off for evaluation.',
      reference: 'https://github.com/huggingface/transformers/issues/18021',
    }];
  },
};
