// The model folder and dataset a cache's manifest names (producer.model.path, producer.dataset.path) are
// only hints for decoding text in views: a cache may come from another machine or an untrusted workspace.
// They are read only after these checks: the path exists, is the kind expected, holds regular files only
// (a FIFO would block the reader forever) and stays under a size cap. Otherwise the view goes without and
// says why in a note. See README "Workspace Trust".
import fs from 'node:fs';
import path from 'node:path';
import { fileKind } from '../tensor/npy';
import type { CacheManifest } from './manifest';

/** tokenizer.json of the largest common tokenizers is ~20 MB; config files are a few KB. */
export const MAX_TOKENIZER_BYTES = 128 * 1024 ** 2;
export const MAX_CONFIG_BYTES = 4 * 1024 ** 2;
/** The view loads the whole dataset into memory for sample texts. */
export const MAX_DATASET_BYTES = 1024 ** 3;
const MAX_DATASET_FILES = 10_000;
const MAX_DATASET_DEPTH = 4;

export interface CheckedPath {
  /** The path when it passed the checks. */
  path?: string;
  /** Why it was not used (absent from the manifest: no note). */
  note?: string;
}

function producerPath(manifest: CacheManifest, key: 'model' | 'dataset'): string | undefined {
  const v = (manifest.producer as Record<string, unknown>)[key];
  const p = v && typeof v === 'object' ? (v as { path?: unknown }).path : undefined;
  return typeof p === 'string' && p ? p : undefined;
}

function regularUnder(file: string, cap: number, what: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return `${what} ${file} does not exist`;
  }
  if (!st.isFile()) return `${what} ${file} is ${fileKind(st)}, not a regular file`;
  if (st.size > cap) return `${what} ${file} is ${st.size} bytes, more than the ${cap} evalpred reads for a view`;
  return undefined;
}

/**
 * The model folder named in the manifest, when it is a folder whose tokenizer.json (and config.json, when
 * present) are regular files under the caps. No path in the manifest: {}.
 */
export function checkedModelDir(manifest: CacheManifest): CheckedPath {
  const dir = producerPath(manifest, 'model');
  if (!dir) return {};
  const note = modelFolderProblem(dir);
  return note ? { note } : { path: dir };
}

/** Why the tokenizer files of model folder `dir` may not be read (undefined: they may). */
export function modelFolderProblem(dir: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return `the model folder ${dir} named in the cache is not there; inputs are shown as token ids`;
  }
  if (!st.isDirectory()) return `the model path ${dir} named in the cache is ${fileKind(st)}, not a folder; it was not read`;
  const bad =
    regularUnder(path.join(dir, 'tokenizer.json'), MAX_TOKENIZER_BYTES, 'the tokenizer') ??
    (fs.existsSync(path.join(dir, 'config.json')) ? regularUnder(path.join(dir, 'config.json'), MAX_CONFIG_BYTES, 'the model config') : undefined) ??
    (fs.existsSync(path.join(dir, 'generation_config.json'))
      ? regularUnder(path.join(dir, 'generation_config.json'), MAX_CONFIG_BYTES, 'the generation config')
      : undefined);
  return bad ? `${bad}; it was not read, so inputs are shown as token ids` : undefined;
}

/**
 * The dataset named in the manifest: a regular file, or a folder (datasets save_to_disk) holding only
 * regular files and folders, with at most MAX_DATASET_BYTES in all.
 */
export function checkedDataset(manifest: CacheManifest): CheckedPath {
  const p = producerPath(manifest, 'dataset');
  if (!p) return {};
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return { note: `the dataset ${p} named in the cache is not there; sample texts come from the inputs` };
  }
  const skip = (why: string): CheckedPath => ({ note: `${why}; it was not read, so sample texts come from the inputs` });
  if (st.isFile()) {
    const bad = regularUnder(p, MAX_DATASET_BYTES, 'the dataset');
    return bad ? skip(bad) : { path: p };
  }
  if (!st.isDirectory()) return skip(`the dataset ${p} is ${fileKind(st)}, not a file or folder`);
  let total = 0;
  let files = 0;
  const walk = (dir: string, depth: number): string | undefined => {
    if (depth > MAX_DATASET_DEPTH) return `the dataset folder ${p} nests more than ${MAX_DATASET_DEPTH} levels`;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      const s = fs.statSync(f, { throwIfNoEntry: false });
      if (!s) continue;
      if (s.isDirectory()) {
        const bad = walk(f, depth + 1);
        if (bad) return bad;
      } else if (!s.isFile()) return `${f} in the dataset folder is ${fileKind(s)}, not a regular file`;
      else {
        total += s.size;
        if (++files > MAX_DATASET_FILES) return `the dataset folder ${p} holds more than ${MAX_DATASET_FILES} files`;
        if (total > MAX_DATASET_BYTES) return `the dataset folder ${p} holds more than the ${MAX_DATASET_BYTES} bytes evalpred reads for a view`;
      }
    }
    return undefined;
  };
  const bad = walk(p, 0);
  return bad ? skip(bad) : { path: p };
}
