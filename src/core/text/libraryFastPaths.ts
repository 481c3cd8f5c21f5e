// Faster, equivalent replacements for the hottest methods of @huggingface/tokenizers 0.2.0, set on one loaded
// tokenizer's own normalizer, pre-tokenizer and model objects (the library's classes are left as they are).
// Profiled on SST-2 (docs/architecture.md#tokenization-speed): BertNormalizer.is_control compiles a new RegExp
// for every character it checks (a fifth of all BERT tokenization time); WordPiece builds a string per candidate
// piece even for a word that is whole in the vocabulary; BPE's least-recently-used cache deletes and re-inserts
// a Map entry on every hit (V8 rehashes such a Map again and again); ByteLevel runs a TextEncoder per pre-token.
// Each replacement answers the common case (ASCII text, a whole-word hit, a word seen before) itself and hands
// everything else to the library's own method, so results are the library's: test/unit/libraryFastPaths.test.ts
// checks them against an untouched instance on real and adversarial text.

// The library's pattern as it is: the alternation leaves `^` on the first class and `$` on the last only, which on
// one code point (all it is ever given) means "any of these four categories".
const CONTROL = /^\p{Cc}|\p{Cf}|\p{Co}|\p{Cs}$/u;
/** Printable ASCII: no control character, no whitespace but the space itself, nothing Chinese, nothing to strip. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ASCII = /^[\x00-\x7f]*$/;
/** No UTF-16 unit is in or above the lowest of BertNormalizer's Chinese ranges (U+3400). */
const BELOW_CJK = /^[\x00-\u33ff]*$/;

type Method<A extends unknown[], R> = (...args: A) => R;

interface BertNormalizerLike {
  is_control: Method<[string], boolean>;
  clean_text: Method<[string], string>;
  tokenize_chinese_chars: Method<[string], string>;
  strip_accents: Method<[string], string>;
}

interface ByteLevelLike {
  add_prefix_space: boolean;
  use_regex: boolean;
  pattern: RegExp;
  byte_encoder: Record<number, string>;
  pre_tokenize_text: Method<[string, unknown], string[]>;
}

interface BpeLike {
  bpe: Method<[string], string[]>;
}

interface WordPieceLike {
  tokens_to_ids: Map<string, number>;
  max_input_chars_per_word: number;
  encode: Method<[string[]], string[]>;
}

const isObject = (x: unknown): x is Record<string, unknown> => (typeof x === 'object' || typeof x === 'function') && x !== null;
const hasMethods = (x: Record<string, unknown>, names: string[]) => names.every((m) => typeof x[m] === 'function');

/** The library's classes these fast paths stand in for (the module as tokenizer.ts loads it). */
export interface LibraryClasses {
  BertNormalizer: abstract new (...args: never[]) => unknown;
  WordPiece: abstract new (...args: never[]) => unknown;
  BPE: abstract new (...args: never[]) => unknown;
  ByteLevelPreTokenizer: abstract new (...args: never[]) => unknown;
}

// Methods looked up by name as well: a library version without them gets no fast path (and keeps its results).
function isBertNormalizer(n: unknown, lib: LibraryClasses): n is BertNormalizerLike {
  return isObject(n) && n instanceof lib.BertNormalizer && hasMethods(n, ['is_control', 'clean_text', 'tokenize_chinese_chars', 'strip_accents']);
}

function isWordPiece(m: unknown, lib: LibraryClasses): m is WordPieceLike {
  return isObject(m) && m instanceof lib.WordPiece && m.tokens_to_ids instanceof Map && typeof m.max_input_chars_per_word === 'number' && hasMethods(m, ['encode']);
}

function isByteLevel(p: unknown, lib: LibraryClasses): p is ByteLevelLike {
  return isObject(p) && p instanceof lib.ByteLevelPreTokenizer && p.pattern instanceof RegExp && isObject(p.byte_encoder) && hasMethods(p, ['pre_tokenize_text']);
}

function isBpe(m: unknown, lib: LibraryClasses): m is BpeLike {
  return isObject(m) && m instanceof lib.BPE && hasMethods(m, ['bpe']);
}

