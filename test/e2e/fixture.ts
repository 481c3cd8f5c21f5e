// The e2e workspace: a tiny sequence-classification model folder + dataset (test/fixtures/workspace.ts) and
// a Python metric file whose `marker = 1.0` line the test edits in the editor.
import fs from 'node:fs';
import path from 'node:path';
import { seqClsWorkspace } from '../fixtures/workspace';

export const METRIC_SOURCE = `import numpy as np


def compute_metrics(eval_pred):
    predictions, labels = eval_pred
    preds = np.argmax(predictions, axis=-1)
    accuracy = float((preds == labels).mean())
    marker = 1.0
    return {"accuracy": accuracy, "marker": marker}
`;
/** 1-based line of `marker = 1.0` in METRIC_SOURCE. */
export const MARKER_LINE = METRIC_SOURCE.split('\n').findIndex((l) => l.includes('marker = 1.0')) + 1;

export function makeWorkspace(dir: string): { modelDir: string; dataset: string; metrics: string; texts: string[] } {
  const { modelDir, dataset, texts } = seqClsWorkspace(dir, { n: 12, numLabels: 3 });
  const metrics = path.join(dir, 'metrics.py');
  fs.writeFileSync(metrics, METRIC_SOURCE);
  fs.writeFileSync(path.join(dir, 'README.md'), '# evalpred e2e workspace\n');
  return { modelDir, dataset, metrics, texts };
}
