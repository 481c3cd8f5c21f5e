// Labels derived from an encoding the way the transformers examples derive them.
import { EvalpredError } from '../errors';
import type { Encoded } from './encoded';

/**
 * run_ner's tokenize_and_align_labels (label_all_tokens=False): the first sub-token of each word gets the
 * word's label, later sub-tokens and special tokens get -100.
 */
function requireAligned(enc: Encoded, what: string): void {
  if (enc.aligned === false) throw new Error(`${what} needs word ids and offsets: encode without { align: false }`);
}

export function alignWordLabels(enc: Encoded, wordLabels: number[]): number[] {
  requireAligned(enc, 'alignWordLabels');
  let prev: number | null = null;
  return enc.wordIds.map((w) => {
    let out = -100;
    if (w !== null && w !== prev) {
      if (w >= wordLabels.length) {
        throw new EvalpredError(`token belongs to word ${w} but only ${wordLabels.length} word labels were given.`);
      }
      out = wordLabels[w];
    }
    prev = w;
    return out;
  });
}

/**
 * run_qa's prepare_validation/train_features start/end positions for one feature: the tokens that hold the
 * answer's first and last characters; (cls, cls) = (0, 0) when the answer is not fully inside the (truncated)
 * context. `answerStart` counts code points, as Python's str indices do. The CLS token is assumed at index 0
 * (BERT, RoBERTa and DistilBERT put it there; run_qa uses input_ids.index(cls_token_id)).
 */
export function qaPositions(enc: Encoded, answerStart: number, answerText: string, contextSequenceId = 1): [number, number] {
  requireAligned(enc, 'qaPositions');
  const cls = 0;
  const startChar = answerStart;
  const endChar = answerStart + Array.from(answerText).length;
  const { sequenceIds: seq, offsets } = enc;
  let ts = 0;
  while (ts < seq.length && seq[ts] !== contextSequenceId) ts++;
  let te = enc.ids.length - 1;
  while (te >= 0 && seq[te] !== contextSequenceId) te--;
  if (ts >= seq.length || te < 0) return [cls, cls];
  if (!(offsets[ts][0] <= startChar && offsets[te][1] >= endChar)) return [cls, cls];
  // run_qa scans to `len(offsets)` here, so an answer that is the context's last word runs on into [SEP] and
  // padding (their offsets are (0, 0)) and gets a start past the context ("edge case" in its comments; its
  // value then depends on max_length padding). We stop at the context's last token: the real answer start.
  const lastContext = te;
  while (ts <= lastContext && offsets[ts][0] <= startChar) ts++;
  while (offsets[te][1] >= endChar) te--;
  return [ts - 1, te + 1];
}
