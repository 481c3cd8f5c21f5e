// The tokenized-features cache for the families that tokenize as they go (token classification, extractive QA,
// seq2seq and decoder-only generation; sequence classification has its feeder, src/core/loop/sequenceFeed.ts):
// a hit serves each row's encoding from the features file (docs/cache-format.md#tokenized-features), a miss
// tokenizes per batch as before, packs each batch's encodings into flat arrays and stores them once every row
// has been tokenized. Either way the family gets the same `Encoded` rows and builds its batch from them with
// the code it always used, so the batches do not depend on where the tokens came from.
import type { Encoded } from '../text';
import { CachedFeatures, FeatureSet, openFeatures, writeFeatures } from './featuresFile';
import { FeaturesCacheTarget, TextSettings, featuresKey } from './featuresKey';
import { FeatureChunk, chunkRows, encodedAt, joinChunks, packEncodings } from './tokenFeatures';

export interface FeaturesLookup {
  /** LoopHooks.featuresCache: asked at the first batch, once the run is going ahead (it is not known before). */
  cache?: () => FeaturesCacheTarget | undefined;
  text: TextSettings;
  /** The dataset rows the run covers (--max-samples applied). */
  numRows: number;
  log(line: string): void;
}

export interface OpenedFeatures {
  key: string | null;
  dir: string | null;
  /** The features file on a hit, open: rows are read from it as batches ask (close it when done). */
  hit: CachedFeatures | null;
}

/** The key and, when the file under it holds every table asked for (aligned where asked), the cached features
 *  (said in the log). No cache target: neither. */
export function lookUpFeatures(o: FeaturesLookup, tables: readonly string[], aligned: boolean): OpenedFeatures {
  const cache = o.cache?.();
  if (!cache) return { key: null, dir: null, hit: null };
  const key = featuresKey(cache.inputs, o.text);
  const set = openFeatures(cache.dir, key, o.numRows);
  if (set && !tables.every((t) => set.has(t, aligned))) set.close();
  else if (set) {
    o.log(`reusing the tokenized features of ${o.numRows} rows from ${cache.dir} (same tokenizer, dataset and text settings)`);
    return { key, dir: cache.dir, hit: set };
  }
  return { key, dir: cache.dir, hit: null };
}

export function storeFeatures(o: FeaturesLookup, opened: OpenedFeatures, set: FeatureSet): void {
  if (!opened.key || !opened.dir) return;
  const why = writeFeatures(opened.dir, opened.key, set);
  if (why) o.log(`tokenized features not cached: ${why}`);
}

/**
 * Every item's features at once (run_qa's windows, which the loop needs counted before its first batch): from
 * the cache, else from `tokenize` (which covers rows 0 .. numRows-1), stored for the next run.
 */
export function wholeFeatures(o: FeaturesLookup, tokenize: () => FeatureSet): FeatureSet {
  const opened = lookUpFeatures(o, ['inputs'], true);
  if (opened.hit) {
    try {
      return opened.hit.whole();
    } finally {
      opened.hit.close();
    }
  }
  const set = tokenize();
  storeFeatures(o, opened, set);
  return set;
}

/**
 * Per-batch encodings of named tables ("inputs", and "targets" for seq2seq labels), all over the same rows:
 * from the cache when it holds them, else from the family's own `encode` (kept, and stored on close when every
 * row was tokenized: a run that stops early or drops its last batch stores nothing).
 */
export class RowFeatures {
  private opened: OpenedFeatures | null = null;
  private readonly made = new Map<string, FeatureChunk[]>();
  /** On a hit: each table's reader of the file. */
  private readonly readers = new Map<string, (start: number, end: number) => FeatureChunk>();

  constructor(
    private readonly o: FeaturesLookup & {
      tables: readonly string[];
      /** Keep word ids, sequence ids and offsets (token classification and QA labels need them). */
      aligned: boolean;
    },
  ) {}

  /** Rows [start, end) of `table`, in order (batches come in order). */
  encodings(table: string, start: number, end: number, encode: (row: number) => Encoded): Encoded[] {
    this.opened ??= lookUpFeatures(this.o, this.o.tables, this.o.aligned);
    const out: Encoded[] = [];
    const hit = this.opened.hit;
    if (hit) {
      // read from the file a few batches' rows at a time (docs/cache-format.md#tokenized-features)
      let read = this.readers.get(table);
      if (!read) this.readers.set(table, (read = hit.reader(table)));
      const c = read(start, end);
      for (let i = start; i < end; i++) out.push(encodedAt(c, i));
      return out;
    }
    for (let i = start; i < end; i++) out.push(encode(i));
    if (this.opened.key) {
      const chunks = this.made.get(table) ?? [];
      const next = chunks.reduce((n, c) => n + chunkRows(c), 0);
      // only an unbroken run of rows from 0 can be stored
      if (next === start) chunks.push(packEncodings(start, out, { aligned: this.o.aligned }));
      this.made.set(table, chunks);
    }
    return out;
  }

  /** Store what a miss tokenized, if it covers every row of every table; close the file of a hit. */
  close(): void {
    const opened = this.opened;
    opened?.hit?.close();
    if (!opened || opened.hit || !opened.key) return;
    const tables: Record<string, FeatureChunk> = {};
    for (const t of this.o.tables) {
      const chunks = this.made.get(t) ?? [];
      if (chunks.reduce((n, c) => n + chunkRows(c), 0) !== this.o.numRows || this.o.numRows === 0) return;
      tables[t] = joinChunks(chunks);
    }
    storeFeatures(this.o, opened, { rows: this.o.numRows, tables });
  }
}
