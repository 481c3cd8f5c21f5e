// The prediction cache's manifest.json (docs/cache-format.md): what produced the cache and where
// each EvalPrediction field's arrays are. Fields beyond the contract are allowed (e.g. `loop`), and kept.
import { EvalpredError } from '../errors';

export const CACHE_FORMAT = 'evalpred-cache/1';
export const MANIFEST_FILE = 'manifest.json';
/**
 * How deep tuples/lists may nest. evalpred writes at most a few levels (a tuple of outputs, one of them a
 * pair); the bound keeps a hostile manifest (5,000 nested tuples) from exhausting the stack.
 */
export const MAX_NODE_DEPTH = 32;
/** Arrays one cache may list (a list node holds one entry per batch). */
export const MAX_NODE_FILES = 100_000;

export type CacheNode = { npy: string } | { tuple: CacheNode[] } | { list: CacheNode[] };

export interface EvalPredictionNodes {
  predictions: CacheNode | null;
  label_ids: CacheNode | null;
  inputs: CacheNode | null;
  losses: CacheNode | null;
}

export const EVAL_PREDICTION_KEYS = ['predictions', 'label_ids', 'inputs', 'losses'] as const;

/**
 * `batch_inputs` (docs/cache-format.md#batch-inputs): batch_eval_metrics' inputs, the whole batch mapping of each
 * call. `keys` in the collator's order; the per-batch arrays of `main` are eval_prediction.inputs; `lists` holds
 * a per-batch list node for every other key.
 */
export interface BatchInputsNodes {
  keys: string[];
  main: string;
  lists: Record<string, CacheNode>;
}
/** A batch key is an identifier (it names files: batch_inputs_<key>_b<i>.npy); a mapping has at most this many. */
const BATCH_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_BATCH_KEYS = 64;

export interface CacheManifest {
  format: typeof CACHE_FORMAT;
  num_samples: number;
  /** The cache key (see hash.ts cacheKey): same key = same model, dataset and settings. */
  key: string;
  /** ISO time of writing. */
  created: string;
  tool: { name: 'evalpred'; version: string };
  /** Model files + hashes, dataset + hash, every loop setting: filled by the caller. */
  producer: Record<string, unknown>;
  eval_prediction: EvalPredictionNodes;
  /** Named JSON files beside the arrays (docs/cache-format.md#attachments), e.g. "qa_postprocess". */
  attachments?: Record<string, string>;
  batch_inputs?: BatchInputsNodes;
  [extra: string]: unknown;
}

/**
 * Prediction rows per sample: generate()'s num_return_sequences (predictions hold N x n rows, each input's n best
 * together, labels N; docs/cache-format.md). 1 when the manifest does not say; a bad value is damage.
 */
export function predictionsPerSample(manifest: CacheManifest, file: string): number {
  const v = manifest.num_return_sequences;
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new EvalpredError(`${file}: "num_return_sequences" is ${JSON.stringify(v)}, not a positive integer.`, { file, column: 'num_return_sequences' });
  }
  return v;
}

/** Attachment names are identifiers; each is stored as `<name>.json` in the cache folder. */
const ATTACHMENT_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export function attachmentFile(name: string): string {
  if (!ATTACHMENT_NAME.test(name)) throw new Error(`internal: attachment name ${JSON.stringify(name)} is not an identifier`);
  return `${name}.json`;
}

/**
 * Check parsed manifest.json text and return it typed. `file` names the manifest in errors.
 * Foreign writers (evalpred.capture in a training job) may omit `created` and `tool`: these are then
 * filled from `producer.time` (or "unknown") and `{name: "evalpred", version: "unknown"}`.
 */
