// loadDataset: a file by its extension, or a folder (a DatasetDict / Dataset saved by `datasets`, or plain
// `<split>.<ext>` files), choosing the split the way an evaluation would.
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, messageOf } from '../errors';
import { readCsv, readTsv } from './csv';
import type * as Formats from './formats';
import { readJson, readJsonl } from './jsonReaders';
import { isSavedDataset, savedDatasetInfo } from './savedDataset';
import { didYouMean, listNames } from './suggest';
import { checkIndex } from './table';
import { Dataset, DatasetWithLines, Row } from './types';

let formatReaders: typeof Formats | undefined;
/** The Arrow and Parquet readers, loaded on first use (./formats.ts says why). */
function formats(): typeof Formats {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (formatReaders ??= require('./formats') as typeof Formats);
}
const readSavedDataset = (dir: string, split?: string): Dataset => formats().readSavedDataset(dir, split);

const READERS: Record<string, (file: string) => Dataset | Promise<Dataset>> = {
  '.jsonl': readJsonl,
  '.ndjson': readJsonl,
  '.json': readJson,
  '.csv': readCsv,
  '.tsv': readTsv,
  '.parquet': (file) => formats().readParquet(file),
  '.arrow': (file) => formats().readArrowFile(file),
};
/** When one split exists in several formats, the typed ones win (no type inference needed). */
const PREFERENCE = ['.parquet', '.arrow', '.jsonl', '.ndjson', '.json', '.csv', '.tsv'];
/** Files `datasets` writes beside its data, never splits. */
const METADATA_FILES = new Set(['dataset_info.json', 'state.json', 'dataset_dict.json']);
const SPLIT_FLAG = 'choose one with --split (or "split" in the launch configuration)';

export async function loadDataset(fileOrDir: string, opts: { split?: string } = {}): Promise<Dataset> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(fileOrDir);
  } catch (e) {
    throw new EvalpredError(`Dataset not found: ${fileOrDir} (${messageOf(e)}).${siblingHint(fileOrDir)}`, { file: fileOrDir }, { cause: e });
  }
  if (stat.isFile()) return readFile(fileOrDir);
  return readFolder(fileOrDir, opts.split);
}

function siblingHint(p: string): string {
  try {
    const dir = path.dirname(p);
    return didYouMean(path.basename(p), fs.readdirSync(dir)).replace(/"([^"]*)"/, (_, m) => `"${path.join(dir, m)}"`);
  } catch {
    return '';
  }
}

async function readFile(file: string): Promise<Dataset> {
  const ext = path.extname(file).toLowerCase();
  const reader = READERS[ext];
  if (!reader) {
    throw new EvalpredError(
      `${file}: unknown dataset format "${ext || '(no extension)'}"; expected one of ${Object.keys(READERS).join(', ')}, ` +
        `or a folder written by datasets' save_to_disk.`,
      { file },
    );
  }
  return reader(file);
}

/** Picks the split: the one asked for, else validation, else test, else the only one. */
export function chooseSplit(available: readonly string[], requested: string | undefined, where: string): string {
  if (requested !== undefined) {
    if (available.includes(requested)) return requested;
    throw new EvalpredError(
      `${where}: there is no split "${requested}"; the splits are ${listNames(available)}.${didYouMean(requested, available)}`,
      { file: where },
    );
  }
  for (const s of ['validation', 'test']) if (available.includes(s)) return s;
  if (available.length === 1) return available[0];
  throw new EvalpredError(
    `${where}: holds several splits (${listNames(available)}) and none is named validation or test; ${SPLIT_FLAG}.`,
    { file: where },
  );
}

