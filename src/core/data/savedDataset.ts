// The layout of a folder written by `datasets`' `Dataset.save_to_disk` (state.json, dataset_info.json,
// data-*.arrow shards), read without apache-arrow: which files, which split, which features (./arrow reads the data).
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, messageOf } from '../errors';

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EvalpredError(`${file}: cannot read this \`datasets\` metadata file (${messageOf(e)}).`, { file }, { cause: e });
  }
}

/** True when `dir` looks like one `Dataset.save_to_disk` output. */
export function isSavedDataset(dir: string): boolean {
  return (
    fs.existsSync(path.join(dir, 'state.json')) ||
    (fs.existsSync(path.join(dir, 'dataset_info.json')) && fs.readdirSync(dir).some((f) => f.endsWith('.arrow')))
  );
}

export interface SavedDatasetInfo {
  files: string[];
  split?: string;
  features?: unknown;
}

/** The shard list (state.json `_data_files`, else data-*.arrow by name), split name and features of a saved dataset. */
export function savedDatasetInfo(dir: string): SavedDatasetInfo {
  const statePath = path.join(dir, 'state.json');
  const infoPath = path.join(dir, 'dataset_info.json');
  const state = fs.existsSync(statePath) ? (readJsonFile(statePath) as { _data_files?: { filename?: string }[]; _split?: string | null }) : {};
  const info = fs.existsSync(infoPath) ? (readJsonFile(infoPath) as { features?: unknown; splits?: unknown }) : {};
  let files: string[];
  if (Array.isArray(state._data_files) && state._data_files.length > 0) {
    files = state._data_files.map((f) => path.join(dir, String(f.filename)));
    const missing = files.find((f) => !fs.existsSync(f));
    if (missing) {
      throw new EvalpredError(`${statePath} lists the data file ${path.basename(missing)}, which is not in ${dir}.`, { file: missing });
    }
  } else {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.arrow'))
      .sort()
      .map((f) => path.join(dir, f));
  }
  if (files.length === 0) {
    throw new EvalpredError(`${dir}: this \`datasets\` folder has no .arrow data files (expected data-00000-of-00001.arrow).`, { file: dir });
  }
  return { files, split: state._split ?? undefined, features: info.features };
}