export function validateManifest(json: unknown, file: string): CacheManifest {
  const fail = (why: string): never => {
    throw new EvalpredError(`${file} is not a valid evalpred cache manifest: ${why}`, { file });
  };
  if (!isObject(json)) return fail(`it holds ${describe(json)}, not a JSON object`);
  if (json.format !== CACHE_FORMAT) {
    fail(
      json.format === undefined
        ? `it has no "format" key (expected "${CACHE_FORMAT}")`
        : `"format" is ${JSON.stringify(json.format)}, expected "${CACHE_FORMAT}" (written by another version of evalpred?)`,
    );
  }
  const missing = ['num_samples', 'key', 'producer', 'eval_prediction'].filter((k) => !(k in json));
  if (missing.length) fail(`missing key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')}`);
  if (typeof json.num_samples !== 'number' || !Number.isSafeInteger(json.num_samples) || json.num_samples < 0) {
    fail(`"num_samples" is ${JSON.stringify(json.num_samples)}, not a non-negative integer`);
  }
  if (typeof json.key !== 'string' || !json.key) fail(`"key" is ${JSON.stringify(json.key)}, not a non-empty string`);
  if (!isObject(json.producer)) fail(`"producer" is ${describe(json.producer)}, not an object`);
  if ('created' in json && typeof json.created !== 'string') fail(`"created" is ${describe(json.created)}, not an ISO time string`);
  if ('tool' in json) {
    const t = json.tool;
    if (!isObject(t) || t.name !== 'evalpred' || typeof t.version !== 'string') {
      fail(`"tool" is ${JSON.stringify(t)}, expected {"name": "evalpred", "version": "..."}`);
    }
  }
  const ep = json.eval_prediction;
  if (!isObject(ep)) return fail(`"eval_prediction" is ${describe(ep)}, not an object`);
  const absent = EVAL_PREDICTION_KEYS.filter((k) => !(k in ep));
  if (absent.length) fail(`"eval_prediction" lacks ${absent.map((k) => `"${k}"`).join(', ')} (each is a node or null)`);
  const count = { files: 0 };
  for (const k of EVAL_PREDICTION_KEYS) if (ep[k] !== null) checkNode(ep[k], `eval_prediction.${k}`, fail, 0, count);
  if (ep.predictions === null) fail('"eval_prediction.predictions" is null; a cache always holds predictions');

  if ('batch_inputs' in json) checkBatchInputs(json.batch_inputs, ep.inputs, fail, count);

  if ('attachments' in json) {
    const a = json.attachments;
    if (!isObject(a)) fail(`"attachments" is ${describe(a)}, not an object of file names`);
    for (const [k, v] of Object.entries(a as Record<string, unknown>)) {
      if (!ATTACHMENT_NAME.test(k) || v !== `${k}.json`) fail(`"attachments.${k.slice(0, 60)}" is ${JSON.stringify(v)?.slice(0, 80)}, expected "${k.slice(0, 60)}.json"`);
    }
  }
  const m = json as CacheManifest;
  checkProducerAndLoop(json, fail);

  if (!('created' in json)) {
    const time = (json.producer as Record<string, unknown>).time;
    m.created = typeof time === 'string' ? time : 'unknown';
  }
  if (!('tool' in json)) m.tool = { name: 'evalpred', version: 'unknown' };
  return m;
}

function checkBatchInputs(b: unknown, inputs: unknown, fail: (why: string) => never, count: { files: number }): void {
  const form = '{"keys": [...], "main": "input_ids", "lists": {...}}';
  if (!isObject(b)) return fail(`"batch_inputs" is ${describe(b)}, not ${form}`);
  const keys = b.keys;
  if (!Array.isArray(keys) || !keys.length || keys.length > MAX_BATCH_KEYS || keys.some((k) => typeof k !== 'string' || !BATCH_KEY.test(k))) {
    fail(`"batch_inputs.keys" is ${JSON.stringify(keys)?.slice(0, 120)}, not a list of 1 to ${MAX_BATCH_KEYS} identifiers`);
  }
  const names = keys as string[];
  const twice = names.find((k, i) => names.indexOf(k) !== i);
  if (twice) fail(`"batch_inputs.keys" names "${twice}" twice`);
  if (typeof b.main !== 'string' || !names.includes(b.main)) fail(`"batch_inputs.main" is ${JSON.stringify(b.main)?.slice(0, 80)}, not one of "batch_inputs.keys"`);
  if (!isObject(inputs) || !Array.isArray(inputs.list)) fail(`"batch_inputs" needs "eval_prediction.inputs" as a per-batch list (it holds the "${String(b.main)}" of each batch)`);
  const batches = (inputs as { list: unknown[] }).list.length;
  const lists = b.lists;
  if (!isObject(lists)) return fail(`"batch_inputs.lists" is ${describe(lists)}, not an object of per-batch list nodes`);
  const want = names.filter((k) => k !== b.main);
  const have = Object.keys(lists);
  const stray = have.find((k) => !want.includes(k));
  if (stray !== undefined) fail(`"batch_inputs.lists" holds "${stray.slice(0, 64)}", which is not one of "batch_inputs.keys" besides "batch_inputs.main"`);
  const absent = want.find((k) => !have.includes(k));
  if (absent !== undefined) fail(`"batch_inputs.lists" lacks "${absent}" (every key but "batch_inputs.main" has its per-batch list)`);
  for (const k of want) {
    const where = `batch_inputs.lists.${k}`;
    checkNode(lists[k], where, fail, 0, count);
    const n = lists[k] as Record<string, unknown>;
    if (!Array.isArray(n.list)) fail(`${where} is not a {"list": [...]} node (one entry per batch)`);
    if ((n.list as unknown[]).length !== batches) fail(`${where} has ${(n.list as unknown[]).length} batch entries, "eval_prediction.inputs" ${batches}`);
  }
}