async function readFolder(dir: string, split: string | undefined): Promise<Dataset> {
  const dictPath = path.join(dir, 'dataset_dict.json');
  if (fs.existsSync(dictPath)) {
    let splits: string[];
    try {
      splits = (JSON.parse(fs.readFileSync(dictPath, 'utf8')) as { splits: string[] }).splits;
      if (!Array.isArray(splits)) throw new Error('no "splits" list');
    } catch (e) {
      throw new EvalpredError(`${dictPath}: cannot read this DatasetDict index (${messageOf(e)}).`, { file: dictPath }, { cause: e });
    }
    const chosen = chooseSplit(splits, split, dir);
    const sub = path.join(dir, chosen);
    if (!fs.existsSync(sub)) {
      throw new EvalpredError(`${dictPath} lists the split "${chosen}", but the folder ${sub} does not exist.`, { file: sub });
    }
    return readSavedDataset(sub, chosen);
  }
  if (isSavedDataset(dir)) {
    const own = savedDatasetInfo(dir).split;
    if (split !== undefined && own !== undefined && split !== own) {
      throw new EvalpredError(`${dir}: this saved dataset holds the split "${own}" only, not "${split}".`, { file: dir });
    }
    return readSavedDataset(dir, split ?? own);
  }
  const splits = splitFiles(dir);
  if (splits.size === 0) {
    throw new EvalpredError(
      `${dir}: no dataset here; expected files named <split>.jsonl/.json/.csv/.parquet (such as validation.jsonl), ` +
        `or a folder written by datasets' save_to_disk (dataset_dict.json or state.json with data-*.arrow files).`,
      { file: dir },
    );
  }
  const chosen = chooseSplit([...splits.keys()], split, dir);
  const entry = splits.get(chosen)!;
  const parts = await Promise.all(entry.map((p) => (fs.statSync(p).isDirectory() ? readSavedDataset(p, chosen) : readFile(p))));
  const ds = parts.length === 1 ? parts[0] : concatDatasets(parts, dir);
  ds.split = chosen;
  return ds;
}

/**
 * split name -> the files (or saved-dataset sub-folders) holding it: `validation.jsonl`, Hub-style shards
 * `validation-00000-of-00002.parquet`, also under a `data/` sub-folder, and sub-folders saved by `datasets`.
 */
function splitFiles(dir: string): Map<string, string[]> {
  const byExt = new Map<string, Map<string, string[]>>();
  const add = (split: string, ext: string, p: string) => {
    const m = byExt.get(split) ?? new Map<string, string[]>();
    byExt.set(split, m);
    m.set(ext, [...(m.get(ext) ?? []), p]);
  };
  const scan = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (isSavedDataset(p)) add(e.name, 'dir', p);
        continue;
      }
      const ext = path.extname(e.name).toLowerCase();
      if (!(ext in READERS) || METADATA_FILES.has(e.name)) continue;
      const stem = e.name.slice(0, -ext.length);
      const shard = /^(.+?)-\d{5}-of-\d{5}$/.exec(stem);
      add(shard ? shard[1] : stem, ext, p);
    }
  };
  scan(dir);
  if (byExt.size === 0 && fs.existsSync(path.join(dir, 'data'))) scan(path.join(dir, 'data'));
  const out = new Map<string, string[]>();
  for (const [split, m] of byExt) {
    const ext = [...PREFERENCE, 'dir'].find((x) => m.has(x))!;
    out.set(split, m.get(ext)!);
  }
  return out;
}

/** Shards of one split read as one dataset, rows in shard order. */
function concatDatasets(parts: Dataset[], where: string): DatasetWithLines {
  const columns = parts[0].columns;
  const bad = parts.find((p) => p.columns.join('\0') !== columns.join('\0'));
  if (bad) {
    throw new EvalpredError(`${bad.source}: this shard's columns (${bad.columns.join(', ')}) differ from those of ${parts[0].source} (${columns.join(', ')}).`, {
      file: bad.source,
    });
  }
  const starts: number[] = [];
  let numRows = 0;
  for (const p of parts) {
    starts.push(numRows);
    numRows += p.numRows;
  }
  const locate = (i: number) => {
    let k = parts.length - 1;
    while (starts[k] > i) k--;
    return k;
  };
  const ds: DatasetWithLines = {
    source: where,
    format: parts[0].format,
    columns,
    numRows,
    row(i: number): Row {
      checkIndex(ds, i);
      const k = locate(i);
      return parts[k].row(i - starts[k]);
    },
  };
  if (parts[0].classNames) ds.classNames = parts[0].classNames;
  return ds;
}
