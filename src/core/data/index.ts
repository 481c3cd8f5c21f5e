// Dataset readers: jsonl, json, csv, Parquet and Arrow (datasets' save_to_disk), plus field access,
// text templates and label encoding over the rows they return.
export type { Dataset, DatasetFormat, Row } from './types';
export { rowLabel } from './types';
export { loadDataset, chooseSplit } from './load';
export { getField, requireField, renderTemplate, rowInputText, parsePath } from './fields';
export { encodeLabel } from './labels';
export type { LabelContext } from './labels';
export { parseCsvRecords } from './csv';
export { closeMatch } from './suggest';
