// One evaluation, as the CLI, the debug adapter and the extension run it:
// key -> (cached EvalPrediction | loop in a worker -> atomic cache write) -> boundary hook -> metrics.
// Data flows one way; every shell above this file only renders what it returns.
import fs from 'node:fs';
import path from 'node:path';
import { cacheKey, contentHashes, filesUnder } from './cache/hash';
import type { Evaluation } from './cache/evaluation';
import { CACHE_FORMAT, type CacheManifest } from './cache/manifest';
import { PendingCacheWrite, abandonCacheWrite, beginCacheWrite, commitCacheFiles, isCacheFor, readCache, toolVersion } from './cache/store';
import { BatchInputsNodes, CacheNode, EVAL_PREDICTION_KEYS, EvalPredictionNodes } from './cache/manifest';
import { FIELD_OF } from './cache/reader';
import { Tensor, TensorNode } from './tensor/tensor';
import { EvalpredError } from './errors';
import { GateDecision, WorkerRunOptions, runLoopInWorker } from './loopWorker/runInWorker';
import { RunSettings, loopKeySettings } from './loop/settings';
import type { LoopRecord, LoopResult } from './loop/types';
import { QA_ATTACHMENT, qaRecordToJson } from './loop/qaFeatures';
import { mentionsPreprocess } from './metrics/metricFunction';
import { TOKENIZATION_RULES, TOKENIZER_FILES } from './text/tokenizer';



// The shapes evaluate() returns live below metrics/ (cache/evaluation.ts, loop/types.ts); the shells take them from here.
export type { Evaluation } from './cache/evaluation';
export type { LoopRecord } from './loop/types';

export interface EvaluateOptions extends WorkerRunOptions {
  /** Working directory for the default cache location. */
  cwd?: string;
  /** Ignore a matching cache and run the model again. */
  refresh?: boolean;
}

// evalpred's version: one definition, the cache store's (read once from package.json).
export { toolVersion };

/** The cache key: content hashes of model + tokenizer files and dataset files, every loop setting, tool version. */
export async function evaluationKey(settings: RunSettings): Promise<{ key: string; producer: Record<string, unknown> }> {
  if (!fs.existsSync(settings.model)) throw new EvalpredError(`model folder ${settings.model} does not exist.`, { file: settings.model });
  if (!fs.existsSync(settings.dataset)) throw new EvalpredError(`dataset ${settings.dataset} does not exist.`, { file: settings.dataset });
  const rel = (root: string, hs: { path: string; sha256: string; bytes: number }[]) =>
    hs.map((h) => ({ file: path.relative(fs.statSync(root).isFile() ? path.dirname(root) : root, h.path) || path.basename(h.path), sha256: h.sha256, bytes: h.bytes }));
  const model = rel(settings.model, await contentHashes(filesUnder(settings.model)));
  const dataset = rel(settings.dataset, await contentHashes(filesUnder(settings.dataset)));
  const loopSettings = loopKeySettings(settings);
  // A metric file that defines preprocess_logits_for_metrics changes the predictions, so it is part of the key.
  const preprocessor =
    settings.metrics && fs.existsSync(settings.metrics) && mentionsPreprocess(fs.readFileSync(settings.metrics, 'utf8'))
      ? (await contentHashes([settings.metrics]))[0].sha256
      : null;
  const tool = { name: 'evalpred', version: toolVersion() };
  const key = cacheKey({ format: CACHE_FORMAT, tool, tokenization: TOKENIZATION_RULES, model, dataset, settings: loopSettings, preprocessor });
  const producer = {
    model: { path: path.resolve(settings.model), files: model },
    dataset: { path: path.resolve(settings.dataset), split: settings.split ?? null, files: dataset },
    settings: loopSettings,
    preprocessor,
  };
  return { key, producer };
}

export function defaultCacheDir(key: string, cwd = process.cwd()): string {
  return path.join(cwd, '.evalpred', 'cache', key.slice(0, 16));
}

