// The on-disk prediction cache: a folder of .npy files plus manifest.json (docs/cache-format.md).
// Writes are atomic: everything goes into a sibling `<dir>.partial-<pid>-<random>` folder, manifest.json
// last, and only then is it renamed into place. So a crash or cancel leaves either the previous cache or
// a temp-named folder, never a folder named like the cache that lacks files. Which folders may be replaced
// and how temp folders are cleaned: outputFolder.ts.
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, describeWriteError, isEvalpredError, messageOf } from '../errors';
import { packageRoot } from '../paths';
import { readNpyHeaderFile, writeNpyFile } from '../tensor/npy';
import { EvalPredictionData, Tensor, TensorNode } from '../tensor/tensor';
import { assertCacheTarget, removeLeftovers, swapIntoPlace, tempName } from './outputFolder';
import { BatchInputsNodes, CACHE_FORMAT, CacheManifest, CacheNode, EVAL_PREDICTION_KEYS, EvalPredictionNodes, MANIFEST_FILE, attachmentFile, nodeFiles } from './manifest';
import { FIELD_OF } from './reader';
import { batchInputsFile } from '../loop/spool';

export type { CacheManifest, CacheNode } from './manifest';

export interface CacheMeta {
  numSamples: number;
  key: string;
  producer: Record<string, unknown>;
  /** Extra top-level manifest fields (e.g. `loop`); may not reuse a contract key. */
  extra?: Record<string, unknown>;
  /** JSON files written beside the arrays and listed under the manifest's `attachments` (docs/cache-format.md#attachments). */
  attachments?: Record<string, unknown>;
}

const RESERVED = new Set(['format', 'num_samples', 'key', 'created', 'tool', 'producer', 'eval_prediction', 'attachments', 'batch_inputs']);

