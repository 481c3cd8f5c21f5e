// Tokenized rows as flat typed arrays (what `datasets.map(tokenize)` leaves for Trainer's loop): each row's
// input ids and token type ids, unpadded, back to back, and for the families that need them (token
// classification, extractive QA) each token's word id, sequence id and character offsets. They come from the
// feeder thread in chunks (feeder.ts), from per-batch tokenization (rowFeatures.ts) or whole from the features
// cache (featuresFile.ts); sequence classification and run_qa's windows are padded per batch here exactly as
// DataCollatorWithPadding pads (src/core/text/collate.ts does the same from `Encoded` rows), the others turn
// them back into `Encoded` rows (encodedAt) and go on as if just tokenized.
import { LITTLE_ENDIAN_HOST } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import type { Encoded } from '../text';

/** Rows [firstRow, firstRow + rows) with row r's tokens at ids[starts[r] .. starts[r + 1]). */
export interface FeatureChunk {
  firstRow: number;
  starts: Uint32Array;
  ids: Int32Array;
  typeIds: Uint8Array;
  /** Aligned encodings only (Encoded.aligned not false), one entry per token: the word id (-1 for null), */
  wordIds?: Int32Array;
  /** the sequence id (-1 for null), */
  sequenceIds?: Int8Array;
  /** and the [start, end) character offsets, two entries per token. */
  offsets?: Uint32Array;
}

/** The per-token arrays a chunk may hold, with how many entries each token has (for the file and for joins). */
export const TOKEN_ARRAYS = [
  ['ids', 1],
  ['typeIds', 1],
  ['wordIds', 1],
  ['sequenceIds', 1],
  ['offsets', 2],
] as const;
export type TokenArrayName = (typeof TOKEN_ARRAYS)[number][0];

export function chunkRows(c: FeatureChunk): number {
  return c.starts.length - 1;
}

/** Pack encodings of consecutive rows into one chunk (with word ids, sequence ids and offsets when `aligned`). */
export function packEncodings(firstRow: number, encs: readonly Encoded[], opts: { aligned?: boolean } = {}): FeatureChunk {
  const starts = new Uint32Array(encs.length + 1);
  for (let r = 0; r < encs.length; r++) starts[r + 1] = starts[r] + encs[r].ids.length;
  const n = starts[encs.length];
  const ids = new Int32Array(n);
  const typeIds = new Uint8Array(n);
  encs.forEach((e, r) => {
    ids.set(e.ids, starts[r]);
    typeIds.set(e.typeIds, starts[r]);
  });
  if (!opts.aligned) return { firstRow, starts, ids, typeIds };
  const wordIds = new Int32Array(n), sequenceIds = new Int8Array(n), offsets = new Uint32Array(2 * n);
  encs.forEach((e, r) => {
    if (e.aligned === false) throw new Error('packEncodings: an encoding without word ids and offsets cannot be packed as aligned');
    const a = starts[r];
    for (let j = 0; j < e.ids.length; j++) {
      const w = e.wordIds[j], q = e.sequenceIds[j];
      wordIds[a + j] = w === null ? -1 : w;
      sequenceIds[a + j] = q === null ? -1 : q;
      offsets[2 * (a + j)] = e.offsets[j][0];
      offsets[2 * (a + j) + 1] = e.offsets[j][1];
    }
  });
  return { firstRow, starts, ids, typeIds, wordIds, sequenceIds, offsets };
}

/** Row `row` of the chunk as the tokenizer returned it (attention mask all ones, as unpadded encodings have). */
export function encodedAt(c: FeatureChunk, row: number): Encoded {
  const r = row - c.firstRow;
  if (r < 0 || r >= chunkRows(c)) throw new Error(`encodedAt: row ${row} is not in the chunk`);
  const a = c.starts[r], b = c.starts[r + 1];
  const ids = Array.from(c.ids.subarray(a, b));
  const enc: Encoded = { ids, attentionMask: ids.map(() => 1), typeIds: Array.from(c.typeIds.subarray(a, b)), wordIds: [], sequenceIds: [], offsets: [] };
  if (!c.wordIds || !c.sequenceIds || !c.offsets) {
    enc.aligned = false;
    return enc;
  }
  for (let j = a; j < b; j++) {
    const w = c.wordIds[j], q = c.sequenceIds[j];
    enc.wordIds.push(w < 0 ? null : w);
    enc.sequenceIds.push(q < 0 ? null : q);
    enc.offsets.push([c.offsets[2 * j], c.offsets[2 * j + 1]]);
  }
  return enc;
}

