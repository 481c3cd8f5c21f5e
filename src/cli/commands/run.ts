// `evalpred run`: the loop (or its cache), a summary on stderr, the metrics as one JSON object on stdout.
import fs from 'node:fs';
import path from 'node:path';
import { loadDataset } from '../../core/data';
import { SAMPLING_OPTIONS, SAMPLING_REFUSAL, idLists } from '../../core/generate/generationConfig';
import { generationForLints } from '../../core/lint/generationInput';
import { lintEvalPredictionSliced } from '../../core/lint/lints';
import { EvalpredError } from '../../core/errors';
import { Evaluation, evaluate } from '../../core/evaluate';
import { addRowTexts, describeEvalPred, sampleViews } from '../../core/inspect/describe';
import { EVAL_PREDICTION_PROFILES, IncludeForMetrics, RunSettings, withDefaults } from '../../core/loop/settings';
import { FIRST_ROW_TEXTS } from '../../core/loop/types';
import { DEVICES } from '../../core/model/session';
import { TASK_NAMES, isTaskName } from '../../core/tasks';
import { metricsForEvaluation } from '../../core/metrics/forEvaluation';
import { MetricRunners } from '../../core/metrics/runMetrics';
import { loadTokenizer } from '../../core/text';
import { Parsed, camel, parseArgs } from '../args';
import { progressPrinter } from '../progress';
import { RUN_FLAGS, memoryLimitFromFlags, pythonFromFlags } from '../runFlags';
import { formatArrays, formatSamples, formatStructure } from '../summary';
import { printable } from '../terminalText';


export function settingsFromFlags(p: Parsed): RunSettings {
  const f = p.flags;
  for (const req of ['model', 'dataset']) {
    if (typeof f[req] !== 'string') throw new EvalpredError(`--${req} is required (${RUN_FLAGS.find((s) => s.name === req)!.help}).`);
  }
  const include = (f['include-for-metrics'] as string[] | undefined) ?? [];
  for (const i of include) {
    if (i !== 'inputs' && i !== 'loss') throw new EvalpredError(`--include-for-metrics takes inputs and/or loss, got "${i}".`);
  }
  if (f.preprocess !== undefined && f.preprocess !== 'argmax') {
    throw new EvalpredError(`--preprocess takes "argmax" (or define preprocess_logits_for_metrics in the metric file), got "${f.preprocess}".`);
  }
  const profile = f['eval-prediction-profile'];
  if (profile !== undefined && !(EVAL_PREDICTION_PROFILES as readonly string[]).includes(profile as string)) {
    throw new EvalpredError(`--eval-prediction-profile must be one of ${EVAL_PREDICTION_PROFILES.join(', ')}, got "${profile}".`);
  }
  if (f.device !== undefined && !(DEVICES as readonly string[]).includes(f.device as string)) {
    throw new EvalpredError(`--device must be one of ${DEVICES.join(', ')}, got "${f.device}".`);
  }
  if (f.task !== undefined && !isTaskName(f.task)) {
    throw new EvalpredError(`--task must be one of ${TASK_NAMES.join(', ')}, got "${f.task}".`);
  }
  const genFlags = ['generation-max-length', 'max-new-tokens', 'num-beams', 'num-return-sequences', 'repetition-penalty', 'no-repeat-ngram-size', 'bad-words-ids'].filter((k) => f[k] !== undefined);
  if (genFlags.length && !f['predict-with-generate']) {
    throw new EvalpredError(`${genFlags.map((k) => `--${k}`).join(', ')} ${genFlags.length === 1 ? 'applies' : 'apply'} to generation: add --predict-with-generate.`);
  }
  let badWordsIds: number[][] | undefined;
  if (typeof f['bad-words-ids'] === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(f['bad-words-ids']);
    } catch {
      parsed = f['bad-words-ids'];
    }
    badWordsIds = idLists(parsed, '--bad-words-ids') ?? undefined;
  }
  if (f['generation-max-length'] !== undefined && f['max-new-tokens'] !== undefined) {
    throw new EvalpredError('give --generation-max-length or --max-new-tokens, not both (generate() lets max_new_tokens win).');
  }
  const smoothing = f['label-smoothing-factor'] as number | undefined;
  if (smoothing !== undefined && !(smoothing >= 0 && smoothing <= 1)) {
    throw new EvalpredError(`--label-smoothing-factor takes a number from 0 to 1 (the share of the loss spread over all classes), got ${smoothing}.`);
  }
  const qaOnly = ['no-pad-to-max-length', 'max-answer-length', 'n-best-size', 'version-2-with-negative', 'null-score-diff-threshold'].filter((k) => f[k] !== undefined);
  if (qaOnly.length && f['doc-stride'] === undefined) {
    throw new EvalpredError(`${qaOnly.map((k) => `--${k}`).join(', ')} ${qaOnly.length === 1 ? 'belongs' : 'belong'} to run_qa.py's post-processing: add --doc-stride (e.g. --doc-stride 128).`);
  }
  for (const k of ['doc-stride', 'max-answer-length', 'n-best-size']) {
    const v = f[k] as number | undefined;
    if (v !== undefined && !(Number.isInteger(v) && v >= (k === 'doc-stride' ? 0 : 1))) throw new EvalpredError(`--${k} takes a whole number${k === 'doc-stride' ? ' of tokens (0 or more)' : ' (1 or more)'}, got ${v}.`);
  }
  const skip = new Set(['out', 'no-concat', 'no-pad-to-max-length', 'refresh', 'json', 'memory-limit-mb']);
  const partial: Record<string, unknown> = {};
  for (const spec of RUN_FLAGS) if (!skip.has(spec.name) && f[spec.name] !== undefined) partial[camel(spec.name)] = f[spec.name];
  return withDefaults({
    ...(partial as Partial<RunSettings>),
    model: f.model as string,
    dataset: f.dataset as string,
    includeForMetrics: include as IncludeForMetrics[],
    cache: typeof f.out === 'string' ? f.out : undefined,
    evalDoConcatBatches: !f['no-concat'],
    padToMaxLength: f['no-pad-to-max-length'] ? false : undefined,
    badWordsIds,
  });
}