let version: string | undefined;
/** evalpred's version, from its package.json (read once). */
export function toolVersion(): string {
  if (version === undefined) {
    try {
      version = String(JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version);
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

/** A cache write in progress: the target was checked and a temp folder beside it reserved. */
export interface PendingCacheWrite {
  target: string;
  tmp: string;
  shown: string;
}

/**
 * Check that a cache may be written at `dir` (absent, empty, or an earlier evalpred cache; see
 * outputFolder.ts), clean what killed runs left beside it, and reserve the temp folder. Call this before
 * the work that produces the cache, so a refused folder costs nothing.
 */
export function beginCacheWrite(dir: string): PendingCacheWrite {
  const target = path.resolve(dir);
  assertCacheTarget(dir);
  removeLeftovers(target);
  const tmp = tempName(target, 'partial');
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.mkdirSync(tmp);
  } catch (e) {
    throw new EvalpredError(`cannot write the prediction cache to ${dir}: ${describeWriteError(e, dir)}.`, { file: dir }, { cause: e });
  }
  return { target, tmp, shown: dir };
}

/** Give up a reserved write (the run failed or was cancelled): its temp folder goes, nothing else changes. */
export function abandonCacheWrite(pending: PendingCacheWrite): void {
  fs.rmSync(pending.tmp, { recursive: true, force: true });
}

/** Write `ep` as a cache folder at `dir`, replacing a previous cache there. Returns the manifest written. */
export function writeCache(dir: string, ep: EvalPredictionData, meta: CacheMeta): CacheManifest {
  return commitCacheWrite(beginCacheWrite(dir), ep, meta);
}

/** Fill the reserved temp folder, manifest last, and rename it into place. */
export function commitCacheWrite(pending: PendingCacheWrite, ep: EvalPredictionData, meta: CacheMeta): CacheManifest {
  return finishCacheWrite(pending, meta, () => {
    if (!ep.predictions) throw new Error('writeCache: an EvalPrediction without predictions cannot be cached');
    const nodes = {} as EvalPredictionNodes;
    for (const k of EVAL_PREDICTION_KEYS) {
      const node = ep[FIELD_OF[k]];
      nodes[k] = node ? writeNode(pending.tmp, node, k) : null;
    }
    const b = ep.batchInputs;
    if (!b) return { nodes };
    const lists = Object.fromEntries(Object.entries(b.lists).map(([k, n]) => [k, writeNode(pending.tmp, n, batchInputsFile(k))]));
    return { nodes, batchInputs: { keys: [...b.keys], main: b.main, lists } };
  });
}


/**
 * Where a writer that produces its own files (streamed, never whole in memory) puts the array `name` of a
 * reserved write: a bare `.npy` file name inside the temp folder. The writer creates the file; then
 * commitCacheFiles lists it in the manifest.
 */
export function pendingFile(pending: PendingCacheWrite, name: string): string {
  if (!/^[A-Za-z0-9_.-]+\.npy$/.test(name) || name.startsWith('.')) throw new Error(`pendingFile: "${name}" is not a bare .npy file name`);
  return path.join(pending.tmp, name);
}

/**
 * Commit a reserved write whose arrays the caller already wrote with pendingFile: every file `nodes` lists
 * must be there, a regular file whose .npy header accounts for its size, and nothing else may be in the
 * folder (a cache holds only what its manifest lists; docs/cache-format.md). Then the manifest goes in last
 * and the folder is renamed into place, as for commitCacheWrite. On failure the temp folder is removed.
 */
export function commitCacheFiles(pending: PendingCacheWrite, nodes: EvalPredictionNodes, meta: CacheMeta, batchInputs?: BatchInputsNodes): CacheManifest {
  return finishCacheWrite(pending, meta, () => {
    if (!nodes.predictions) throw new Error('commitCacheFiles: a cache always holds predictions');
    const listed = new Set<string>();
    const all: [string, CacheNode | null][] = EVAL_PREDICTION_KEYS.map((k) => [`eval_prediction.${k}`, nodes[k]]);
    for (const [k, n] of Object.entries(batchInputs?.lists ?? {})) all.push([`batch_inputs.lists.${k}`, n]);
    for (const [place, node] of all) {
      if (!node) continue;
      for (const [where, file] of nodeFiles(node, place)) {
        const full = pendingFile(pending, file);
        if (listed.has(file)) throw new Error(`commitCacheFiles: ${file} is listed twice`);
        listed.add(file);
        const { header, size } = readNpyHeaderFile(full);
        if (header.dataOffset + header.dataBytes !== size) {
          throw new Error(`commitCacheFiles: ${where} (${file}) is ${size} bytes, its header accounts for ${header.dataOffset + header.dataBytes}`);
        }
      }
    }
    const extra = fs.readdirSync(pending.tmp).filter((f) => !listed.has(f));
    if (extra.length) throw new Error(`commitCacheFiles: the temp folder holds files the manifest does not list (${extra.join(', ')})`);
    return { nodes, batchInputs };
  });
}

/** The shared end of every cache write: arrays (from `fillArrays`), then manifest.json, then the rename. */
function finishCacheWrite(pending: PendingCacheWrite, meta: CacheMeta, fillArrays: () => { nodes: EvalPredictionNodes; batchInputs?: BatchInputsNodes }): CacheManifest {
  const { target, tmp, shown } = pending;
  try {
    for (const k of Object.keys(meta.extra ?? {})) {
      if (RESERVED.has(k)) throw new Error(`writeCache: extra manifest field "${k}" would overwrite a contract field`);
    }
    const { nodes, batchInputs } = fillArrays();
    const attachments: Record<string, string> = {};
    for (const [name, value] of Object.entries(meta.attachments ?? {})) {
      attachments[name] = attachmentFile(name);
      fs.writeFileSync(path.join(tmp, attachments[name]), JSON.stringify(value));
    }
    const manifest: CacheManifest = {
      format: CACHE_FORMAT,
      num_samples: meta.numSamples,
      key: meta.key,
      created: new Date().toISOString(),
      tool: { name: 'evalpred', version: toolVersion() },
      producer: meta.producer,
      eval_prediction: nodes,
      ...(batchInputs ? { batch_inputs: batchInputs } : {}),
      ...(meta.attachments ? { attachments } : {}),
      ...meta.extra,
    };
    // The manifest is what makes a folder a cache, so it is written last.
    fs.writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    swapIntoPlace(tmp, target, shown);
    return manifest;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (isEvalpredError(e)) throw e;
    throw new EvalpredError(`could not write the prediction cache ${shown}: ${describeWriteError(e, shown)}`, { file: shown }, { cause: e });
  }
}

/** File names: predictions.npy, tuple members predictions_0.npy (nested predictions_0_1.npy), list entries predictions_b0.npy. */
function writeNode(folder: string, node: TensorNode, name: string): CacheNode {
  if (node instanceof Tensor) {
    const file = `${name}.npy`;
    writeNpyFile(path.join(folder, file), node);
    return { npy: file };
  }
  if ('tuple' in node) return { tuple: node.tuple.map((c, i) => writeNode(folder, c, `${name}_${i}`)) };
  return { list: node.list.map((c, i) => writeNode(folder, c, `${name}_b${i}`)) };
}

// ---------------------------------------------------------------------------------------------- reading

// Reading (checked and bounded) lives in reader.ts; these names stay importable from here.
export { isCacheFor, readCache, readCacheManifest } from './reader';
