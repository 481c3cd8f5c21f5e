// Arrow IPC files and folders written by `datasets`' `Dataset.save_to_disk`:
//   data-00000-of-0000N.arrow (IPC *stream* format), dataset_info.json (features), state.json (shard list, split).
import fs from 'node:fs';
import path from 'node:path';
import { StructRow, Table, Vector, tableFromIPC } from 'apache-arrow';
import { EvalpredError, messageOf } from '../errors';
import { classNamesFromFeatures, featuresFromSchemaMetadata } from './features';
import { readBytes } from './readFile';
import { checkIndex, plainBigint } from './table';
import { Dataset, Row } from './types';

/** Arrow values (Vectors, StructRows, bigints) as plain JS values. */
function plainArrow(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return plainBigint(v);
  if (typeof v !== 'object') return v;
  if (v instanceof Vector) return Array.from(v as Vector, plainArrow);
  if (v instanceof StructRow || (typeof (v as { toJSON?: unknown }).toJSON === 'function' && !(v instanceof Date))) {
    const obj = (v as { toJSON(): Record<string, unknown> }).toJSON();
    const out: Row = {};
    for (const [k, x] of Object.entries(obj)) out[k] = plainArrow(x);
    return out;
  }
  if (v instanceof Uint8Array) return v; // binary column
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, plainArrow);
  return v;
}

function readTable(file: string): Table {
  try {
    return tableFromIPC(readBytes(file));
  } catch (e) {
    if (e instanceof EvalpredError) throw e;
    throw new EvalpredError(`${file}: not a readable Arrow IPC file (${messageOf(e)}).`, { file }, { cause: e });
  }
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EvalpredError(`${file}: cannot read this \`datasets\` metadata file (${messageOf(e)}).`, { file }, { cause: e });
  }
}

/** One Arrow file, or the shards of a save_to_disk folder read in order as one dataset. */
export function arrowDataset(files: string[], opts: { source: string; split?: string; features?: unknown }): Dataset {
  const tables = files.map(readTable);
  const schema = tables[0].schema;
  const columns = schema.fields.map((f) => f.name);
  for (let k = 1; k < tables.length; k++) {
    const cols = tables[k].schema.fields.map((f) => f.name);
    if (cols.join('\0') !== columns.join('\0')) {
      throw new EvalpredError(
        `${files[k]}: this shard's columns (${cols.join(', ')}) differ from those of ${files[0]} (${columns.join(', ')}).`,
        { file: files[k] },
      );
    }
  }
  const starts: number[] = [];
  let numRows = 0;
  for (const t of tables) {
    starts.push(numRows);
    numRows += t.numRows;
  }
  if (numRows === 0) {
    throw new EvalpredError(`${opts.source}: the dataset has 0 rows, so there is nothing to evaluate.`, { file: opts.source });
  }
  const children = tables.map((t) => columns.map((c) => t.getChild(c)!));
  const features = opts.features ?? featuresFromSchemaMetadata(schema.metadata.get('huggingface'));
  const classNames = classNamesFromFeatures(features);
  const ds: Dataset = {
    source: opts.source,
    format: 'arrow',
    columns,
    numRows,
    row(i: number): Row {
      checkIndex(ds, i);
      let k = tables.length - 1;
      while (starts[k] > i) k--;
      const out: Row = {};
      columns.forEach((c, j) => (out[c] = plainArrow(children[k][j].get(i - starts[k]))));
      return out;
    },
  };
  if (opts.split !== undefined) ds.split = opts.split;
  if (Object.keys(classNames).length > 0) ds.classNames = classNames;
  return ds;
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

export function readSavedDataset(dir: string, split?: string): Dataset {
  const info = savedDatasetInfo(dir);
  return arrowDataset(info.files, {
    source: info.files.length === 1 ? info.files[0] : dir,
    split: split ?? info.split,
    features: info.features,
  });
}

export function readArrowFile(file: string): Dataset {
  return arrowDataset([file], { source: file });
}
