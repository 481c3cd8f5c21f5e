// @huggingface/tokenizers 0.2.0 returns tokens only: no offsets and no word ids. HF's Rust tokenizers track
// both through normalisation; we rebuild them: normalise the text one code point at a time (so every
// normalised character knows which original character it came from), pre-tokenize to get words, then find
// each token's surface text (continuation prefix stripped, byte-level characters decoded to bytes, `▁`
// read as a space) in the normalised text's UTF-8 bytes from left to right.
// Offsets are in code points, like Python string indices (SQuAD's answer_start is one).
import type { Segment } from './encoded';

/** The parts of a `Tokenizer` instance this module reads (public fields and one private method). */
export interface TokenizerInternals {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, opts?: { section_index?: number }) => string[]) | null;
  model: ((tokens: string[]) => string[]) & { unk_token?: string; end_of_word_suffix?: string; config: Record<string, unknown> };
  token_to_id(token: string): number | undefined;
  encode_text?(text: string): string[] | null;
  tokenize(text: string, opts?: { add_special_tokens?: boolean }): string[];
}

export interface SurfaceRules {
  byteLevel: boolean;
  /** Metaspace replacement character (`▁`), read as a space. */
  metaspace: string | null;
  /** Metaspace pre-tokenizer with split=true: HF starts a new word at each `▁`; the JS library does not split. */
  metaspaceSplit: boolean;
  continuingPrefix: string | null;
  endOfWordSuffix: string | null;
  trimOffsets: boolean;
  /** The character a Prepend normaliser puts before the text (Llama-style ▁), if any. */
  prependedChar: string | null;
  /** The pre-tokenizer puts a space (byte-level Ġ, Metaspace ▁) before a text that does not start with one (add_prefix_space, prepend_scheme). */
  prefixSpace: boolean;
  /** The offsets trimming's add_prefix_space (RobertaProcessing / ByteLevel post-processor): a first token keeps its one leading space. */
  trimKeepsPrefixSpace: boolean;
  unkToken: string | undefined;
  unkId: number;
}

const UTF8 = new TextEncoder();

/** GPT-2's bytes_to_unicode, inverted: the printable character a byte-level vocabulary uses -> the byte. */
export const UNICODE_TO_BYTES: Record<string, number> = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out: Record<string, number> = {};
  for (const b of bs) out[String.fromCharCode(b)] = b;
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) out[String.fromCharCode(256 + n++)] = b;
  return out;
})();
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** Normalised text + for each normalised code point the original code point it came from. */
function normalizeWithMap(tok: TokenizerInternals, text: string, spaceChar: string | null, prepended: string | null): { norm: string[]; map: number[] } {
  const chars = Array.from(text);
  if (!tok.normalizer) return { norm: chars, map: chars.map((_, i) => i) };
  const norm: string[] = [], map: number[] = [];
  chars.forEach((c, i) => {
    for (const n of Array.from(tok.normalizer!(c))) {
      norm.push(n);
      map.push(i);
    }
  });
  const whole = Array.from(tok.normalizer(text));
  if (whole.join('') === norm.join('')) return { norm, map };
  // Normalisers that are not per-character (Strip, Prepend, NFC composition): align greedily, case-insensitively.
  const m: number[] = [];
  let j = 0;
  whole.forEach((n, i) => {
    if (i === 0 && prepended !== null && n === prepended && chars.length) {
      // What a Prepend normaliser put first: aligned with the text's first character, which is still to be matched.
      m.push(0);
      return;
    }
    if (n === spaceChar && chars[j] !== n) {
      // A normaliser's ▁ (Llama-style Replace): the whitespace it replaced, at j; else one it added, aligned with the
      // character that follows.
      m.push(Math.min(j, Math.max(chars.length - 1, 0)));
      if (j < chars.length && /\s/.test(chars[j])) j++;
      return;
    }
    let k = j;
    while (k < chars.length && chars[k].toLowerCase() !== n.toLowerCase() && k - j < 8) k++;
    if (k < chars.length && chars[k].toLowerCase() === n.toLowerCase()) j = k;
    m.push(Math.min(j, Math.max(chars.length - 1, 0)));
    if (k < chars.length && chars[k].toLowerCase() === n.toLowerCase()) j++;
  });
  return { norm: whole, map: m };
}

