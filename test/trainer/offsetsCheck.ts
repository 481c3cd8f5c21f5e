// The offsets cross-check's tokenizers and inputs (realTrainer.crosscheck.ts runs it against transformers' fast
// tokenizer in each line's venv, test/trainer/offsets.py): the offsets a question-answering or token-classification
// run takes from our tokenizer must be transformers' own, to the token, for byte-level BPE (RoBERTa / GPT-2 style,
// with and without a prefix space and offset trimming), WordPiece, sentencepiece-style Unigram over Metaspace
// (DeBERTa-v3, ALBERT) and Llama-style BPE (▁ from the normaliser, byte fallback), on single texts and
// question/context pairs.
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../src/demo/prng';
import { SPECIAL_TOKENS, wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { byteChar, byteLevelBpeTokenizerJson, writeTokenizerDir } from '../fixtures/tokenizers';

const SP = byteChar(32);
const WORDS = ['the', 'charming', 'journey', 'river', 'stone', 'light', 'who', 'what', 'where', 'is', 'was', 'in', 'café', 'naïve', 'Zürich', '1996', 'U.S.', "don't"];
const MERGES: [string, string][] = [
  [SP, 't'], ['h', 'e'], [SP + 't', 'he'], [SP, 'a'], ['i', 'n'], ['in', 'g'], [SP, 'c'], ['a', 'r'], ['ar', 'm'], [SP + 'c', 'harm'],
  ['e', 'd'], ['o', 'u'], [SP, 'j'], [SP + 'j', 'ou'], ['r', 'n'], ['e', 'y'], ['h', 'a'], ['r', 'm'], ['ha', 'rm'], [SP, 'w'],
  [SP + 'w', 'h'], ['i', 's'], [SP, 'is'], [SP, 'r'], ['i', 'v'], ['iv', 'er'], ['e', 'r'], ['Ã', '©'], ['Ã', '¯'], ['Ã', '¼'],
];
const WP_VOCAB = [...new Set([...SPECIAL_TOKENS, ...WORDS.map((w) => w.toLowerCase()), ...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''), ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `##${c}`), '.', ',', '?', "'", '-', '##ing', '##ed', 'cafe', 'naive', 'zurich'])];

/** RoBERTa with trim_offsets=False in tokenizer_config.json: untrimmed offsets. */
function untrimmedByConfig(dir: string): string {
  const { tokenizer, tokenizerConfig } = byteLevelBpeTokenizerJson(MERGES);
  return writeTokenizerDir(dir, tokenizer, { ...tokenizerConfig, trim_offsets: false });
}

/** GPT-2 style: a ByteLevel post-processor that keeps offsets untrimmed, no special tokens around the text. */
function gpt2(dir: string): string {
  const { tokenizer, tokenizerConfig } = byteLevelBpeTokenizerJson(MERGES);
  tokenizer.post_processor = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  return writeTokenizerDir(dir, tokenizer, { ...tokenizerConfig, tokenizer_class: 'GPT2Tokenizer' });
}

/**
 * DeBERTa-v3 / ALBERT style (sentencepiece): Unigram over Metaspace pre-tokens (▁ for spaces, one prepended),
 * [CLS] A [SEP] B [SEP]. Pieces: whole words with ▁, their tails, every character alone.
 */
