// Arrow IPC files and folders written by `datasets`' `Dataset.save_to_disk`:
//   data-00000-of-0000N.arrow (IPC *stream* format), dataset_info.json (features), state.json (shard list, split).
// Reached through ./formats (a bundle of its own, loaded with the first such dataset); the folder's layout is
// read by ./savedDataset.
import fs from 'node:fs';
import path from 'node:path';
import { StructRow, Table, Vector, tableFromIPC } from 'apache-arrow';
import { EvalpredError, messageOf } from '../errors';
import { classNamesFromFeatures, featuresFromSchemaMetadata } from './features';
import { readBytes } from './readFile';
import { checkIndex, plainBigint } from './table';
import { savedDatasetInfo } from './savedDataset';
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
