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
 * run_qa's prepare_train_features labels of one feature, its scan transcribed line by line (one definition for
 * the loop's QA labels with and without a doc stride, docs/trainer-semantics.md#question-answering-with-doc-stride): `cls` when the
 * answer is not wholly inside the feature's context, else the tokens holding the answer's first and last
 * characters. `startChar`/`endChar` count code points, as Python's str indices do. The start scan runs to
 * `len(offsets)`, as the script's does: an answer starting at the context's last token runs on through [SEP] and any
 * padding (offsets (0, 0)), so its start is the feature's last position (the script's own "edge case"). Trainer's
 * labels and eval_loss are those, so ours are too.
 */
export function runQaPositions(
  offsets: readonly (readonly [number, number])[],
  sequenceIds: readonly (number | null)[],
  startChar: number,
  endChar: number,
  cls: number,
  contextSequenceId: number,
): [number, number] {
  let ts = 0;
  while (ts < sequenceIds.length && sequenceIds[ts] !== contextSequenceId) ts++;
  let te = offsets.length - 1;
  while (te >= 0 && sequenceIds[te] !== contextSequenceId) te--;
  if (ts >= sequenceIds.length || te < 0) return [cls, cls];
  if (!(offsets[ts][0] <= startChar && offsets[te][1] >= endChar)) return [cls, cls];
  while (ts < offsets.length && offsets[ts][0] <= startChar) ts++;
  while (offsets[te][1] >= endChar) te--;
  return [ts - 1, te + 1];
}

/**
 * The positions of one unpadded feature (the loop without a doc stride pads per batch, as DataCollatorWithPadding
 * does after the user's prepare_train_features): runQaPositions with the CLS token assumed at index 0 (BERT,
 * RoBERTa and DistilBERT put it there; run_qa uses input_ids.index(cls_token_id)).
 */
export function qaPositions(enc: Encoded, answerStart: number, answerText: string, contextSequenceId = 1): [number, number] {
  requireAligned(enc, 'qaPositions');
  return runQaPositions(enc.offsets, enc.sequenceIds, answerStart, answerStart + Array.from(answerText).length, 0, contextSequenceId);
}