function unigram(dir: string): string {
  const pieces = new Map<string, number>();
  const add = (p: string, score: number) => { if (!pieces.has(p)) pieces.set(p, score); };
  for (const w of WORDS) {
    add('\u2581' + w, -2 - w.length / 10);
    for (let k = 1; k < w.length; k++) add(w.slice(k), -5 - k / 10);
  }
  for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,?\'-éïüç中文—😀') add(c, -8);
  add('\u2581', -3);
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];
  const vocab = [...specials.map((t) => [t, 0]), ...pieces];
  const id = (t: string) => specials.indexOf(t);
  const tokenizer = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: specials.map((content, i) => ({ id: i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: id('[UNK]'), vocab, byte_fallback: false },
  };
  return writeTokenizerDir(dir, tokenizer, { tokenizer_class: 'PreTrainedTokenizerFast', pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', model_max_length: 512 });
}

/**
 * Llama-2 style: no pre-tokenizer, a normaliser that puts ▁ first and turns spaces into ▁, BPE with byte fallback
 * (<0xNN> tokens for bytes not in the vocabulary), <s> before each text.
 */
function llama(dir: string): string {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const add = (t: string) => {
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  };
  for (const c of "\u2581abcdefghijklmnopqrstuvwxyzTZU.,?'19") add(c);
  const merges = [['\u2581', 't'], ['h', 'e'], ['\u2581t', 'he'], ['\u2581', 'c'], ['a', 'r'], ['i', 'n'], ['in', 'g'], ['\u2581', 'w'], ['\u2581w', 'h']];
  for (const [a, b] of merges) add(a + b);
  const bos = { SpecialToken: { id: '<s>', type_id: 0 } };
  const tokenizer = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map((m) => m.join(' ')) },
  };
  return writeTokenizerDir(dir, tokenizer, { tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', model_max_length: 512 });
}

/** Tokenizer folders under `dir`: byte-level BPE in five settings, WordPiece, Unigram over Metaspace, Llama-style BPE. */
export function offsetsCheckTokenizers(dir: string): string[] {
  const bpe = (name: string, opts: Parameters<typeof byteLevelBpeTokenizerJson>[1]) => {
    const { tokenizer, tokenizerConfig } = byteLevelBpeTokenizerJson(MERGES, opts);
    return writeTokenizerDir(path.join(dir, name), tokenizer, tokenizerConfig);
  };
  const wp = wordPieceTokenizerJson(WP_VOCAB, { lowercase: true });
  fs.mkdirSync(dir, { recursive: true });
  return [
    bpe('bpe-roberta', {}),
    bpe('bpe-no-prefix-space', { addPrefixSpace: false }),
    // RoBERTa's class trims whatever tokenizer.json says (its trim_offsets argument defaults to True).
    bpe('bpe-roberta-untrimmed-json', { trimOffsets: false }),
    untrimmedByConfig(path.join(dir, 'bpe-roberta-untrimmed-config')),
    gpt2(path.join(dir, 'bpe-gpt2')),
    writeTokenizerDir(path.join(dir, 'wordpiece'), wp.tokenizer, wp.tokenizerConfig),
    unigram(path.join(dir, 'unigram-metaspace')),
    llama(path.join(dir, 'bpe-llama')),
  ];
}

/** [text, pair or null]: hand-picked edge cases, then seeded random question/context pairs and texts. */
export function offsetsCheckInputs(): [string, string | null][] {
  const fixed = [
    'the charming journey', 'ça charming', '中 the', 'a 中文 b', 'the  journey, charmed', 'a\tb', 'a \n b', 'x  \t y', ' lead',
    'end ', 'a   b', '  two lead', '中', 'naïve café — ok', '😀 the 😀', 'the\u00a0charm', 'Zürich, 1996: U.S. river',
  ];
  const out: [string, string | null][] = fixed.map((t) => [t, null]);
  out.push(['who is the river?', 'the charming journey in Zürich'], ['中?', ' a 中文 b '], ['what', 'x  \t y']);
  const rng = mulberry32(31);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)];
  const extra = [' ', '  ', ', ', '. ', '中', '文', 'é', '😀', '—', '\t', '\n', '-', "'"];
  const text = (n: number) => Array.from({ length: n }, () => (rng() < 0.8 ? pick(WORDS) + ' ' : pick(extra))).join('').trim();
  for (let i = 0; i < 60; i++) out.push(i % 2 ? [text(2 + Math.floor(rng() * 6)) + '?', text(5 + Math.floor(rng() * 25))] : [text(1 + Math.floor(rng() * 20)), null]);
  return out;
}