/**
 * The content part of the tokenized-features key: the tokenizer files and the dataset files (their hashes from
 * the prediction cache key's producer record), the split and the tool version. The loop adds the text settings.
 */
export function featuresInputs(producer: Record<string, unknown>): string {
  const p = producer as { model: { files: { file: string }[] }; dataset: { split: string | null; files: unknown[] } };
  const tokenizer = p.model.files.filter((f) => (TOKENIZER_FILES as readonly string[]).includes(f.file));
  return cacheKey({ tool: { name: 'evalpred', version: toolVersion() }, tokenization: TOKENIZATION_RULES, tokenizer, dataset: { split: p.dataset.split, files: p.dataset.files } });
}

/**
 * Where tokenized features are kept for a run whose predictions go to `cacheDir`: beside evalpred's own cache
 * root (`…/.evalpred/cache/<key>` → `…/.evalpred/features`), and nowhere for a folder the user named elsewhere
 * with --out, since a run writes only where it was told (docs/cache-format.md#tokenized-features).
 */
export function featuresDirFor(cacheDir: string): string | undefined {
  const root = path.dirname(path.resolve(cacheDir));
  if (path.basename(root) !== 'cache' || path.basename(path.dirname(root)) !== '.evalpred') return undefined;
  return path.join(path.dirname(root), 'features');
}

export async function evaluate(settings: RunSettings, opts: EvaluateOptions = {}): Promise<Evaluation> {
  // The worker starts at once and opens the model, tokenizer and dataset while this thread hashes them for the
  // key; it runs the loop only once the key misses the cache and the output folder is accepted (docs/architecture.md#processes).
  let decide!: (d: GateDecision) => void;
  const gate = new Promise<GateDecision>((r) => (decide = r));
  const running = runLoopInWorker(settings, { ...opts, gate });
  running.catch(() => {}); // awaited below when the run goes ahead; a cached or refused run drops it
  let pending: PendingCacheWrite;
  let key: string, producer: Record<string, unknown>, cacheDir: string;
  try {
    ({ key, producer } = await evaluationKey(settings));
    cacheDir = settings.cache ?? defaultCacheDir(key, opts.cwd);
    if (!opts.refresh && isCacheFor(cacheDir, key)) {
      const { manifest, evalPred } = readCache(cacheDir);
      const loop = loopRecordOf(manifest, cacheDir);
      if (loop) {
        decide({ run: false });
        opts.onLog?.(`reusing cached predictions in ${cacheDir} (same model, dataset and settings)`);
        return { cacheDir, fromCache: true, manifest, evalPred, loop };
      }
    }
    // The output folder is checked (and its temp folder reserved) before the model runs: a folder evalpred
    // may not replace is refused at once, not after the whole loop.
    pending = beginCacheWrite(cacheDir);
  } catch (e) {
    decide({ run: false });
    throw e;
  }
  let result: LoopResult;
  let nodes: EvalPredictionNodes;
  let batchInputs: BatchInputsNodes | undefined;
  try {
    // The arrays stream into the reserved temp folder as the batches come (loop/spool.ts): memory stays
    // O(batch) and the cache's files are written once, by the loop. Tokenized features live beside
    // evalpred's own cache root only (featuresDirFor).
    const featuresDir = featuresDirFor(cacheDir);
    decide({ run: true, spoolDir: pending.tmp, featuresCache: featuresDir ? { dir: featuresDir, inputs: featuresInputs(producer) } : undefined });
    result = await running;
    nodes = spooledNodes(result, pending.tmp);
    batchInputs = spooledBatchInputs(result, pending.tmp);
  } catch (e) {
    abandonCacheWrite(pending);
    throw e;
  }
  const { evalPred: _spooled, qa, firstRowTexts, ...loop } = result;
  const manifest = commitCacheFiles(pending, nodes, {
    numSamples: result.numSamples,
    key,
    producer,
    // generate()'s num_return_sequences: the reader then allows N x n prediction rows (docs/cache-format.md)
    extra: loop.info.numReturnSequences ? { loop, num_return_sequences: loop.info.numReturnSequences } : { loop },
    // run_qa's examples and features, for the post-processing at every metric run (metrics/qaPostprocess.ts)
    attachments: qa ? { [QA_ATTACHMENT]: qaRecordToJson(qa) } : undefined,
  }, batchInputs);
  // Read back through the one reader: small arrays in memory, large ones file-backed (docs/cache-format.md#arrays-larger-than-memory).
  const { evalPred } = readCache(cacheDir);
  return { cacheDir, fromCache: false, manifest, evalPred, loop, ...(firstRowTexts ? { firstRowTexts } : {}) };
}

