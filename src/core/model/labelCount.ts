// config.json's label count against the model's logits: a config whose id2label names 3 classes on a 2-logit
// model would otherwise show class 1 as the wrong name, and metrics would silently use the wrong label set.
// Checked on the first batch's logits (the width is often a dynamic dim until then).
import { EvalpredError } from '../errors';
import { Tensor, TensorNode } from '../tensor/tensor';
import { ModelConfig } from './config';
import { mainTensor } from './heads';

const CLASSIFYING = new Set(['sequence-classification', 'token-classification']);

/** Throw when config.json's id2label / num_labels disagree with each other or with the logits' last dim. */
export function checkLabelCount(config: ModelConfig, task: string, logits: TensorNode, modelFile: string): void {
  if (!CLASSIFYING.has(task) || !config.configFile) return;
  const file = config.configFile;
  const raw = config.raw;
  const names = raw.id2label && typeof raw.id2label === 'object' ? Object.keys(raw.id2label) : undefined;
  const declared = typeof raw.num_labels === 'number' ? raw.num_labels : undefined;
  const nameList = () => Object.values(config.id2label ?? {}).slice(0, 6).map((n) => JSON.stringify(n)).join(', ') + (names && names.length > 6 ? ', …' : '');
  if (names && declared !== undefined && names.length !== declared) {
    throw new EvalpredError(
      `${file}: "num_labels" is ${declared} but "id2label" names ${names.length} labels (${nameList()}); make them agree with the model's classifier.`,
      { file, column: 'num_labels' },
    );
  }
  const expected = names?.length ?? declared;
  if (expected === undefined) return;
  let x: Tensor;
  try {
    x = mainTensor(logits, 0);
  } catch {
    return;
  }
  const width = x.shape[x.ndim - 1];
  if (width === expected) return;
  const what = names ? `"id2label" names ${names.length} labels (${nameList()})` : `"num_labels" is ${declared}`;
  throw new EvalpredError(
    `${file}: ${what}, but the model's logits have ${width} column${width === 1 ? '' : 's'} (${x.dtype}[${x.shape.join(', ')}] from ${modelFile}). ` +
      `Predicted ids would be shown with the wrong names and metrics would use the wrong label set; fix config.json to match the exported model.`,
    { file, column: names ? 'id2label' : 'num_labels' },
  );
}
