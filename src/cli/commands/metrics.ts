// `evalpred metrics --cache DIR --metrics FILE [--function NAME] [--eval-prediction-profile P] [--watch]`: rerun compute_metrics on cached
// predictions; with --watch, again on every save of the metric file, printing what changed.
import fs from 'node:fs';
import { readCacheManifest } from '../../core/cache/store';
import { EvalpredError, isEvalpredError } from '../../core/errors';
import { loopRecordOf } from '../../core/evaluate';
import { EVAL_PREDICTION_PROFILES, EvalPredictionProfile } from '../../core/loop/settings';
import { metricsFromCache } from '../../core/metrics/forEvaluation';
import { parseArgs } from '../args';
import { printable } from '../terminalText';

export async function metricsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    [
      { name: 'cache', type: 'string', help: 'cache folder' },
      { name: 'metrics', type: 'string', help: 'metric file (.ts/.js/.py)' },
      { name: 'function', type: 'string', help: 'function name (default compute_metrics / computeMetrics)' },
      { name: 'watch', type: 'bool', help: 'rerun on every save and print the difference' },
      { name: 'eval-prediction-profile', type: 'string', help: 'current | v4.19-4.45 | <=4.18: the EvalPrediction a .py metric gets without transformers' },
    ],
    'metrics',
  );
  const cache = p.flags.cache as string | undefined;
  const file = p.flags.metrics as string | undefined;
  if (!cache || !file) throw new EvalpredError('--cache CACHE_DIR and --metrics FILE are required.');
  const profile = p.flags['eval-prediction-profile'] as string | undefined;
  if (profile !== undefined && !(EVAL_PREDICTION_PROFILES as readonly string[]).includes(profile)) {
    throw new EvalpredError(`--eval-prediction-profile must be one of ${EVAL_PREDICTION_PROFILES.join(', ')}, got "${profile}".`);
  }
  // The manifest is validated before anything runs; the runners read the arrays themselves.
  const manifest = readCacheManifest(cache);
  const loop = loopRecordOf(manifest, cache);
  const once = () =>
    metricsFromCache(cache, loop, file, { function: p.flags.function as string | undefined, profile: profile as EvalPredictionProfile | undefined });
  if (!p.flags.watch) {
    const r = await once();
    for (const w of r.warnings) process.stderr.write(`warning: ${printable(w)}\n`);
    if (r.stdout) process.stderr.write(r.stdout);
    process.stdout.write(r.json + '\n');
    return 0;
  }
  let previous: Record<string, unknown> | undefined;
  const runAndPrint = async () => {
    try {
      const r = await once();
      if (r.stdout) process.stderr.write(r.stdout);
      process.stdout.write(r.json + '\n');
      if (previous) process.stderr.write(diffLines(previous, r.metrics) + '\n');
      process.stderr.write(`(${r.durationMs.toFixed(0)} ms; watching ${file}, Ctrl+C to stop)\n`);
      previous = r.metrics;
    } catch (e) {
      if (!isEvalpredError(e)) throw e;
      process.stderr.write(`error: ${printable(e.message)}\n`);
    }
  };
  await runAndPrint();
  let timer: NodeJS.Timeout | undefined;
  fs.watch(file, () => {
    clearTimeout(timer);
    timer = setTimeout(() => void runAndPrint(), 80); // editors write in several steps
  });
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  return 0;
}

export function diffLines(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !/_(runtime|per_second)$/.test(k));
  const lines = keys.flatMap((k) => {
    const a = before[k];
    const b = after[k];
    if (a === b) return [];
    if (a === undefined) return [`  + ${k}: ${b}`];
    if (b === undefined) return [`  - ${k}: ${a}`];
    const delta = typeof a === 'number' && typeof b === 'number' ? ` (${b - a >= 0 ? '+' : ''}${(b - a).toPrecision(4)})` : '';
    return [`  ~ ${k}: ${a} -> ${b}${delta}`];
  });
  return lines.length ? `changed since the last run:\n${lines.join('\n')}` : 'no change since the last run';
}
