// `evalpred metrics --cache DIR --metrics FILE [--function NAME] [--eval-prediction-profile P] [--watch]`: rerun compute_metrics on cached
// predictions; with --watch, again on every save of the metric file, printing what changed.
import { readCacheManifest } from '../../core/cache/store';
import { EvalpredError, isEvalpredError } from '../../core/errors';
import { loopRecordOf } from '../../core/evaluate';
import { EVAL_PREDICTION_PROFILES, EvalPredictionProfile } from '../../core/loop/settings';
import { MetricsOutcome, metricsFromCache } from '../../core/metrics/forEvaluation';
import { MetricRunners } from '../../core/metrics/runMetrics';
import { MEMORY_LIMIT_FLAG, PYTHON_FLAG, memoryLimitFromFlags, pythonFromFlags } from '../runFlags';
import { Parsed, parseArgs } from '../args';
import { printable } from '../terminalText';
import { SourceWatch } from '../watchFile';
import { logHistory, rerunSeries, seriesTable, writeLogHistory } from '../../core/series/series';

export async function metricsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    [
      { name: 'cache', type: 'string', help: 'cache folder' },
      { name: 'metrics', type: 'string', help: 'metric file (.ts/.js/.py)' },
      { name: 'function', type: 'string', help: 'function name (default compute_metrics / computeMetrics)' },
      { name: 'watch', type: 'bool', help: 'rerun on every save and print the difference' },
      { name: 'eval-prediction-profile', type: 'string', help: `${EVAL_PREDICTION_PROFILES.join(' | ')}: the EvalPrediction a .py metric gets without transformers` },
      { name: 'series', type: 'string', help: 'a captured training run (series.json): rerun every step, logged vs recomputed' },
      { name: 'json', type: 'bool', help: 'with --series: print the table as JSON' },
      { name: 'log-history', type: 'string', help: "with --series: write the recomputed curve as trainer_state.json's log_history" },
      MEMORY_LIMIT_FLAG,
      PYTHON_FLAG,
    ],
    'metrics',
  );
  const cache = p.flags.cache as string | undefined;
  const file = p.flags.metrics as string | undefined;
  const series = p.flags.series as string | undefined;
  if (series !== undefined) {
    if (!file) throw new EvalpredError('--series DIR needs --metrics FILE (the fixed metric to rerun on every step).');
    if (cache) throw new EvalpredError('give --cache CACHE_DIR or --series DIR, not both.');
    const runners = new MetricRunners({ memoryLimitMb: memoryLimitFromFlags(p), python: pythonFromFlags(p) });
    try {
      return await seriesCommand(runners, series, file, p.flags);
    } finally {
      await runners.close();
    }
  }
  for (const f of ['json', 'log-history']) if (p.flags[f] !== undefined) throw new EvalpredError(`--${f} goes with --series DIR.`);
  if (!cache || !file) throw new EvalpredError('--cache CACHE_DIR and --metrics FILE are required.');
  const profile = p.flags['eval-prediction-profile'] as string | undefined;
  if (profile !== undefined && !(EVAL_PREDICTION_PROFILES as readonly string[]).includes(profile)) {
    throw new EvalpredError(`--eval-prediction-profile must be one of ${EVAL_PREDICTION_PROFILES.join(', ')}, got "${profile}".`);
  }
  const memoryLimitMb = memoryLimitFromFlags(p);
  const python = pythonFromFlags(p);
  // The manifest is validated before anything runs; the runners read the arrays themselves.
  const manifest = readCacheManifest(cache);
  const loop = loopRecordOf(manifest, cache);
  const runners = new MetricRunners({ memoryLimitMb, python });
  try {
    return await printRuns(p, file, () =>
      metricsFromCache(runners, cache, loop, file, { function: p.flags.function as string | undefined, profile: profile as EvalPredictionProfile | undefined }),
    );
  } finally {
    await runners.close();
  }
}

async function printRuns(p: Parsed, file: string, once: () => Promise<MetricsOutcome>): Promise<number> {
  if (!p.flags.watch) {
    const r = await once();
    for (const w of r.warnings) process.stderr.write(`warning: ${printable(w)}\n`);
    for (const n of r.notes) process.stderr.write(`note: ${printable(n)}\n`);
    if (r.stdout) process.stderr.write(r.stdout);
    process.stdout.write(r.json + '\n');
    return 0;
  }
  let previous: Record<string, unknown> | undefined;
  // The metric file, then also what its last successful run imported from its own files (helper modules).
  const watch = new SourceWatch(() => void rerun());
  watch.watch([file]);
  const runAndPrint = async () => {
    try {
      const r = await once();
      watch.watch([file, ...(r.sources ?? [])]);
      if (r.stdout) process.stderr.write(r.stdout);
      process.stdout.write(r.json + '\n');
      if (!previous) for (const n of r.notes) process.stderr.write(`note: ${printable(n)}\n`);
      if (previous) process.stderr.write(diffLines(previous, r.metrics) + '\n');
      process.stderr.write(`(${r.durationMs.toFixed(0)} ms; watching ${file}, Ctrl+C to stop)\n`);
      previous = r.metrics;
    } catch (e) {
      if (!isEvalpredError(e)) throw e;
      process.stderr.write(`error: ${printable(e.message)}\n(watching ${file}: save a fix to rerun, Ctrl+C to stop)\n`);
    }
  };
  // One run at a time: a save during a run reruns once it ends, on the files as they are then.
  let running: Promise<void> | undefined;
  let again = false;
  const rerun = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = runAndPrint().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        void rerun();
      }
    });
    return running;
  };
  try {
    await rerun(); // the first run: an internal error ends the command as any other would
    await untilCtrlC();
  } finally {
    watch.close(); // nothing left to keep the process alive
  }
  await running;
  return 0;
}

/** `--series DIR`: every step of a captured training run, the logged metric beside the recomputed one. */
async function seriesCommand(runners: MetricRunners, dir: string, file: string, flags: Record<string, unknown>): Promise<number> {
  const once = async () => {
    const rows = await rerunSeries(runners, dir, file, { function: flags.function as string | undefined });
    if (flags['log-history']) writeLogHistory(flags['log-history'] as string, logHistory(rows, { series: dir, metrics: file }));
    process.stdout.write((flags.json ? JSON.stringify(rows, null, 2) : printable(seriesTable(rows))) + '\n');
    return rows.some((r) => r.error) ? 1 : 0;
  };
  const code = await once();
  if (!flags.watch) return code;
  const watch = new SourceWatch(() => {
    process.stderr.write(`\n${file} changed: rerunning the series\n`);
    once().catch((e) => process.stderr.write(`error: ${printable(isEvalpredError(e) ? e.message : String(e))}\n`));
  });
  watch.watch([file]);
  await untilCtrlC();
  watch.close();
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

/** Ctrl+C ends a --watch: the watcher is closed by the caller, so nothing is left to keep the process alive. */
function untilCtrlC(): Promise<void> {
  return new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
}
