// The readers that need apache-arrow or hyparquet, which are over half of the code every evalpred process would
// otherwise parse at its start. In dist/ this is a bundle of its own, dist/datasetFormats.js (esbuild.mjs maps
// ./load.ts's require of it), loaded with the first .arrow, .parquet or save_to_disk dataset; test bundles inline
// it (docs/architecture.md#bundles).
export { readArrowFile, readSavedDataset } from './arrow';
export { readParquet } from './parquet';
