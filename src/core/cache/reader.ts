// The one reader of prediction caches. Every consumer (the CLI's inspect and metrics, the debug adapter,
// the extension, the prediction view and, through checked paths, the Python worker) goes through
// checkCache, which validates the manifest once and bounds what reading the cache can cost:
//   - manifest.json is a regular file of bounded size, valid JSON, with bounded nesting (manifest.ts);
//   - every array lies inside the cache folder after resolving symlinks, is a regular file (a FIFO is
//     refused, never opened for a blocking read), and is listed once;
//   - its .npy header uses a dtype of the allow-list (NPY_DESCRS in tensor/dtype.ts), and the header's
//     shape x itemsize is exactly the data the file holds (a 4 KB file claiming 2 GB is refused at once);
//   - its rows are at most num_samples (per batch entry under a list: their sum is), losses excepted (checkRows).
// Damage is reported as damage of the cache, naming the array and the folder, never as a metric error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvalpredError, isEvalpredError, messageOf } from '../errors';
import { fileKind, NpyHeader, openNpyFile, readNpyFile, readNpyHeaderFile, readRegularFile } from '../tensor/npy';
import { EvalPredictionData, TensorNode } from '../tensor/tensor';
import { CacheManifest, EVAL_PREDICTION_KEYS, MANIFEST_FILE, predictionsPerSample, validateManifest } from './manifest';

/** manifest.json of a real cache is a few KB; a list node per batch of a big dataset stays well under this. */
const MAX_MANIFEST_BYTES = 32 * 1024 ** 2;
/**
 * A file whose allocated blocks cover less than 1/64 of its size is mostly holes: NumPy never writes such
 * a file, but `truncate -s 2G` does. Refused from this size up (small files may be stored inline).
 */
const SPARSE_CHECK_FROM_BYTES = 64 * 1024 ** 2;

export const FIELD_OF = { predictions: 'predictions', label_ids: 'labelIds', inputs: 'inputs', losses: 'losses' } as const;

/** One array of a checked cache: where the manifest lists it and the header read from the file. */
export interface CheckedArray {
  /** Its place in the manifest, e.g. `eval_prediction.predictions.tuple[1]`. */
  where: string;
  /** The file name as the manifest gives it. */
  name: string;
  /** Absolute path after resolving symlinks (inside the cache folder). */
  file: string;
  header: NpyHeader;
}

export type CheckedNode = { array: CheckedArray } | { tuple: CheckedNode[] } | { list: CheckedNode[] };

export interface CheckedCache {
  /** The folder as the caller named it (for messages). */
  shown: string;
  /** Absolute path, symlinks resolved. */
  root: string;
  manifest: CacheManifest;
  nodes: Record<(typeof EVAL_PREDICTION_KEYS)[number], CheckedNode | null>;
  /** The manifest's batch_inputs (docs/cache-format.md#batch-inputs), checked: every key but `main` has its per-batch list. */
  batchInputs: { keys: string[]; main: string; lists: Record<string, CheckedNode> } | null;
  /** Bytes of array data in all (what loading every array into memory costs). */
  totalBytes: number;
}

/** The error for a damaged cache: names the cache folder and the array, says how to repair it. */
export function cacheDamage(shown: string, why: string, place: { file?: string; tensor?: string } = {}): EvalpredError {
  return new EvalpredError(
    `the prediction cache ${shown} is damaged: ${why.replace(/\.+$/, '')}. It was not written by this evalpred as it is now; run the ` +
      `evaluation again (or import the dump again) to rebuild it.`,
    { file: place.file ?? shown, tensor: place.tensor },
  );
}