export async function printSummary(
  ev: Evaluation,
  settings: Pick<RunSettings, 'model' | 'dataset' | 'split' | 'metrics'> & Partial<RunSettings>,
  err = process.stderr,
): Promise<void> {
  err.write(`\n${formatStructure(ev.evalPred)}\n\n${formatArrays(describeEvalPred(ev.evalPred))}\n`);
  // Decoding and dataset text are niceties here: the loop already validated both, so failures stay quiet.
  // The tokenizer decodes only inputs and generated ids (sampleViews): a classifier run without inputs skips loading it.
  const decodes = Boolean(ev.evalPred.inputs) || ev.loop.task === 'seq2seq-lm' || ev.loop.task === 'causal-lm';
  const tokenizer = decodes ? await loadTokenizer(settings.model).catch(() => undefined) : undefined;
  const samples = sampleViews(ev.evalPred, FIRST_ROW_TEXTS, { tokenizer, id2label: ev.loop.info.id2label, task: ev.loop.task, numReturnSequences: ev.loop.info.numReturnSequences });
  const { text, template } = ev.loop.info.columns;
  // A fresh run handed back its first rows' text; otherwise (a cached run, a sample past them) the dataset is read.
  const known = ev.firstRowTexts ?? [];
  for (const s of samples) if (s.input === undefined && s.index < known.length) s.input = known[s.index];
  if (samples.some((s) => s.input === undefined) && (text || template)) {
    const ds = await loadDataset(settings.dataset, { split: settings.split }).catch(() => undefined);
    if (ds) addRowTexts(samples, ds, { text, template });
  }
  if (samples.length) err.write(`\nfirst samples:\n${formatSamples(samples)}\n`);
  for (const n of ev.loop.notes) err.write(`note: ${printable(n)}\n`);
  const source = settings.metrics && fs.existsSync(settings.metrics) ? fs.readFileSync(settings.metrics, 'utf8') : undefined;
  const generation = settings.predictWithGenerate ? generationForLints(settings.model) : undefined;
  for (const l of await lintEvalPredictionSliced({ evalPred: ev.evalPred, numSamples: ev.loop.numSamples, settings, source, task: ev.loop.task, generation })) {
    if (l.severity === 'warning') err.write(printable(`warning: ${l.message}${l.line ? ` (${path.basename(settings.metrics!)}:${l.line})` : ''}\n  fix: ${l.fix}`) + '\n');
  }
}

export async function runCommand(argv: string[]): Promise<number> {
  // sampling flags get the reason, not "unknown flag" (docs/trainer-semantics.md#generation-options)
  const sampling = argv.find((a) => SAMPLING_OPTIONS.some((o) => a === `--${o.replace(/_/g, '-')}` || a.startsWith(`--${o.replace(/_/g, '-')}=`)));
  if (sampling) {
    throw new EvalpredError(`${sampling.split('=')[0]}: ${SAMPLING_REFUSAL}. evalpred evaluates with greedy search or beam search (--num-beams).`);
  }
  const parsed = parseArgs(argv, RUN_FLAGS, 'run');
  const settings = settingsFromFlags(parsed);
  const memoryLimitMb = memoryLimitFromFlags(parsed);
  const python = pythonFromFlags(parsed);
  // This command owns the metric processes (the loop thread owns its own for preprocessing).
  const runners = new MetricRunners({ memoryLimitMb, python });
  const ac = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ncancelling (no cache is written)...\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    const ev = await evaluate(settings, {
      signal: ac.signal,
      onProgress: progressPrinter(),
      onLog: (l) => process.stderr.write(l + '\n'),
      refresh: Boolean(parsed.flags.refresh),
      runners: { memoryLimitMb, python },
    });
    process.stderr.write(`${ev.fromCache ? 'cached predictions' : 'predictions cached'} in ${path.relative(process.cwd(), ev.cacheDir) || '.'}\n`);
    // A metric file runs in its own process while the summary's passes over the arrays run here: over gigabytes of
    // logits each takes seconds. Its output still follows the summary.
    const metrics = metricsForEvaluation(runners, ev, settings);
    metrics.catch(() => {}); // awaited below, after the summary
    if (!parsed.flags.json) await printSummary(ev, settings);
    const result = await metrics;
    for (const w of result.warnings) process.stderr.write(`warning: ${printable(w)}\n`);
    for (const n of result.notes) process.stderr.write(`note: ${printable(n)}\n`);
    if (result.stdout) process.stderr.write(result.stdout);
    process.stdout.write(result.json + '\n');
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await runners.close();
  }
}
