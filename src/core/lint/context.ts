// The shared reading of a LintInput for the rules in rules/: source text, named tensors, line lookup.
import { DTYPES } from '../tensor/dtype';
import { Tensor, TensorNode, walkTensors } from '../tensor/tensor';
import type { LintContext, LintInput } from './types';

export function lintContext(input: LintInput): LintContext {
  const ep = input.evalPred;
  return {
    ...input,
    src: input.source ?? '',
    predTensors: ep.predictions ? [...walkTensors(ep.predictions, 'predictions')] : [],
    labelTensors: ep.labelIds ? [...walkTensors(ep.labelIds, 'label_ids')] : [],
    inputTensors: ep.inputs ? [...walkTensors(ep.inputs, 'inputs')] : [],
  };
}

/** The 1-based line of the first source line matching re. */
export function lineOf(source: string, re: RegExp): number | undefined {
  const lines = source.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  return i >= 0 ? i + 1 : undefined;
}

/** Rows of a single-array field; undefined for tuples, scalars and absent fields. */
export function rows(n: TensorNode | null): number | undefined {
  const t = n instanceof Tensor ? n : undefined;
  return t && t.ndim > 0 ? t.shape[0] : undefined;
}

export const isFloat = (t: Tensor): boolean => DTYPES[t.dtype].isFloat;

/** `preds == labels`-style elementwise comparisons of predictions with labels (either order). */
const PRED_NAME = String.raw`(?:preds?|predictions|predicted|pred_ids|predicted_ids|eval_pred\.predictions|p\.predictions)`;
const LABEL_NAME = String.raw`(?:labels?|label_ids|refs|references|targets|eval_pred\.label_ids|p\.label_ids)`;
export const ELEMENTWISE_COMPARE = new RegExp(String.raw`\b${PRED_NAME}\s*(?:===?|!==?)\s*${LABEL_NAME}\b|\b${LABEL_NAME}\s*(?:===?|!==?)\s*${PRED_NAME}\b`);
