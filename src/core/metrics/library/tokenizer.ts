// `loadTokenizer(modelDir)` for metric code: decode generated ids the way transformers' fast tokenizer does
// (`tokenizer.batch_decode(ids, skip_special_tokens=True)`), without Python. It is the tokenizer the
// extension itself decodes with (src/core/text/tokenizer.ts), so the metric sees the text the views show.
// Python metric files get the same from `from evalpred import load_tokenizer` (src/python/evalpred/tokenizer.py).
import * as path from 'node:path';
import { EvalpredError } from '../../errors';
import { LoadedTokenizer, loadTokenizerSync } from '../../text/tokenizer';
import { isTensorLike, TensorLike, toNumbers } from './values';

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

/** A row of ids: a typed or plain array, or a 1-D tensor. */
type IdRow = ArrayLike<number | bigint> | TensorLike;
/** Rows of ids: a 2-D tensor, or an array of rows. */
type IdRows = TensorLike | ArrayLike<IdRow>;

export interface MetricTokenizer {
  readonly padTokenId: number;
  readonly eosTokenId: number | undefined;
  readonly bosTokenId: number | undefined;
  readonly vocabSize: number;
  decode(ids: IdRow, opts?: DecodeOptions): string;
  batchDecode(rows: IdRows, opts?: DecodeOptions): string[];
  convertIdsToTokens(ids: IdRow, opts?: DecodeOptions): string[];
}

function idsOf(row: IdRow, where: string, vocabSize: number): number[] {
  const v = toNumbers(row as never, where);
  const out: number[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const id = v[i];
    if (id < 0) {
      throw new EvalpredError(
        `cannot decode ${where}[${i}] = ${id}: ${id === -100 ? '-100 is' : 'negative ids are'} Trainer's padding, not a token id. ` +
          `Replace it first, e.g. labels.map((v) => (v === -100 ? tokenizer.padTokenId : v)) ` +
          `(in Python: np.where(labels != -100, labels, tokenizer.pad_token_id))`,
        { tensor: where },
      );
    }
    if (!Number.isInteger(id) || id >= vocabSize) {
      throw new EvalpredError(`cannot decode ${where}[${i}] = ${id}: the tokenizer's ids are integers 0..${vocabSize - 1} (logits? take argmax(-1) first)`, { tensor: where });
    }
    out[i] = id;
  }
  return out;
}

function rowsOf(rows: IdRows): IdRow[] {
  if (isTensorLike(rows)) {
    if (rows.shape.length !== 2) throw new EvalpredError(`batchDecode takes rows of ids (a 2-D tensor), got shape [${rows.shape.join(', ')}]`);
    const [n, w] = rows.shape;
    const out: IdRow[] = [];
    for (let r = 0; r < n; r++) {
      const row = new Float64Array(w);
      for (let c = 0; c < w; c++) row[c] = rows.at(r * w + c);
      out.push(row);
    }
    return out;
  }
  return Array.from(rows);
}

export function loadTokenizer(modelDir: string): MetricTokenizer {
  const tok: LoadedTokenizer = loadTokenizerSync(path.resolve(modelDir));
  const eos = tok.specialTokenId('eos_token');
  const bos = tok.specialTokenId('bos_token');
  const decode = (ids: IdRow, opts: DecodeOptions = {}, where = 'ids') => tok.decode(idsOf(ids, where, tok.vocabSize), opts);
  return {
    padTokenId: tok.padTokenId,
    eosTokenId: eos,
    bosTokenId: bos,
    vocabSize: tok.vocabSize,
    decode: (ids, opts) => decode(ids, opts),
    batchDecode: (rows, opts) => rowsOf(rows).map((r, i) => decode(r, opts, `rows[${i}]`)),
    convertIdsToTokens(ids, opts = {}) {
      return idsOf(ids, 'ids', tok.vocabSize)
        .filter((id) => !(opts.skipSpecialTokens && tok.specialIds.has(id)))
        .map((id) => tok.idToToken(id) ?? '');
    },
  };
}