function fastBertNormalizer(n: BertNormalizerLike): void {
  const { clean_text: cleanText, tokenize_chinese_chars: chineseChars, strip_accents: stripAccents } = n;
  n.is_control = (ch: string) => ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch);
  // clean_text: drops NUL, U+FFFD and control characters, turns other whitespace into spaces.
  n.clean_text = function (text: string) {
    if (PRINTABLE_ASCII.test(text)) return text;
    // The library's own loop, which calls the is_control above for each character.
    return cleanText.call(this, text);
  };
  n.tokenize_chinese_chars = function (text: string) {
    return BELOW_CJK.test(text) ? text : chineseChars.call(this, text);
  };
  // NFD of ASCII is itself, and ASCII has no combining mark to remove.
  n.strip_accents = function (text: string) {
    return ASCII.test(text) ? text : stripAccents.call(this, text);
  };
}

function fastWordPiece(m: WordPieceLike): void {
  const encode = m.encode;
  // A word found whole is its own single piece: the library's first candidate is the whole word (start 0, no
  // continuing prefix). `token.length` counts UTF-16 units, at least the code points the library counts.
  m.encode = function (tokens: string[]) {
    const out: string[] = [];
    for (const token of tokens) {
      if (token.length <= m.max_input_chars_per_word && m.tokens_to_ids.has(token)) out.push(token);
      else for (const piece of encode.call(this, [token])) out.push(piece);
    }
    return out;
  };
}

function fastByteLevel(p: ByteLevelLike): void {
  const preTokenize = p.pre_tokenize_text;
  // ASCII text: each character is its own UTF-8 byte, mapped through the byte encoder as the library does it.
  p.pre_tokenize_text = function (text: string, options: unknown) {
    if (!ASCII.test(text)) return preTokenize.call(this, text, options);
    if (p.add_prefix_space && !text.startsWith(' ')) text = ' ' + text;
    const pieces = p.use_regex ? (text.match(p.pattern) ?? []) : [text];
    return pieces.map((piece) => {
      let out = '';
      for (let i = 0; i < piece.length; i++) out += p.byte_encoder[piece.charCodeAt(i)];
      return out;
    });
  };
}

/** Distinct words remembered per tokenizer (a dataset's vocabulary is rarely larger; beyond it, the library's own cache). */
const BPE_MEMO_WORDS = 200_000;
/** Longer words are not remembered, as the library's own cache does not keep them (its max_length_to_cache): a
 *  dataset of long unbroken strings (base64, URLs) must not fill memory. */
const BPE_MEMO_MAX_LENGTH = 256;

function fastBpe(m: BpeLike): void {
  const bpe = m.bpe;
  const memo = new Map<string, string[]>();
  // bpe is a pure function of its word; the library returns its cached arrays the same way (callers only read them).
  m.bpe = function (token: string) {
    let pieces = memo.get(token);
    if (pieces === undefined) {
      pieces = bpe.call(this, token);
      if (token.length < BPE_MEMO_MAX_LENGTH && memo.size < BPE_MEMO_WORDS) memo.set(token, pieces);
    }
    return pieces;
  };
}

/** The components of a normaliser or pre-tokenizer: its list when it is a Sequence, else itself. */
function parts(x: unknown, listKey: string): unknown[] {
  return isObject(x) && Array.isArray(x[listKey]) ? (x[listKey] as unknown[]) : [x];
}

/**
 * Set the fast paths on a library tokenizer's normaliser (BertNormalizer), pre-tokenizer (ByteLevel), each alone or
 * in a Sequence, and model (WordPiece, BPE); other components are left as they are. Returns how many objects were
 * given fast paths.
 */
export function installLibraryFastPaths(tok: { normalizer?: unknown; pre_tokenizer?: unknown; model?: unknown }, lib: LibraryClasses): number {
  let n = 0;
  for (const norm of parts(tok.normalizer, 'normalizers')) {
    if (isBertNormalizer(norm, lib)) {
      fastBertNormalizer(norm);
      n++;
    }
  }
  for (const pre of parts(tok.pre_tokenizer, 'tokenizers')) {
    if (isByteLevel(pre, lib)) {
      fastByteLevel(pre);
      n++;
    }
  }
  if (isWordPiece(tok.model, lib)) {
    fastWordPiece(tok.model);
    n++;
  } else if (isBpe(tok.model, lib)) {
    fastBpe(tok.model);
    n++;
  }
  return n;
}