/** The first `rows` rows of a chunk that starts at row 0 (views, no copy). */
export function headOf(c: FeatureChunk, rows: number): FeatureChunk {
  const n = c.starts[rows];
  const out: FeatureChunk = { firstRow: 0, starts: c.starts.subarray(0, rows + 1), ids: c.ids.subarray(0, n), typeIds: c.typeIds.subarray(0, n) };
  if (c.wordIds && c.sequenceIds && c.offsets) {
    out.wordIds = c.wordIds.subarray(0, n);
    out.sequenceIds = c.sequenceIds.subarray(0, n);
    out.offsets = c.offsets.subarray(0, 2 * n);
  }
  return out;
}

/** Chunks of consecutive rows from row 0 as one chunk (what the features cache stores). */
export function joinChunks(chunks: readonly FeatureChunk[]): FeatureChunk {
  if (chunks.length === 1 && chunks[0].firstRow === 0) return chunks[0];
  const rows = chunks.reduce((n, c) => n + chunkRows(c), 0);
  const tokens = chunks.reduce((n, c) => n + c.ids.length, 0);
  const out: FeatureChunk = { firstRow: 0, starts: new Uint32Array(rows + 1), ids: new Int32Array(tokens), typeIds: new Uint8Array(tokens) };
  const aligned = chunks.every((c) => c.wordIds && c.sequenceIds && c.offsets);
  if (aligned) {
    out.wordIds = new Int32Array(tokens);
    out.sequenceIds = new Int8Array(tokens);
    out.offsets = new Uint32Array(2 * tokens);
  }
  let row = 0, tok = 0;
  for (const c of chunks) {
    if (c.firstRow !== row) throw new Error(`joinChunks: chunk starts at row ${c.firstRow}, expected ${row}`);
    const n = chunkRows(c);
    for (let r = 1; r <= n; r++) out.starts[row + r] = tok + c.starts[r];
    for (const [name, per] of TOKEN_ARRAYS) {
      const from = c[name], to = out[name];
      if (from && to) (to as Int32Array).set(from as Int32Array, per * tok);
    }
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
  /** padding="max_length" at tokenization (run_qa's pad_to_max_length): every row at least this wide. */
  padTo?: number;
}

/**
 * Rows [start, end) padded to the longest of them (at least padTo), as collate() pads `Encoded` rows
 * (DataCollatorWithPadding with padding="longest"); every row must lie in `chunk`.
 */
export function collateChunk(chunk: FeatureChunk, start: number, end: number, opts: FeatureCollateOptions): Record<string, Tensor> {
  const n = end - start;
  const r0 = start - chunk.firstRow;
  if (r0 < 0 || r0 + n > chunkRows(chunk)) throw new Error(`collateChunk: rows [${start}, ${end}) are not in the chunk`);
  const { starts } = chunk;
  let width = opts.padTo ?? 0;
  for (let r = 0; r < n; r++) width = Math.max(width, starts[r0 + r + 1] - starts[r0 + r]);
  const feeds: Record<string, Tensor> = {};
  for (const name of opts.names) {
    // the tokens this input takes, or null for the attention mask's ones; a tokenizer without type ids gives zeros
    let from: Int32Array | Uint8Array | null;
    if (name === 'input_ids') from = chunk.ids;
    else if (name === 'attention_mask') from = null;
    else if (name === 'token_type_ids') from = chunk.typeIds;
    else throw new Error(`collateChunk: cannot build "${name}" from token features`);
    const pad = name === 'input_ids' ? opts.padTokenId : 0;
    const data = new BigInt64Array(n * width);
    feeds[name] = new Tensor('int64', [n, width], data);
    if (name === 'token_type_ids' && !opts.typeIds) continue; // all zeros
    if (!LITTLE_ENDIAN_HOST) {
      if (pad !== 0) data.fill(BigInt(pad));
      for (let r = 0; r < n; r++) {
        const a = starts[r0 + r], len = starts[r0 + r + 1] - a;
        const o = r * width + (opts.padSide === 'right' ? 0 : width - len);
        for (let j = 0; j < len; j++) data[o + j] = BigInt(from ? from[a + j] : 1);
      }
      continue;
    }
    // int64 written as (low, high) int32 pairs: no BigInt per element (the ids are < 2^31; v >> 31 is the sign word)
    const words = new Int32Array(data.buffer);
    if (pad !== 0) {
      const high = pad >> 31;
      for (let k = 0; k < 2 * n * width; k += 2) {
        words[k] = pad;
        words[k + 1] = high;
      }
    }
    for (let r = 0; r < n; r++) {
      const a = starts[r0 + r], len = starts[r0 + r + 1] - a;
      let o = 2 * (r * width + (opts.padSide === 'right' ? 0 : width - len));
      if (from === null) {
        for (let j = 0; j < len; j++, o += 2) {
          words[o] = 1;
          words[o + 1] = 0;
        }
      } else {
        for (let j = a; j < a + len; j++, o += 2) {
          const v = from[j];
          words[o] = v;
          words[o + 1] = v >> 31;
        }
      }
    }
  }
  return feeds;
}
