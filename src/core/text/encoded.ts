// What one tokenized example looks like (a fast tokenizer's `Encoding`, reduced to what the loop needs),
// and how a special-token template plus truncation turn one or two token segments into it.
import { EvalpredError } from '../errors';

export interface Encoded {
  ids: number[];
  attentionMask: number[];
  typeIds: number[];
  /** Word index per token (pre-token index for plain text, input word index for pre-split words); null on specials. */
  wordIds: (number | null)[];
  /** 0 for the first text, 1 for the pair, null on special tokens (HF `sequence_ids()`). */
  sequenceIds: (number | null)[];
  /** [start, end) in code points of the original text (per word for pre-split input); [0, 0] on specials. */
  offsets: [number, number][];
  /** false when encoded with `{ align: false }`: wordIds and offsets were not computed. */
  aligned?: false;
}

/** One text tokenized without special tokens. */
export interface Segment {
  ids: number[];
  wordIds: (number | null)[];
  offsets: [number, number][];
}

export type TemplatePiece = { special: number[]; typeId: number } | { seq: 0 | 1; typeId: number };

export interface Template {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

export function specialCount(pieces: TemplatePiece[]): number {
  return pieces.reduce((n, p) => n + ('special' in p ? p.special.length : 0), 0);
}

export type Truncation = 'longest_first' | 'only_second' | 'only_first';

function cut(seg: Segment, n: number, side: 'right' | 'left'): Segment {
  if (seg.ids.length <= n) return seg;
  const [a, b] = side === 'right' ? [0, n] : [seg.ids.length - n, seg.ids.length];
  return { ids: seg.ids.slice(a, b), wordIds: seg.wordIds.slice(a, b), offsets: seg.offsets.slice(a, b) };
}

/**
 * Truncate to `maxLength` total tokens (specials included) the way the Rust `tokenizers` library does for fast
 * tokenizers: `longest_first` for a pair keeps as much of the shorter text as possible and splits the budget
 * evenly when both are long (ceil to the longer one when it is the first), not the slow tokenizers' one-by-one loop.
 */
export function truncateSegments(
  a: Segment,
  b: Segment | undefined,
  budget: number,
  strategy: Truncation,
  side: 'right' | 'left',
): [Segment, Segment | undefined] {
  if (budget < 0) {
    throw new EvalpredError(`max length is smaller than the number of special tokens the tokenizer adds (${-budget} too few).`);
  }
  if (!b) return [cut(a, budget, side), undefined];
  const n1 = a.ids.length, n2 = b.ids.length;
  if (n1 + n2 <= budget) return [a, b];
  if (strategy === 'only_second') {
    if (n1 >= budget) {
      throw new EvalpredError(
        `the first text has ${n1} tokens, so truncating only the second text cannot bring the pair down to the ` +
          `max length (${budget} tokens besides the special ones); transformers raises "Truncation error: Second sequence ` +
          `not long enough to be truncated" here. Raise --max-length or shorten the question.`,
      );
    }
    return [a, cut(b, budget - n1, side)];
  }
  if (strategy === 'only_first') {
    if (n2 >= budget) throw new EvalpredError(`the second text has ${n2} tokens: truncating only the first text cannot fit ${budget} tokens.`);
    return [cut(a, budget - n2, side), b];
  }
  // tokenizers/src/utils/truncation.rs, LongestFirst.
  let short = Math.min(n1, n2), long = Math.max(n1, n2);
  const swap = n1 > n2;
  long = short > budget ? short : Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  const [k1, k2] = swap ? [long, short] : [short, long];
  return [cut(a, k1, side), cut(b, k2, side)];
}

/** Lay the segments out on the post-processor's template, as `Encoding` + `PostProcessor::process` do. */
export function assemble(template: TemplatePiece[], segs: Segment[]): Encoded {
  const out: Encoded = { ids: [], attentionMask: [], typeIds: [], wordIds: [], sequenceIds: [], offsets: [] };
  for (const p of template) {
    if ('special' in p) {
      for (const id of p.special) {
        out.ids.push(id);
        out.typeIds.push(p.typeId);
        out.wordIds.push(null);
        out.sequenceIds.push(null);
        out.offsets.push([0, 0]);
      }
    } else {
      const s = segs[p.seq];
      if (!s) continue;
      for (let i = 0; i < s.ids.length; i++) {
        out.ids.push(s.ids[i]);
        out.typeIds.push(p.typeId);
        out.wordIds.push(s.wordIds[i]);
        out.sequenceIds.push(p.seq);
        out.offsets.push(s.offsets[i]);
      }
    }
  }
  out.attentionMask = out.ids.map(() => 1);
  return out;
}

/**
 * The windows `Encoding::truncate(max_len, stride, direction)` of the Rust `tokenizers` library cuts a segment into
 * when overflowing tokens are asked for (run_qa's `stride=doc_stride`, `return_overflowing_tokens=True`): windows of
 * `maxLen` tokens, each starting `maxLen - stride` after the previous one, until one reaches the end (right
 * truncation) or the start (left truncation). The first window is the encoding itself, the rest its `overflowing`.
 * This is tokenizers 0.22's behaviour; 0.23.1 stops tokenizing early and loses windows (docs/trainer-semantics.md#question-answering-with-doc-stride).
 */
export function overflowWindows(seg: Segment, maxLen: number, stride: number, side: 'right' | 'left'): Segment[] {
  const n = seg.ids.length;
  if (maxLen >= n) return [seg];
  if (maxLen <= 0) return [{ ids: [], wordIds: [], offsets: [] }, seg];
  if (stride >= maxLen) {
    throw new EvalpredError(
      `the doc stride (${stride} tokens) must be smaller than the part of each window left for the text (${maxLen} tokens, the max length ` +
        `minus the special tokens and the question); the tokenizers library panics here ("stride must be strictly less than max_len").`,
    );
  }
  const step = maxLen - stride;
  const ranges: [number, number][] = [];
  if (side === 'right') {
    for (let start = 0; start < n; start += step) {
      const stop = Math.min(start + maxLen, n);
      ranges.push([start, stop]);
      if (stop === n) break;
    }
  } else {
    for (let last = n - 1; last >= 0; last -= step) {
      const stop = last + 1;
      const start = Math.max(0, stop - maxLen);
      ranges.push([start, stop]);
      if (start === 0) break;
    }
  }
  return ranges.map(([a, b]) => ({ ids: seg.ids.slice(a, b), wordIds: seg.wordIds.slice(a, b), offsets: seg.offsets.slice(a, b) }));
}
