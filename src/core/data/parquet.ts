// Parquet datasets via hyparquet: nested LIST and struct columns come back as arrays and objects. Pages in
// every codec writers use by default (pyarrow: snappy, polars: zstd; also gzip, brotli, lz4) are decompressed
// by hyparquet-compressors.
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { Compressors } from 'hyparquet';
import { EvalpredError, messageOf } from '../errors';
import { classNamesFromFeatures, featuresFromSchemaMetadata } from './features';
import { readBytes } from './readFile';
import { rowsDataset, toPlain } from './table';
import { Dataset, Row } from './types';

/** Loaded with the first Parquet file: its snappy decoder compiles WebAssembly when the module loads, which the
 * extension host must not pay on activation (docs/packaging.md). */
function compressors(): Compressors {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('hyparquet-compressors') as typeof import('hyparquet-compressors')).compressors;
}

export async function readParquet(file: string): Promise<Dataset> {
  const bytes = readBytes(file);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Row[];
  let columns: string[];
  let classNames: Record<string, string[]> = {};
  try {
    const metadata = parquetMetadata(buf);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
    const hf = metadata.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value;
    classNames = classNamesFromFeatures(featuresFromSchemaMetadata(hf));
    rows = (await parquetReadObjects({ file: buf, metadata, compressors: compressors() })) as Row[];
  } catch (e) {
    throw new EvalpredError(`${file}: not a readable Parquet file (${messageOf(e)}).`, { file }, { cause: e });
  }
  return rowsDataset({ source: file, format: 'parquet', rows: rows.map((r) => toPlain(r) as Row), columns, classNames });
}
