// The demo's workspace: the model, tokenizer and dataset built from code, a compute_metrics in TypeScript and
// in Python, and a launch configuration. Written by `evalpred demo` (src/cli/commands/demo.ts) and by the
// extension's EvalPred: Run the Demo in This Workspace (the Get Started walkthrough), never over a user's file
// (./writeFiles.ts).
import path from 'node:path';
import { demoModelFiles } from './index';
import { writeDemoFiles } from './writeFiles';

const DEMO_METRICS_TS = `// A compute_metrics written the way people write it for Trainer; edit and rerun:
//   evalpred metrics --cache <cache> --metrics <this file> --watch
export function computeMetrics(evalPred) {
  const { predictions, labelIds } = evalPred;
  const predicted = predictions.argmax(-1);
  let correct = 0, truePos = 0, predPos = 0, goldPos = 0;
  for (let i = 0; i < labelIds.size; i++) {
    const p = predicted.get(i), l = labelIds.get(i);
    if (p === l) correct++;
    if (p === 1) predPos++;
    if (l === 1) goldPos++;
    if (p === 1 && l === 1) truePos++;
  }
  const precision = predPos ? truePos / predPos : 0;
  const recall = goldPos ? truePos / goldPos : 0;
  return {
    accuracy: correct / labelIds.size,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}
`;

const DEMO_METRICS_PY = `# The same compute_metrics in Python, as it would be passed to transformers.Trainer.
import numpy as np

def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=-1)
    tp = int(((preds == 1) & (labels == 1)).sum())
    precision = tp / max(int((preds == 1).sum()), 1)
    recall = tp / max(int((labels == 1).sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": float((preds == labels).mean()), "f1": f1}
`;

/**
 * The demo's launch configuration with paths under `root`: `${workspaceFolder}` in the demo's own launch.json
 * (so "open the folder in VS Code and press F5" is true), the absolute demo folder for the extension's command.
 */
export function demoLaunchConfig(root = '${workspaceFolder}') {
  return {
    type: 'evalpred',
    request: 'launch',
    name: 'Debug compute_metrics (evalpred demo)',
    model: `${root}/model`,
    dataset: `${root}/validation.jsonl`,
    batchSize: 16,
    metrics: `${root}/metrics.py`,
  };
}

function demoLaunchJson(): string {
  const config = demoLaunchConfig();
  return JSON.stringify({ version: '0.2.0', configurations: [config] }, null, 2) + '\n';
}

/** Every file of the demo workspace, by path relative to its folder. */
export function demoWorkspaceFiles(): Map<string, Uint8Array | string> {
  const files = demoModelFiles();
  files.set('metrics.ts', DEMO_METRICS_TS);
  files.set('metrics.py', DEMO_METRICS_PY);
  files.set(path.join('.vscode', 'launch.json'), demoLaunchJson());
  return files;
}

/** Write the demo workspace into `dir` (refusing, before anything is written, to overwrite a user's file). */
export function writeDemoWorkspace(dir: string): { dir: string; metricsPy: string; metricsTs: string } {
  writeDemoFiles(dir, demoWorkspaceFiles());
  return { dir, metricsPy: path.join(dir, 'metrics.py'), metricsTs: path.join(dir, 'metrics.ts') };
}
