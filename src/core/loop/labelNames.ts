// TrainingArguments.label_names (docs/trainer-semantics.md#which-batch-keys-are-labels): which batch keys Trainer's
// prediction_step takes as the labels. It builds `tuple(inputs.get(name) for name in label_names)`, unwrapped when
// there is one name, and a batch "has labels" only when every name is there. The model's loss does not read
// label_names: the model gets the whole batch and uses its own argument names, so the loss stays the head's.
import { EvalpredError } from '../errors';
import { Tensor, TensorNode } from '../tensor/tensor';

/** The label keys a batch of the default layout holds: `labels`, or QA's start and end positions. */
export const DEFAULT_LABEL_KEYS: readonly string[] = ['labels'];

/**
 * Checks `--label-names` against the label keys this task's batches hold (`keys`, in the order the family builds
 * them). A name the batch never holds would leave Trainer with no labels at all (no label_ids, no
 * compute_metrics call), which is never what a person setting label_names wants: it is an error naming the keys.
 */
export function checkLabelNames(names: readonly string[], keys: readonly string[], task: string): void {
  if (names.length === 0) {
    throw new EvalpredError(
      `--label-names is empty: Trainer would then treat no batch key as labels, never call compute_metrics and report no eval_loss. ` +
        `Name the label keys of the ${task} batch (${keys.join(', ')}), or leave --label-names out for that default.`,
      { column: 'labelNames' },
    );
  }
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) {
    throw new EvalpredError(`--label-names ${names.join(',')}: "${twice[0]}" is named twice; label_ids would hold the same array twice.`, { column: 'labelNames' });
  }
  const unknown = names.filter((n) => !keys.includes(n));
  if (unknown.length) {
    throw new EvalpredError(
      `--label-names ${names.join(',')}: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a label key of the ${task} batch ` +
        `(its label keys: ${keys.join(', ')}). Trainer would find no labels in any batch ("has_labels" needs every name), so there would be no label_ids, ` +
        `no compute_metrics call and no eval_loss.`,
      { column: 'labelNames' },
    );
  }
}

/**
 * One batch's labels as prediction_step builds them from label_names: the batch's label node holds `keys` (a tensor
 * for one key, a tuple in key order for several); the result is the named members in the order of `names`, a bare
 * tensor when there is one name.
 */
export function selectLabels(labels: TensorNode, keys: readonly string[], names: readonly string[]): TensorNode {
  const members = labels instanceof Tensor ? [labels] : 'tuple' in labels ? labels.tuple : null;
  if (!members || members.length !== keys.length) throw new Error(`labels node does not hold the ${keys.length} keys ${keys.join(', ')}`);
  const picked = names.map((n) => members[keys.indexOf(n)]);
  return picked.length === 1 ? picked[0] : { tuple: picked };
}
