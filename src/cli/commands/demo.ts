// `evalpred demo`: the whole product on a model and dataset built from code (no download): build the demo
// sentiment model, run the evaluation loop, show the EvalPrediction, compute metrics, then rerun a metric
// file against the cached predictions the way a user iterates on compute_metrics.
import fs from 'node:fs';
import path from 'node:path';
import { demoWorkspaceFiles } from '../../demo/workspace';
import { writeDemoFiles } from '../../demo/writeFiles';
import { assertCacheTarget } from '../../core/cache/outputFolder';
import { EvalpredError } from '../../core/errors';
import { evaluate } from '../../core/evaluate';
import { RunSettings, withDefaults } from '../../core/loop/settings';
import { metricsForEvaluation, metricsFromCache } from '../../core/metrics/forEvaluation';
import { MetricRunners } from '../../core/metrics/runMetrics';
import { parseArgs } from '../args';
import { progressPrinter } from '../progress';
import { PYTHON_FLAG, pythonFromFlags } from '../runFlags';
import { printSummary } from './run';

export async function demoCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'dir', type: 'string', help: 'where to write the demo files (default .evalpred/demo)' }, PYTHON_FLAG], 'demo');
  const python = pythonFromFlags(p);
  const err = process.stderr;
  const dir = path.resolve((p.flags.dir as string | undefined) ?? path.join('.evalpred', 'demo'));
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new EvalpredError(`--dir ${dir} is a file, not a folder.`, { file: dir });
  const metricFile = path.join(dir, 'metrics.ts');
  const pyFile = path.join(dir, 'metrics.py');
  err.write(`building the demo model, tokenizer and dataset ...\n`);
  const files = demoWorkspaceFiles();
  // Both checks before anything is written: the demo never overwrites a user's file or folder.
  assertCacheTarget(path.join(dir, 'cache'));
  writeDemoFiles(dir, files);
  err.write(`wrote them to ${dir}\n`);
  const modelDir = path.join(dir, 'model');
  const datasetFile = path.join(dir, 'validation.jsonl');
  const settings = withDefaults({ model: modelDir, dataset: datasetFile, batchSize: 16, cache: path.join(dir, 'cache') });
  err.write(`\n$ evalpred run --model ${rel(modelDir)} --dataset ${rel(datasetFile)} --batch-size 16 --out ${rel(settings.cache!)}\n`);
  const runners = new MetricRunners({ python });
  try {
    return await demoRuns(runners, dir, settings, metricFile, pyFile);
  } finally {
    await runners.close();
  }
}

async function demoRuns(runners: MetricRunners, dir: string, settings: RunSettings, metricFile: string, pyFile: string): Promise<number> {
  const err = process.stderr;
  const ev = await evaluate(settings, { onProgress: progressPrinter(), onLog: (l) => err.write(l + '\n'), refresh: true });
  await printSummary(ev, settings);
  const builtin = await metricsForEvaluation(runners, ev, settings);
  err.write(`\nmetrics (built-in accuracy/F1, Trainer's key order):\n${builtin.json}\n`);

  err.write(`\n$ evalpred metrics --cache ${rel(ev.cacheDir)} --metrics ${rel(metricFile)}\n`);
  let t0 = performance.now();
  await metricsFromCache(runners, ev.cacheDir, ev.loop, metricFile, { batchSize: settings.batchSize });
  const tsFirstMs = performance.now() - t0;
  t0 = performance.now();
  const user = await metricsFromCache(runners, ev.cacheDir, ev.loop, metricFile, { batchSize: settings.batchSize });
  const tsWarmMs = performance.now() - t0;
  err.write(
    `your compute_metrics on the cached predictions, no model run: ${tsFirstMs.toFixed(0)} ms the first time ` +
      `(bundling, worker start), ${tsWarmMs.toFixed(0)} ms for a rerun:\n`,
  );
  process.stdout.write(user.json + '\n');

  err.write(`\n$ evalpred metrics --cache ${rel(ev.cacheDir)} --metrics ${rel(pyFile)}\n`);
  try {
    // Wall time as a user feels it: the first call starts the interpreter and imports NumPy.
    let t = performance.now();
    await metricsFromCache(runners, ev.cacheDir, ev.loop, pyFile, { batchSize: settings.batchSize });
    const firstMs = performance.now() - t;
    t = performance.now();
    const warm = await metricsFromCache(runners, ev.cacheDir, ev.loop, pyFile, { batchSize: settings.batchSize });
    const warmMs = performance.now() - t;
    err.write(`the Python version: ${firstMs.toFixed(0)} ms with interpreter start, ${warmMs.toFixed(0)} ms warm (the worker stays up):\n`);
    process.stdout.write(warm.json + '\n');
  } catch (e) {
    // Python is optional for the demo; say why it did not run and carry on.
    err.write(`(skipped the Python version: ${e instanceof Error ? e.message : String(e)})\n`);
  }
  err.write(
    `\nNext: edit ${rel(metricFile)} or ${rel(pyFile)} and rerun with --watch, or open ${rel(dir)} in VS Code ` +
      `with the extension installed and press F5 (a launch configuration is there).\n`,
  );
  return 0;
}

function rel(p: string): string {
  return path.relative(process.cwd(), p) || '.';
}
