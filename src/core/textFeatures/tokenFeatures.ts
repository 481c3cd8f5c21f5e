// Tokenized rows as flat typed arrays (what `datasets.map(tokenize)` leaves for Trainer's loop): each row's
// input ids and token type ids, unpadded, back to back. They come from the feeder thread in chunks
// (feeder.ts) or whole from the features cache (featuresFile.ts), and are padded per batch here exactly as
// DataCollatorWithPadding pads (src/core/text/collate.ts does the same from `Encoded` rows).
import { Tensor } from '../tensor/tensor';
import type { Encoded } from '../text';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Rows [firstRow, firstRow + rows) with row r's tokens at ids[starts[r] .. starts[r + 1]). */
export interface FeatureChunk {
  firstRow: number;
  starts: Uint32Array;
  ids: Int32Array;
  typeIds: Uint8Array;
}

export function chunkRows(c: FeatureChunk): number {
  return c.starts.length - 1;
}

/** Pack encodings of consecutive rows into one chunk. */
export function packEncodings(firstRow: number, encs: readonly Encoded[]): FeatureChunk {
  const starts = new Uint32Array(encs.length + 1);
  for (let r = 0; r < encs.length; r++) starts[r + 1] = starts[r] + encs[r].ids.length;
  const ids = new Int32Array(starts[encs.length]);
  const typeIds = new Uint8Array(starts[encs.length]);
  encs.forEach((e, r) => {
    ids.set(e.ids, starts[r]);
    typeIds.set(e.typeIds, starts[r]);
  });
  return { firstRow, starts, ids, typeIds };
}

/** Chunks of consecutive rows from row 0 as one chunk (what the features cache stores). */
export function joinChunks(chunks: readonly FeatureChunk[]): FeatureChunk {
  if (chunks.length === 1 && chunks[0].firstRow === 0) return chunks[0];
  const rows = chunks.reduce((n, c) => n + chunkRows(c), 0);
  const tokens = chunks.reduce((n, c) => n + c.ids.length, 0);
  const out: FeatureChunk = { firstRow: 0, starts: new Uint32Array(rows + 1), ids: new Int32Array(tokens), typeIds: new Uint8Array(tokens) };
  let row = 0, tok = 0;
  for (const c of chunks) {
    if (c.firstRow !== row) throw new Error(`joinChunks: chunk starts at row ${c.firstRow}, expected ${row}`);
    const n = chunkRows(c);
    for (let r = 1; r <= n; r++) out.starts[row + r] = tok + c.starts[r];
    out.ids.set(c.ids, tok);
    out.typeIds.set(c.typeIds, tok);
    row += n;
    tok += c.ids.length;
  }
  return out;
}

export interface FeatureCollateOptions {
  padTokenId: number;
  padSide: 'right' | 'left';
  /** The model inputs to build, in this order: input_ids, attention_mask, token_type_ids. */
  names: readonly string[];
  /** false: the tokenizer returns no token_type_ids, so the model sees zeros (LoadedTokenizer.returnsTokenTypeIds). */
  typeIds: boolean;
}

/**
 * Rows [start, end) padded to the longest of them, as collate() pads `Encoded` rows (DataCollatorWithPadding
 * with padding="longest"); every row must lie in `chunk`.
 */
export function collateChunk(chunk: FeatureChunk, start: number, end: number, opts: FeatureCollateOptions): Record<string, Tensor> {
  const n = end - start;
  const r0 = start - chunk.firstRow;
  if (r0 < 0 || r0 + n > chunkRows(chunk)) throw new Error(`collateChunk: rows [${start}, ${end}) are not in the chunk`);
  const { starts } = chunk;
  let width = 0;
  for (let r = 0; r < n; r++) width = Math.max(width, starts[r0 + r + 1] - starts[r0 + r]);
  const feeds: Record<string, Tensor> = {};
  for (const name of opts.names) {
    const data = new BigInt64Array(n * width);
    // int64 written as (low, high) int32 pairs on little-endian hosts: no BigInt per element (the ids are < 2^31).
    const words = LITTLE_ENDIAN ? new Int32Array(data.buffer) : null;
    const put = (k: number, v: number) => {
      if (words) {
        words[2 * k] = v;
        words[2 * k + 1] = v < 0 ? -1 : 0;
      } else data[k] = BigInt(v);
    };
    const pad = name === 'input_ids' ? opts.padTokenId : 0;
    if (pad !== 0) for (let k = 0; k < n * width; k++) put(k, pad);
    for (let r = 0; r < n; r++) {
      const a = starts[r0 + r], len = starts[r0 + r + 1] - a;
      const o = r * width + (opts.padSide === 'right' ? 0 : width - len);
      if (name === 'input_ids') for (let j = 0; j < len; j++) put(o + j, chunk.ids[a + j]);
      else if (name === 'attention_mask') for (let j = 0; j < len; j++) put(o + j, 1);
      else if (name === 'token_type_ids') {
        if (opts.typeIds) for (let j = 0; j < len; j++) put(o + j, chunk.typeIds[a + j]);
      } else throw new Error(`collateChunk: cannot build "${name}" from token features`);
    }
    feeds[name] = new Tensor('int64', [n, width], data);
  }
  return feeds;
}
