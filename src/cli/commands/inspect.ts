// `evalpred inspect`: what a cache holds — structure, shapes, dtypes, value ranges, NaN/-100 counts, and
// the first samples decoded when the model folder the cache was made from is still there.
import path from 'node:path';
import { checkedDataset, checkedModelDir } from '../../core/cache/producerPaths';
import { loadDataset } from '../../core/data';
import { readCache } from '../../core/cache/reader';
import { EvalpredError, isEvalpredError, messageOf } from '../../core/errors';
import { addRowTexts, describeEvalPred, sampleViews, structureOf } from '../../core/inspect/describe';
import { loopRecordOf } from '../../core/evaluate';
import { loadTokenizer } from '../../core/text';
import { generationForLints } from '../../core/lint/generationInput';
import { lintEvalPredictionSliced } from '../../core/lint/lints';
import type { RunSettings } from '../../core/loop/settings';
import { parseArgs } from '../args';
import { formatArrays, formatSamples, formatStructure } from '../summary';
import { printable } from '../terminalText';

export async function inspectCommand(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    [
      { name: 'cache', type: 'string', help: 'cache folder' },
      { name: 'json', type: 'bool', help: 'machine-readable output' },
      { name: 'samples', type: 'int', help: 'how many samples to decode (default 5)', min: 0 },
    ],
    'inspect',
    [{ name: '[CACHE_DIR]', help: 'the cache folder (instead of --cache)' }],
  );
  const dir = (p.flags.cache as string | undefined) ?? p.positional[0];
  if (!dir) throw new EvalpredError('--cache CACHE_DIR is required.');
  const { manifest, evalPred } = asCacheError(dir, () => readCache(dir));
  const loop = loopRecordOf(manifest, dir);
  // The model folder the manifest names is read only after checking it (src/core/cache/producerPaths.ts).
  const modelDir = checkedModelDir(manifest).path;
  let tokenizer;
  if (modelDir) tokenizer = await loadTokenizer(modelDir).catch(() => undefined);
  // Samples are a nicety: arrays a view cannot make rows of (a (10^15, 0) shape) leave them out with the reason.
  let samples: ReturnType<typeof sampleViews> = [];
  let samplesSkipped: string | undefined;
  try {
    samples = sampleViews(evalPred, (p.flags.samples as number | undefined) ?? 5, { tokenizer, id2label: loop?.info.id2label, task: loop?.task, numReturnSequences: loop?.info.numReturnSequences });
  } catch (e) {
    if (isEvalpredError(e)) throw e;
    samplesSkipped = messageOf(e);
  }
  const arrays = asCacheError(dir, () => describeEvalPred(evalPred));
  // the settings the cache was made with (the metric file is not among them: it is not part of the cache key)
  const settings = (manifest.producer as { settings?: Partial<RunSettings> })?.settings;
  await addDatasetTexts(samples, manifest, loop?.info.columns, settings);
  const generation = settings?.predictWithGenerate ? generationForLints(modelDir) : undefined;
  const lints = await asCacheError(dir, () => lintEvalPredictionSliced({ evalPred, numSamples: manifest.num_samples, settings, task: loop?.task, generation }));
  if (p.flags.json) {
    process.stdout.write(
      JSON.stringify(
        {
          cache: path.resolve(dir),
          num_samples: manifest.num_samples,
          task: loop?.task ?? null,
          structure: {
            predictions: structureOf(evalPred.predictions),
            label_ids: structureOf(evalPred.labelIds),
            inputs: structureOf(evalPred.inputs),
            losses: structureOf(evalPred.losses),
          },
          arrays,
          samples,
          lints,
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const out = process.stdout;
  out.write(printable(`cache ${path.resolve(dir)}: ${manifest.num_samples} samples${loop ? `, ${loop.task}` : ''}, made ${manifest.created}`) + '\n\n');
  out.write(formatStructure(evalPred) + '\n\n' + formatArrays(arrays) + '\n');
  if (samplesSkipped) out.write(printable(`\nsamples not shown: ${samplesSkipped}`) + '\n');
  if (samples.length) out.write(`\nfirst samples${tokenizer ? '' : ' (model folder not found: inputs not decoded)'}:\n${formatSamples(samples)}\n`);
  for (const l of lints) out.write(printable(`\n${l.severity}: ${l.message}\n  fix: ${l.fix}`) + '\n');
  return 0;
}

/**
 * A library error while reading or summarising a cache's arrays, worded as what it is: a cache evalpred cannot use.
 * `fn` may return a promise (the lints run in slices): its rejection is worded the same way.
 */
function asCacheError<T>(dir: string, fn: () => T): T {
  const reworded = (e: unknown): unknown => {
    if (isEvalpredError(e)) return e;
    return new EvalpredError(`${dir}: the cache's arrays cannot be read or summarised (${messageOf(e)}); it may be damaged: run again to rebuild it.`, {
      file: dir,
    }, { cause: e });
  };
  try {
    const r = fn();
    return r instanceof Promise ? (r.catch((e: unknown) => Promise.reject(reworded(e))) as T) : r;
  } catch (e) {
    throw reworded(e);
  }
}

/**
 * The samples' input text from the dataset the manifest names, as `run`'s summary shows it, when that dataset
 * passes the checks for reading it (src/core/cache/producerPaths.ts). A nicety: without it the samples go on
 * without text. Doc-stride rows are features, not dataset rows: no text for them.
 */
async function addDatasetTexts(
  samples: ReturnType<typeof sampleViews>,
  manifest: Parameters<typeof checkedDataset>[0],
  columns: { text?: string; template?: string } | undefined,
  settings: Partial<RunSettings> | undefined,
): Promise<void> {
  if (!columns || (!columns.text && !columns.template) || settings?.docStride !== undefined) return;
  if (!samples.some((s) => s.input === undefined)) return;
  const checked = checkedDataset(manifest);
  if (!checked.path) return;
  const ds = await loadDataset(checked.path, { split: settings?.split }).catch(() => undefined);
  if (ds) addRowTexts(samples, ds, columns);
}