function tokenBytes(token: string, firstInWord: boolean, r: SurfaceRules): Uint8Array | null {
  if (r.unkToken !== undefined && token === r.unkToken) return null;
  const bt = BYTE_TOKEN.exec(token);
  if (bt) return Uint8Array.of(parseInt(bt[1], 16));
  let t = token;
  if (r.continuingPrefix && !firstInWord && t.startsWith(r.continuingPrefix) && t.length > r.continuingPrefix.length) {
    t = t.slice(r.continuingPrefix.length);
  }
  if (r.endOfWordSuffix && t.endsWith(r.endOfWordSuffix)) t = t.slice(0, -r.endOfWordSuffix.length);
  if (r.byteLevel) {
    const bytes = Array.from(t, (c) => UNICODE_TO_BYTES[c]);
    if (bytes.every((b) => b !== undefined)) return Uint8Array.from(bytes);
  }
  if (r.metaspace) t = t.split(r.metaspace).join(' ');
  return UTF8.encode(t);
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

const isSpaceByte = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

const SPACE = Uint8Array.of(0x20);

/** What byteChar holds for a byte the tokenizer added (a prefix space): no code point of the text. */
const ADDED = -1;

/**
 * The UTF-8 bytes of the normalised code points, each encoded on its own (`spaceChar` as a space), and the code point
 * each byte belongs to; after `prefix` (bytes the pre-tokenizer puts before the text, which belong to no code point).
 */
function byteView(norm: string[], prefix: number[], spaceChar: string | null): { hay: Uint8Array; byteChar: ArrayLike<number> } {
  // ASCII (most text): one byte per code point, no encoder call per character (a third of alignment's time).
  if (norm.every((c) => c.length === 1 && c.charCodeAt(0) < 0x80)) {
    const n = prefix.length;
    const hay = new Uint8Array(n + norm.length);
    const byteChar = new Int32Array(n + norm.length).fill(ADDED, 0, n);
    hay.set(prefix);
    for (let i = 0; i < norm.length; i++) (hay[n + i] = norm[i].charCodeAt(0)), (byteChar[n + i] = i);
    return { hay, byteChar };
  }
  const byteChar: number[] = prefix.map(() => ADDED);
  const parts: Uint8Array[] = [Uint8Array.from(prefix)];
  norm.forEach((c, i) => {
    // A normaliser's ▁ (Llama-style Replace ' ' -> '▁') reads as the space it stands for, as tokenBytes reads tokens.
    const b = c === spaceChar ? SPACE : UTF8.encode(c);
    parts.push(b);
    for (let k = 0; k < b.length; k++) byteChar.push(i);
  });
  const hay = new Uint8Array(byteChar.length);
  let o = 0;
  for (const p of parts) (hay.set(p, o), (o += p.length));
  return { hay, byteChar };
}

/** Tokens of one text (no special tokens) with word ids and code-point offsets. */
export function tokenizeSegment(tok: TokenizerInternals, text: string, r: SurfaceRules, align = true): Segment {
  const tokens = (tok.encode_text ? tok.encode_text(text) : tok.tokenize(text, { add_special_tokens: false })) ?? [];
  const ids = tokens.map((t) => tok.token_to_id(t) ?? r.unkId);
  // Rebuilding word ids and offsets costs several times the tokenization itself; only QA and
  // pre-split words need them, so sequence classification skips it.
  if (!align) return { ids, wordIds: ids.map(() => null), offsets: ids.map(() => [0, 0] as [number, number]) };
  const { norm, map } = normalizeWithMap(tok, text, r.metaspace, r.prependedChar);

  // Word ids: pre-tokenize, run the model per pre-token; trusted only when it reproduces the library's tokens.
  let wordIds: (number | null)[] | null = null;
  let firstInWord: boolean[] = tokens.map((_, i) => i === 0);
  let wordTokens: string[] = [];
  if (tok.pre_tokenizer) {
    const pre = tok.pre_tokenizer(norm.join(''), { section_index: 0 });
    const w: number[] = [], first: boolean[] = [], preOf: string[] = [];
    pre.forEach((p, k) => tok.model([p]).forEach((t, j) => (w.push(k), first.push(j === 0), preOf.push(p), wordTokens.push(t))));
    if (wordTokens.length === tokens.length && wordTokens.every((t, i) => t === tokens[i])) {
      wordIds = w;
      firstInWord = first;
      wordTokens = preOf;
    } else wordTokens = [];
  }

  // Byte view of the normalised text, with the code point each byte belongs to. The pre-tokenizer's prefix space
  // (Ġ, ▁) is part of it, as in HF's pre-tokenized string, so the first token finds its own space rather than the
  // next one in the text (whose offsets would then shift every later token's). The offset rules:
  // docs/trainer-semantics.md#offsets-from-byte-level-and-sentencepiece-tokenizers.
  const prefixed = r.prefixSpace && !norm.join('').startsWith(' ');
  const { hay, byteChar } = byteView(norm, prefixed ? [0x20] : [], r.metaspace);

  const offsets: [number, number][] = [];
  let cursor = 0;
  // HF aligns an added byte with the text's first character (an added space alone spans it, untrimmed).
  const charStart = (b: number) => (byteChar[b] === ADDED ? 0 : map[byteChar[b]]);
  const charEnd = (b: number) => (byteChar[b] === ADDED ? (norm.length ? map[0] + 1 : 0) : map[byteChar[b]] + 1);
  const toOrig = (byteStart: number, byteEnd: number): [number, number] => {
    if (byteEnd <= byteStart || byteStart >= hay.length) {
      const at = byteStart < byteChar.length ? charStart(byteStart) : text.length ? Array.from(text).length : 0;
      return [at, at];
    }
    return [charStart(byteStart), Math.max(charStart(byteStart), charEnd(byteEnd - 1))];
  };
  tokens.forEach((t, i) => {
    let bytes = tokenBytes(t, firstInWord[i], r);
    // An unknown token stands for its whole pre-token (WordPiece) when we know it.
    if (bytes === null && wordTokens[i] !== undefined) bytes = tokenBytes(wordTokens[i], true, r);
    if (bytes === null || bytes.length === 0) {
      offsets.push(toOrig(cursor, cursor));
      return;
    }
    let at = indexOfBytes(hay, bytes, cursor);
    let len = bytes.length;
    if (at < 0 || (at > cursor && isSpaceByte(bytes[0]))) {
      // A prefix space the pre-tokenizer added (add_prefix_space, Metaspace) is not in the text.
      let s = 0;
      while (s < bytes.length && isSpaceByte(bytes[s])) s++;
      const at2 = s < bytes.length ? indexOfBytes(hay, bytes.subarray(s), cursor) : -1;
      if (at2 >= 0 && (at < 0 || at2 < at)) {
        at = at2;
        len = bytes.length - s;
      }
    }
    if (at < 0) {
      offsets.push(toOrig(cursor, cursor));
      return;
    }
    let [start, end] = toOrig(at, at + len);
    if (r.trimOffsets) {
      // HF's byte-level offset trimming (tokenizers' process_offsets): a token's leading and trailing spaces (Ġ)
      // come off its offsets, a space-only token keeping an empty span at its end; the one leading space of a first
      // token (the first, or one starting the text) stays when the post-processor adds a prefix space.
      let lead = 0, trail = 0;
      while (lead < len && hay[at + lead] === 0x20) lead++;
      while (trail < len && hay[at + len - 1 - trail] === 0x20) trail++;
      if (lead === 1 && r.trimKeepsPrefixSpace && (i === 0 || start === 0)) lead = 0;
      if (lead > 0) start = Math.min(start + lead, end);
      if (trail > 0 && end >= trail) end = Math.max(end - trail, start);
    }
    offsets.push([start, end]);
    cursor = at + len;
  });

  if (r.metaspace && r.metaspaceSplit) {
    let w = -1;
    wordIds = tokens.map((t, i) => (i === 0 || t.startsWith(r.metaspace!) ? ++w : Math.max(w, 0)));
  }
  if (!wordIds) {
    // Fallback: a new word starts after whitespace in the original text.
    const chars = Array.from(text);
    let w = -1, prevEnd = -1;
    wordIds = offsets.map(([s, e]) => {
      const gap = chars.slice(Math.max(prevEnd, 0), s).some((c) => /\s/.test(c));
      if (w < 0 || gap || (s > prevEnd && /\s/.test(chars[s] ?? ''))) w++;
      prevEnd = Math.max(prevEnd, e);
      return w;
    });
  }
  return { ids, wordIds, offsets };
}
