// predictions and labels that disagree in rows, or (integer ids) in width.
import { Tensor } from '../../tensor/tensor';
import { ELEMENTWISE_COMPARE, lineOf, rows } from '../context';
import type { LintRule } from '../types';

export const shapeMismatch: LintRule = {
  ids: ['row-mismatch', 'width-mismatch'],
  check({ evalPred: { predictions: p, labelIds: l }, settings, src, generation }) {
    if (!(p instanceof Tensor) || !(l instanceof Tensor)) return [];
    const per = settings?.predictWithGenerate ? (settings.numReturnSequences ?? generation?.numReturnSequences ?? 1) : 1;
    if (per > 1 && rows(p) !== undefined && rows(p) === (rows(l) ?? NaN) * per) {
      // generate() with num_return_sequences: Trainer hands compute_metrics N x n predictions for N labels
      return [{
        id: 'row-mismatch',
        severity: 'info',
        message: `predictions has ${rows(p)} rows for ${rows(l)} label rows: num_return_sequences ${per} gives each sample ${per} generated rows in a block, best first (row i*${per}+j is sample i's j-th best).`,
        fix: `Pair them with np.repeat(labels, ${per}, axis=0), or score the best with predictions[::${per}].`,
        reference: 'https://github.com/huggingface/transformers/issues/25231',
      }];
    }
    if (rows(p) !== rows(l)) {
      return [{
        id: 'row-mismatch',
        severity: 'warning',
        message: `predictions has ${rows(p)} rows but label_ids has ${rows(l)}.`,
        fix: 'Check num_return_sequences, dataloader_drop_last, or batches without labels.',
        reference: 'https://github.com/huggingface/transformers/issues/25231',
      }];
    }
    if (p.dtype !== 'int64' || l.dtype !== 'int64' || p.ndim !== 2 || l.ndim !== 2 || p.shape[1] === l.shape[1]) return [];
    // Under predict_with_generate this is the normal case (docs/trainer-semantics.md#the-decode-trap); it only hurts a metric that compares elementwise.
    const generated = !!settings?.predictWithGenerate;
    const compareLine = lineOf(src, ELEMENTWISE_COMPARE);
    return [{
      id: 'width-mismatch',
      severity: generated && compareLine ? 'warning' : 'info',
      message: generated
        ? `predictions (generated ids) are ${p.shape[1]} wide but label_ids ${l.shape[1]}: under predict_with_generate each is padded to its own widest batch, so position k of a prediction is not position k of its label.`
        : `predictions are ${p.shape[1]} wide but label_ids ${l.shape[1]}: elementwise comparison needs the same width.`,
      fix: 'Compare decoded texts, or cut both to the shorter width and mask -100.',
      line: generated ? compareLine : undefined,
      reference: 'https://github.com/huggingface/transformers/issues/30361',
    }];
  },
};