/** manifest.json: a regular file of bounded size holding JSON, validated (manifest.ts). */
function readManifestOf(root: string, shown: string): CacheManifest {
  const file = path.join(root, MANIFEST_FILE);
  const notCache = (why: string): never => {
    throw new EvalpredError(
      `${shown} is not an evalpred prediction cache: ${why}. (A folder without ${MANIFEST_FILE} is an unfinished or ` +
        `foreign folder; run \`evalpred run\` or \`evalpred import\` to make a cache.)`,
      { file: shown },
    );
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch (e) {
    return notCache((e as NodeJS.ErrnoException).code === 'ENOENT' ? `it has no ${MANIFEST_FILE} (the folder does not exist)` : messageOf(e));
  }
  if (!st.isDirectory()) notCache(`it is ${fileKind(st)}, not a folder`);
  let text: string;
  try {
    fs.statSync(file); // ENOENT -> "has no manifest.json" below
    text = readRegularFile(file, MAX_MANIFEST_BYTES, (size) =>
      cacheDamage(shown, `${MANIFEST_FILE} is ${size} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest can need`, { file }),
    ).toString('utf8');
  } catch (e) {
    if (isEvalpredError(e) && e.message.startsWith('the prediction cache')) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return notCache(`it has no ${MANIFEST_FILE}`);
    throw cacheDamage(shown, `${MANIFEST_FILE} cannot be read: ${messageOf(e)}`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new EvalpredError(`${file} is not valid JSON: ${messageOf(e)}`, { file });
  }
  return validateManifest(json, file);
}

/** A cache folder's validated manifest alone, without looking at any array. */
export function readCacheManifest(dir: string): CacheManifest {
  return readManifestOf(path.resolve(dir), dir);
}

/** The validated manifest, or undefined when `dir` holds no readable cache (for lists and status in the UI). */
export function tryReadCacheManifest(dir: string): CacheManifest | undefined {
  try {
    return readCacheManifest(dir);
  } catch {
    return undefined;
  }
}

function isInside(root: string, p: string): boolean {
  const r = path.relative(root, p);
  return r !== '' && !r.startsWith('..') && !path.isAbsolute(r);
}

/**
 * Validate a cache folder completely without loading any array data: manifest, containment, file kinds,
 * headers, sizes and rows. Throws a one-paragraph error naming the cache and the array at fault.
 */
export function checkCache(dir: string): CheckedCache {
  const shown = dir;
  const manifest = readManifestOf(path.resolve(dir), shown);
  const root = fs.realpathSync(path.resolve(dir));
  const mf = path.join(root, MANIFEST_FILE);
  const seen = new Map<string, string>();
  let totalBytes = 0;

  const checkArray = (name: string, where: string): CheckedArray => {
    const damaged = (why: string, file = mf): never => {
      throw cacheDamage(shown, `${where} (${JSON.stringify(name)}) ${why}`, { file, tensor: where });
    };
    const escape = (why: string): never => {
      throw new EvalpredError(`${mf}: ${where} names ${JSON.stringify(name)}, which ${why}; every file of a cache must lie inside its folder`, {
        file: mf,
        tensor: where,
      });
    };
    if (path.isAbsolute(name) || path.win32.isAbsolute(name) || name.startsWith('/') || name.startsWith('\\')) escape('is an absolute path');
    if (name.split(/[\\/]/).includes('..')) escape("climbs out with '..'");
    if (name.includes('\0')) damaged('contains a NUL character');
    const abs = path.resolve(root, name);
    if (!isInside(root, abs)) escape('points outside the cache folder');
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return damaged(`is missing (${abs})`, abs);
      return damaged(`cannot be resolved: ${messageOf(e)}`, abs);
    }
    if (!isInside(root, real)) escape(`is a symlink to ${real}, outside the cache folder`);
    const st = fs.statSync(real);
    if (!st.isFile()) damaged(`is ${fileKind(st)}, not a regular file`, real);
    const before = seen.get(real);
    if (before) damaged(`is the same file as ${before}; each array of a cache is its own file`, real);
    seen.set(real, where);
    if (st.size >= SPARSE_CHECK_FROM_BYTES && typeof st.blocks === 'number' && st.blocks > 0 && st.blocks * 512 * 64 < st.size) {
      damaged(`is a sparse file: ${st.size} bytes long but only ${st.blocks * 512} bytes are stored; NumPy never writes such a file`, real);
    }
    let header: NpyHeader;
    try {
      header = readNpyHeaderFile(real).header;
    } catch (e) {
      const why = messageOf(e).replace(`${real} is not a readable .npy file: `, '').replace(`${real}: `, '').replace(`${real} `, 'it ');
      return damaged(`is not a readable .npy file: ${why}`, real);
    }
    const need = header.dataOffset + header.dataBytes;
    if (st.size !== need) {
      damaged(
        `declares a ${header.dtype} array of shape (${header.shape.join(', ')}): ${header.dataBytes} bytes of data after a ` +
          `${header.dataOffset}-byte header, ${need} bytes in all, but the file has ${st.size} bytes` +
          (st.size < need ? ' (truncated?)' : ''),
        real,
      );
    }
    totalBytes += header.dataBytes;
    return { where, name, file: real, header };
  };

  const walk = (node: CacheManifest['eval_prediction']['predictions'] & object, where: string): CheckedNode => {
    if ('npy' in node) return { array: checkArray(node.npy, where) };
    if ('tuple' in node) return { tuple: node.tuple.map((c, i) => walk(c, `${where}.tuple[${i}]`)) };
    return { list: node.list.map((c, i) => walk(c, `${where}.list[${i}]`)) };
  };

  const nodes = {} as CheckedCache['nodes'];
  for (const k of EVAL_PREDICTION_KEYS) {
    const node = manifest.eval_prediction[k];
    nodes[k] = node ? walk(node, `eval_prediction.${k}`) : null;
  }
  const b = manifest.batch_inputs;
  const batchInputs = b
    ? { keys: [...b.keys], main: b.main, lists: Object.fromEntries(Object.entries(b.lists).map(([k, n]) => [k, walk(n, `batch_inputs.lists.${k}`)])) }
    : null;
  // num_return_sequences n: generate() returns n rows per input, so predictions may hold N x n (docs/cache-format.md)
  let perSample: number;
  try {
    perSample = predictionsPerSample(manifest, mf);
  } catch (e) {
    throw cacheDamage(shown, messageOf(e), { file: mf });
  }
  for (const k of EVAL_PREDICTION_KEYS) {
    const node = nodes[k];
    const per = k === 'predictions' ? perSample : 1;
    const what = per > 1 ? `${manifest.num_samples * per} rows (${manifest.num_samples} samples x ${per} return sequences)` : `${manifest.num_samples} samples`;
    if (node) checkRows(k, node, manifest.num_samples * per, what, (why, a) => cacheDamage(shown, why, { file: a?.file ?? mf, tensor: a?.where }));
  }
  if (batchInputs) checkBatchRows(batchInputs.lists, nodes.inputs, (why, a) => cacheDamage(shown, why, { file: a.file, tensor: a.where }));
  return { shown, root, manifest, nodes, batchInputs, totalBytes };
}

/** Each batch's arrays of a batch_inputs key have the rows of that batch's main input (they are one batch mapping). */
function checkBatchRows(lists: Record<string, CheckedNode>, inputs: CheckedNode | null, damage: (why: string, a: CheckedArray) => EvalpredError): void {
  const main = inputs && 'list' in inputs ? inputs.list : [];
  const rows = (n: CheckedNode): [number | undefined, CheckedArray | undefined] => {
    const a = [...checkedArrays(n)][0];
    return [a?.header.shape[0], a];
  };
  for (const list of Object.values(lists)) {
    if (!('list' in list)) continue;
    list.list.forEach((entry, i) => {
      const [r, a] = rows(entry);
      const [want, m] = main[i] ? rows(main[i]) : [undefined, undefined];
      if (a && m && r !== want) throw damage(`${a.where} has ${r ?? 'no'} rows, but batch ${i + 1}'s ${m.where} has ${want ?? 'no'}`, a);
    });
  }
}

/**
 * Rows against num_samples. The real Trainer hands compute_metrics fewer rows than len(eval_dataset) with
 * dataloader_drop_last, when only some batches have labels, or for a 0-d extra output (one value per batch);
 * and Seq2SeqTrainer's loss vector holds batch_size copies of every batch's loss, up to one batch more than
 * num_samples (docs/trainer-semantics.md#loss-averaging; all checked against the real Trainer, test/trainer).
 * So fewer rows are Trainer's (the rows-dropped lint says so), and more are damage except for `losses`. Under a
 * list (one entry per batch) the entries' rows add up.
 */
function checkRows(key: string, node: CheckedNode, numSamples: number, what: string, damage: (why: string, a?: CheckedArray) => EvalpredError): void {
  const more = (rows: number) => rows > numSamples && key !== 'losses';
  const rowsOf = (n: CheckedNode, top: boolean): number | undefined => {
    if ('array' in n) {
      const h = n.array.header;
      if (!h.shape.length) return undefined;
      if (top && more(h.shape[0])) {
        throw damage(`${n.array.where} has ${h.shape[0]} rows (shape (${h.shape.join(', ')})), more than the ${what} the cache holds`, n.array);
      }
      return h.shape[0];
    }
    if ('tuple' in n) {
      let rows: number | undefined;
      for (const c of n.tuple) rows = rowsOf(c, top) ?? rows;
      return rows;
    }
    let sum = 0;
    for (const c of n.list) sum += rowsOf(c, false) ?? 0;
    if (top && more(sum)) {
      throw damage(`the ${n.list.length} batch entries of a list add up to ${sum} rows, more than the ${what} the cache holds`);
    }
    return sum;
  };
  rowsOf(node, true);
}

/** Every checked array with its place, in manifest order. */
export function* checkedArrays(node: CheckedNode): Generator<CheckedArray> {
  if ('array' in node) yield node.array;
  else for (const c of 'tuple' in node ? node.tuple : node.list) yield* checkedArrays(c);
}

/**
 * Arrays up to this size are read into memory when the cache is opened; larger ones are file-backed
 * tensors, read by rows or chunks as they are used, so a cache larger than memory opens at once
 * (docs/cache-format.md#arrays-larger-than-memory). EVALPRED_EAGER_ARRAY_BYTES overrides it (tests).
 */
export function eagerArrayBytes(): number {
  const env = Number(process.env.EVALPRED_EAGER_ARRAY_BYTES);
  return Number.isFinite(env) && env >= 0 ? env : 64 * 1024 * 1024;
}

/**
 * Refuse to load more array data into memory than half of physical memory (only the arrays read whole
 * count: many arrays each under eagerArrayBytes() can still add up).
 */
function checkLoadable(c: CheckedCache, eager: number): void {
  const limit = Math.floor(os.totalmem() / 2);
  let total = 0;
  const all = [...Object.values(c.nodes), ...Object.values(c.batchInputs?.lists ?? {})];
  for (const node of all) if (node) for (const a of checkedArrays(node)) if (a.header.dataBytes <= eager) total += a.header.dataBytes;
  if (total > limit) {
    throw new EvalpredError(
      `the prediction cache ${c.shown} holds ${gib(total)} of arrays, more than half of this machine's memory ` +
        `(${gib(os.totalmem())}), so evalpred will not load it here. A Python compute_metrics reads it memory-mapped; to inspect it, ` +
        `evaluate fewer samples (--max-samples) or keep fewer outputs (preprocess_logits_for_metrics).`,
      { file: c.shown },
    );
  }
}

function gib(n: number): string {
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** Load the arrays of a checked cache (the large ones file-backed). */
export function loadCheckedCache(c: CheckedCache): EvalPredictionData {
  const eager = eagerArrayBytes();
  checkLoadable(c, eager);
  const load = (node: CheckedNode): TensorNode => {
    if ('array' in node) {
      const a = node.array;
      try {
        return a.header.dataBytes <= eager ? readNpyFile(a.file, a.header) : openNpyFile(a.file, a.header);
      } catch (e) {
        throw cacheDamage(c.shown, `${a.where} (${JSON.stringify(a.name)}) cannot be read: ${messageOf(e)}`, { file: a.file, tensor: a.where });
      }
    }
    if ('tuple' in node) return { tuple: node.tuple.map(load) };
    return { list: node.list.map(load) };
  };
  const ep: EvalPredictionData = { predictions: null, labelIds: null, inputs: null, losses: null };
  for (const k of EVAL_PREDICTION_KEYS) {
    const node = c.nodes[k];
    if (node) ep[FIELD_OF[k]] = load(node);
  }
  const b = c.batchInputs;
  if (b) ep.batchInputs = { keys: [...b.keys], main: b.main, lists: Object.fromEntries(Object.entries(b.lists).map(([k, n]) => [k, load(n)])) };
  return ep;
}

/** Check and load a cache folder: its validated manifest and the EvalPrediction it holds. */
export function readCache(dir: string): { manifest: CacheManifest; evalPred: EvalPredictionData } {
  const checked = checkCache(dir);
  return { manifest: checked.manifest, evalPred: loadCheckedCache(checked) };
}

/** True when `dir` holds a valid, intact cache made for `key`. */
export function isCacheFor(dir: string, key: string): boolean {
  try {
    if (readCacheManifest(dir).key !== key) return false;
    checkCache(dir);
    return true;
  } catch {
    return false;
  }
}

/** A JSON attachment can hold every example's context of a large evaluation set; beyond this it is damage. */
const MAX_ATTACHMENT_BYTES = 1024 ** 3;

/**
 * A named JSON attachment of a cache (docs/cache-format.md#attachments), parsed, or undefined when the manifest lists
 * none of that name. Read with the arrays' bounds: inside the folder after resolving symlinks, a regular file, capped.
 */
export function readAttachment(dir: string, name: string): unknown {
  const manifest = readCacheManifest(dir);
  const rel = manifest.attachments?.[name];
  if (rel === undefined) return undefined;
  const root = fs.realpathSync(path.resolve(dir));
  const where = `attachments.${name}`;
  const damaged = (why: string, file?: string): never => {
    throw cacheDamage(dir, `${where} (${JSON.stringify(rel)}) ${why}`, { file: file ?? path.join(root, MANIFEST_FILE), tensor: where });
  };
  let real: string;
  try {
    real = fs.realpathSync(path.join(root, rel));
  } catch (e) {
    return damaged((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be resolved: ${messageOf(e)}`);
  }
  if (!isInside(root, real)) damaged(`is a symlink to ${real}, outside the cache folder`);
  let text: string;
  try {
    text = readRegularFile(real, MAX_ATTACHMENT_BYTES, (size) => cacheDamage(dir, `${where} is ${size} bytes, more than ${MAX_ATTACHMENT_BYTES}`, { file: real })).toString('utf8');
  } catch (e) {
    if (isEvalpredError(e)) throw e;
    return damaged(`cannot be read: ${messageOf(e)}`, real);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return damaged(`is not valid JSON: ${messageOf(e)}`, real);
  }
}