function checkNode(node: unknown, where: string, fail: (why: string) => never, depth: number, count: { files: number }): void {
  const forms = 'one of {"npy": "file.npy"}, {"tuple": [...]}, {"list": [...]} or null';
  if (depth > MAX_NODE_DEPTH) fail(`${where.slice(0, 60)}... nests tuples/lists more than ${MAX_NODE_DEPTH} levels deep`);
  if (!isObject(node)) fail(`${where} is ${describe(node)}, not ${forms}`);
  const n = node as Record<string, unknown>;
  const kinds = ['npy', 'tuple', 'list'].filter((k) => k in n);
  if (kinds.length !== 1) fail(`${where} is ${JSON.stringify(node).slice(0, 120)}, not ${forms}`);
  const kind = kinds[0];
  if (kind === 'npy') {
    if (typeof n.npy !== 'string' || !n.npy) fail(`${where}.npy is ${JSON.stringify(n.npy)}, not a file name`);
    if (++count.files > MAX_NODE_FILES) fail(`it lists more than ${MAX_NODE_FILES} arrays`);
    return;
  }
  const items = n[kind];
  if (!Array.isArray(items)) return fail(`${where}.${kind} is ${describe(items)}, not an array of nodes`);
  items.forEach((child, i) => checkNode(child, `${where}.${kind}[${i}]`, fail, depth + 1, count));
}

/** The parts of `producer` and `loop` that readers use (paths, task, labels) must have the types they expect. */
function checkProducerAndLoop(json: Record<string, unknown>, fail: (why: string) => never): void {
  const producer = json.producer as Record<string, unknown>;
  for (const k of ['model', 'dataset']) {
    const v = producer[k];
    if (v === undefined || v === null) continue;
    if (!isObject(v)) fail(`"producer.${k}" is ${describe(v)}, not an object`);
    const p = (v as Record<string, unknown>).path;
    if (p !== undefined && p !== null && typeof p !== 'string') fail(`"producer.${k}.path" is ${describe(p)}, not a path string`);
  }
  if (!('loop' in json) || json.loop === null) return;
  const loop = json.loop;
  if (!isObject(loop)) return fail(`"loop" is ${describe(loop)}, not the loop record object evalpred writes`);
  if ('task' in loop && typeof loop.task !== 'string') fail(`"loop.task" is ${describe(loop.task)}, not a task name`);
  if ('notes' in loop && (!Array.isArray(loop.notes) || loop.notes.some((x) => typeof x !== 'string'))) fail('"loop.notes" is not a list of strings');
  if (!('info' in loop)) return;
  const info = loop.info;
  if (!isObject(info)) return fail(`"loop.info" is ${describe(info)}, not an object`);
  if ('id2label' in info && info.id2label !== null && info.id2label !== undefined) {
    const labels = info.id2label;
    if (!isObject(labels) || Object.values(labels).some((x) => typeof x !== 'string')) fail('"loop.info.id2label" is not an object of label names');
  }
  if ('labelNames' in info && info.labelNames !== undefined && (!Array.isArray(info.labelNames) || info.labelNames.some((x) => typeof x !== 'string'))) {
    fail('"loop.info.labelNames" is not a list of label names');
  }
}

/** Every .npy path a node names, with its place in the manifest (for error messages). */
export function* nodeFiles(node: CacheNode, where: string): Generator<[string, string]> {
  if ('npy' in node) yield [where, node.npy];
  else if ('tuple' in node) for (const [i, c] of node.tuple.entries()) yield* nodeFiles(c, `${where}.tuple[${i}]`);
  else for (const [i, c] of node.list.entries()) yield* nodeFiles(c, `${where}.list[${i}]`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
