// The prediction cache's manifest.json (design.md, "Prediction cache"): what produced the cache and where
// each EvalPrediction field's arrays are. Fields beyond the contract are allowed (e.g. `loop`), and kept.
import { EvalpredError } from '../errors';

export const CACHE_FORMAT = 'evalpred-cache/1';
export const MANIFEST_FILE = 'manifest.json';

export type CacheNode = { npy: string } | { tuple: CacheNode[] } | { list: CacheNode[] };

export interface EvalPredictionNodes {
  predictions: CacheNode | null;
  label_ids: CacheNode | null;
  inputs: CacheNode | null;
  losses: CacheNode | null;
}

export const EVAL_PREDICTION_KEYS = ['predictions', 'label_ids', 'inputs', 'losses'] as const;

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
  [extra: string]: unknown;
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
  for (const k of EVAL_PREDICTION_KEYS) if (ep[k] !== null) checkNode(ep[k], `eval_prediction.${k}`, fail);
  if (ep.predictions === null) fail('"eval_prediction.predictions" is null; a cache always holds predictions');

  const m = json as CacheManifest;
  if (!('created' in json)) {
    const time = (json.producer as Record<string, unknown>).time;
    m.created = typeof time === 'string' ? time : 'unknown';
  }
  if (!('tool' in json)) m.tool = { name: 'evalpred', version: 'unknown' };
  return m;
}

function checkNode(node: unknown, where: string, fail: (why: string) => never): void {
  const forms = 'one of {"npy": "file.npy"}, {"tuple": [...]}, {"list": [...]} or null';
  if (!isObject(node)) fail(`${where} is ${describe(node)}, not ${forms}`);
  const n = node as Record<string, unknown>;
  const kinds = ['npy', 'tuple', 'list'].filter((k) => k in n);
  if (kinds.length !== 1) fail(`${where} is ${JSON.stringify(node).slice(0, 120)}, not ${forms}`);
  const kind = kinds[0];
  if (kind === 'npy') {
    if (typeof n.npy !== 'string' || !n.npy) fail(`${where}.npy is ${JSON.stringify(n.npy)}, not a file name`);
    return;
  }
  const items = n[kind];
  if (!Array.isArray(items)) return fail(`${where}.${kind} is ${describe(items)}, not an array of nodes`);
  items.forEach((child, i) => checkNode(child, `${where}.${kind}[${i}]`, fail));
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
