// `evalpred demo`: the whole product on a model and dataset built from code (no download): build the demo
// sentiment model, run the evaluation loop, show the EvalPrediction, compute metrics, then rerun a metric
// file against the cached predictions the way a user iterates on compute_metrics.
import fs from 'node:fs';
import path from 'node:path';
import { buildDemo } from '../../demo';
import { evaluate } from '../../core/evaluate';
import { withDefaults } from '../../core/loop/settings';
import { metricsForEvaluation, metricsFromCache } from '../../core/metrics/forEvaluation';
import { parseArgs } from '../args';
import { progressPrinter } from '../progress';
import { printSummary } from './run';

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

export async function demoCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'dir', type: 'string', help: 'where to write the demo files (default .evalpred/demo)' }], 'demo');
  const err = process.stderr;
  const dir = path.resolve((p.flags.dir as string | undefined) ?? path.join('.evalpred', 'demo'));
  err.write(`building the demo model, tokenizer and dataset in ${dir} ...\n`);
  const { modelDir, datasetFile } = buildDemo(dir);
  const settings = withDefaults({ model: modelDir, dataset: datasetFile, batchSize: 16, cache: path.join(dir, 'cache') });
  err.write(`\n$ evalpred run --model ${rel(modelDir)} --dataset ${rel(datasetFile)} --batch-size 16 --out ${rel(settings.cache!)}\n`);
  const ev = await evaluate(settings, { onProgress: progressPrinter(), onLog: (l) => err.write(l + '\n'), refresh: true });
  await printSummary(ev, settings);
  const builtin = await metricsForEvaluation(ev, settings);
  err.write(`\nmetrics (built-in accuracy/F1, Trainer's key order):\n${builtin.json}\n`);

  const metricFile = path.join(dir, 'metrics.ts');
  fs.writeFileSync(metricFile, DEMO_METRICS_TS);
  err.write(`\n$ evalpred metrics --cache ${rel(ev.cacheDir)} --metrics ${rel(metricFile)}\n`);
  const user = await metricsFromCache(ev.cacheDir, ev.loop, metricFile, { batchSize: settings.batchSize });
  err.write(`your compute_metrics, rerun on the cached predictions in ${user.durationMs.toFixed(0)} ms (no model run):\n`);
  process.stdout.write(user.json + '\n');
  err.write(`\nNext: edit ${rel(metricFile)} and run the command above with --watch, or open the folder in VS Code and press F5.\n`);
  return 0;
}

function rel(p: string): string {
  return path.relative(process.cwd(), p) || '.';
}
