// Parquet datasets via hyparquet: nested LIST and struct columns come back as arrays and objects.
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { EvalpredError, messageOf } from '../errors';
import { classNamesFromFeatures, featuresFromSchemaMetadata } from './features';
import { readBytes } from './readFile';
import { rowsDataset, toPlain } from './table';
import { Dataset, Row } from './types';

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
    rows = (await parquetReadObjects({ file: buf, metadata })) as Row[];
  } catch (e) {
    throw new EvalpredError(`${file}: not a readable Parquet file (${messageOf(e)}).`, { file }, { cause: e });
  }
  return rowsDataset({ source: file, format: 'parquet', rows: rows.map((r) => toPlain(r) as Row), columns, classNames });
}