/** The manifest node of a spooled tensor node: every tensor is a file the loop wrote in `dir`. */
function spooledNode(n: TensorNode, dir: string): CacheNode {
  if (n instanceof Tensor) {
    const file = n.backing?.file;
    if (!file || path.dirname(path.resolve(file)) !== path.resolve(dir)) throw new Error(`internal: a ${n} array of the loop's result is not a file in ${dir}`);
    return { npy: path.basename(file) };
  }
  return 'tuple' in n ? { tuple: n.tuple.map((c) => spooledNode(c, dir)) } : { list: n.list.map((c) => spooledNode(c, dir)) };
}

/** The manifest nodes of a spooled result. */
function spooledNodes(result: LoopResult, dir: string): EvalPredictionNodes {
  const nodes = {} as EvalPredictionNodes;
  for (const k of EVAL_PREDICTION_KEYS) {
    const n = result.evalPred[FIELD_OF[k]];
    nodes[k] = n ? spooledNode(n, dir) : null;
  }
  return nodes;
}

/** The manifest's batch_inputs of a spooled result (batch_eval_metrics with inputs), if any. */
function spooledBatchInputs(result: LoopResult, dir: string): BatchInputsNodes | undefined {
  const b = result.evalPred.batchInputs;
  if (!b) return undefined;
  return { keys: [...b.keys], main: b.main, lists: Object.fromEntries(Object.entries(b.lists).map(([k, n]) => [k, spooledNode(n, dir)])) };
}

/**
 * The `loop` record a cache's manifest carries (what the run reported), checked field by field: a hand-edited
 * or foreign manifest gets one sentence naming manifest.json and the field, never a TypeError later on.
 */
export function loopRecordOf(manifest: CacheManifest, cacheDir: string): LoopRecord | undefined {
  const loop = manifest.loop;
  if (loop === undefined) return undefined;
  const file = path.join(cacheDir, 'manifest.json');
  const fail = (field: string, want: string, got: unknown): never => {
    throw new EvalpredError(
      `${file}: "${field}" is ${JSON.stringify(got)?.slice(0, 80) ?? 'undefined'}, not ${want}. The manifest was changed or written by another ` +
        `tool; remove "loop" from it, or run \`evalpred run\` again to rebuild the cache.`,
      { file, column: field },
    );
  };
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(loop)) return fail('loop', 'an object', loop);
  const num = (k: string, nullable = false) => {
    const v = loop[k];
    if (!(typeof v === 'number' && Number.isFinite(v)) && !(nullable && v === null)) fail(`loop.${k}`, nullable ? 'a number or null' : 'a number', v);
  };
  if (typeof loop.task !== 'string') fail('loop.task', 'a task name', loop.task);
  num('numSamples');
  num('runtimeSeconds');
  num('numSteps');
  num('evalLoss', true);
  if (!Array.isArray(loop.notes) || loop.notes.some((n) => typeof n !== 'string')) fail('loop.notes', 'a list of strings', loop.notes);
  if (!isObj(loop.info)) return fail('loop.info', 'an object', loop.info);
  if (loop.info.id2label !== undefined && !isObj(loop.info.id2label)) fail('loop.info.id2label', 'an object of label names', loop.info.id2label);
  if (!isObj(loop.info.columns)) fail('loop.info.columns', 'an object', loop.info.columns);
  return loop as unknown as LoopRecord;
}
