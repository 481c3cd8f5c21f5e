// The series index's name and format tag (docs/cache-format.md, "Series"), in a module without imports so
// the extension can recognise a series.json at activation without loading src/core.
export const SERIES_FORMAT = 'evalpred-series/1';
export const SERIES_FILE = 'series.json';
