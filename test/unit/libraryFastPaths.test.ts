// The tokenizer library's fast paths (src/core/text/libraryFastPaths.ts) must give exactly the library's own
// results: each check runs one untouched library instance and one with the fast paths side by side, over every
// Unicode code point, English sentences, and seeded random text full of what BertNormalizer treats specially
// (controls, format and private-use characters, lone surrogates, NUL, U+FFFD, accents, CJK, astral characters,
// words longer than WordPiece's 100-character limit, words the vocabulary only has in pieces or not at all),
// for WordPiece (BERT) and byte-level BPE (GPT-2, RoBERTa) tokenizers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as library from '@huggingface/tokenizers';
import { installLibraryFastPaths } from '../../src/core/text/libraryFastPaths';
import { loadTokenizer } from '../../src/core/text';
import { UNICODE_TO_BYTES } from '../../src/core/text/alignment';
import { SPECIAL_TOKENS, wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { mulberry32 } from '../../src/demo/prng';
import { byteChar, byteLevelBpeTokenizerJson } from '../fixtures/tokenizers';

const SENTENCES = [
  'it \'s a charming and often affecting journey .',
  'unflinchingly bleak and desperate',
  'The Broncos took an early lead in Super Bowl 50, at Levi\'s Stadium in Santa Clara.',
  'EU rejects German call to boycott British lamb .',
  'Peter Blackburn  BRUSSELS 1996-08-22\tThe European Commission said on Thursday',
  'naïve café déjà vu — Ångström, São Paulo, Zürich, İstanbul, straße',
  '北京大学 is in 北京; 東京 and 서울 and ㄅㄆ too',
  'emoji 😀 and 𠀀 (U+20000) and math 𝔸',
];
const WORDS = ['the', 'a', 'movie', 'charming', 'journey', 'broncos', 'super', 'bowl', 'european', 'commission', 'naive', 'cafe', 'unflinchingly', 'bleak', 'play', 'ing', 'ed', 'un'];
const PIECES = ['##ing', '##ed', '##s', '##ly', '##un', '##a', '##e', '##i', '##o'];
// Characters BertNormalizer and WordPiece handle specially, and ordinary ones around them.
const TRICKY = [
  '\0', '\t', '\n', '\r', '\x0b', '\x0c', '\x1f', '\x7f', '\x85', '\xa0', '\xad', '\u200b', '\u200d', '\u2028', '\u3000', '\ufeff', '\ue000', '\uf8ff',
  '\ud800', '\udc00', '\ufffd', '\u0301', '\u0308', 'é', 'e\u0301', 'İ', 'ß', 'Ω', 'д', '中', '\u3400', '\u33ff', '\uf900', '\u4e00', '𠀀', '😀', '\u{e0001}', '\u{f0000}',
  ' ', '  ', '.', ',', '!', '-', "'", '(', ')', 'A', 'Z', '0', '9',
];

function randomText(rng: () => number, n: number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)];
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.35) s += pick(WORDS) + ' ';
    else if (r < 0.45) s += pick(WORDS) + pick(PIECES).slice(2) + ' ';
    else if (r < 0.75) s += pick(TRICKY);
    else if (r < 0.8) s += String.fromCodePoint(Math.floor(rng() * 0x110000));
    else if (r < 0.82) s += 'x'.repeat(95 + Math.floor(rng() * 10)) + ' '; // around WordPiece's 100-character limit
    else if (r < 0.83) s += '𠀀'.repeat(48 + Math.floor(rng() * 6)) + ' '; // 2 UTF-16 units each: the limit counts code points
    else s += String.fromCharCode(0x20 + Math.floor(rng() * 0x5f));
  }
  return s;
}

const VOCAB = [...new Set([...SPECIAL_TOKENS, ...WORDS, ...PIECES, ...'abcdefghijklmnopqrstuvwxyz'.split(''), ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `##${c}`), '.', ',', '!', "'", 'x', '##x', '中', '😀', 'y'.repeat(101), '𠀀'.repeat(50), '𠀀'.repeat(60)])];

const NORMALIZERS: Record<string, unknown>[] = [
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: false },
  { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: false, strip_accents: false, lowercase: true },
  { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true }] },
];

type Lib = { pre_tokenizer: (t: string) => string[]; normalizer: ((t: string) => string) & Record<string, (t: string) => unknown>; model: (t: string[]) => string[]; encode_text(t: string): string[] | null };

function pair(normalizer: Record<string, unknown>, vocab = VOCAB): { plain: Lib; fast: Lib; installed: number } {
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(vocab);
  return pairOf({ ...tokenizer, normalizer }, tokenizerConfig);
}

function pairOf(json: Record<string, unknown>, tokenizerConfig: Record<string, unknown>): { plain: Lib; fast: Lib; installed: number } {
  const plain = new library.Tokenizer(json, tokenizerConfig) as unknown as Lib;
  const fast = new library.Tokenizer(json, tokenizerConfig) as unknown as Lib;
  const installed = installLibraryFastPaths(fast, library);
  return { plain, fast, installed };
}

test('the fast paths are set on BertNormalizer (alone or in a Sequence) and WordPiece, and not on the library classes', () => {
  for (const n of NORMALIZERS) assert.equal(pair(n).installed, 2, JSON.stringify(n));
  assert.equal(pair({ type: 'NFKC' }).installed, 1, 'WordPiece only');
  const { plain, fast } = pair(NORMALIZERS[0]);
  assert.notEqual(fast.normalizer.is_control, plain.normalizer.is_control);
  assert.equal(Object.getPrototypeOf(fast.normalizer).is_control, plain.normalizer.is_control, 'the class keeps its method');
});

test('BertNormalizer with fast paths: every code point, alone and among ASCII, normalises as the library does', () => {
  const { plain, fast } = pair(NORMALIZERS[0]);
  for (let cp = 0; cp < 0x110000; cp++) {
    const ch = String.fromCodePoint(cp);
    if (fast.normalizer.is_control(ch) !== plain.normalizer.is_control(ch)) assert.fail(`is_control(U+${cp.toString(16)})`);
  }
  for (const n of NORMALIZERS) {
    const { plain: p, fast: f } = pair(n);
    for (let cp = 0; cp < 0x110000; cp += 61) {
      let s = 'Ab ';
      for (let k = 0; k < 61 && cp + k < 0x110000; k++) s += String.fromCodePoint(cp + k) + (k % 7 === 0 ? ' x' : '');
      assert.equal(f.normalizer(s), p.normalizer(s), `${JSON.stringify(n)} from U+${cp.toString(16)}`);
    }
  }
});

test('encode_text with fast paths gives the library\'s tokens on sentences and seeded random text, for each normaliser', () => {
  const rng = mulberry32(12);
  const texts = [...SENTENCES, '', ' ', '\0', '\t\n', 'x'.repeat(100), 'x'.repeat(101), '𠀀'.repeat(50), '𠀀'.repeat(51), 'unflinchingly playing'];
  for (let i = 0; i < 400; i++) texts.push(randomText(rng, 1 + Math.floor(rng() * 40)));
  for (const n of NORMALIZERS) {
    const { plain, fast } = pair(n);
    for (const t of texts) assert.deepEqual(fast.encode_text(t), plain.encode_text(t), `${JSON.stringify(n)}: ${JSON.stringify(t)}`);
    // One character at a time, as word alignment normalises (src/core/text/alignment.ts).
    for (const t of texts.slice(0, 60)) for (const c of t) assert.equal(fast.normalizer(c), plain.normalizer(c), JSON.stringify(c));
  }
});

test('WordPiece with fast paths: whole words, pieces, unknown and over-long words as the library splits them', () => {
  const { plain, fast } = pair(NORMALIZERS[0]);
  const words = ['y'.repeat(101), '𠀀'.repeat(50), '𠀀'.repeat(60), 'the', 'playing', 'unplayed', 'qqq', 'x'.repeat(100), 'x'.repeat(101), '𠀀'.repeat(100), '𠀀'.repeat(101), '中', '😀', '', 'charmingly', '##ing'];
  assert.deepEqual(fast.model(words), plain.model(words));
  for (const w of words) assert.deepEqual(fast.model([w]), plain.model([w]), w);
});

test('loadTokenizer\'s encodings, fast paths and all, keep the library\'s tokens', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-fastpaths-'));
  try {
    const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(VOCAB);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    const loaded = await loadTokenizer(dir);
    const { plain } = pair(tokenizer.normalizer as Record<string, unknown>);
    const id = (t: string) => VOCAB.indexOf(t);
    const rng = mulberry32(5);
    const texts = [...SENTENCES, ...Array.from({ length: 50 }, () => randomText(rng, 20))];
    for (const t of texts) {
      const want = [id('[CLS]'), ...(plain.encode_text(t) ?? []).map(id), id('[SEP]')];
      assert.deepEqual(loaded.encode(t, undefined, { align: false }).ids, want, JSON.stringify(t));
      assert.deepEqual(loaded.encode(t).ids, want, JSON.stringify(t));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Merges of frequent pairs in the sentences (spaces as GPT-2's Ġ), enough for multi-piece words, whole words and bytes.
const SP = byteChar(32);
const BPE_MERGES: [string, string][] = [
  [SP, 't'], ['h', 'e'], [SP + 't', 'he'], [SP, 'a'], ['i', 'n'], ['in', 'g'], [SP, 'c'], ['a', 'r'], ['ar', 'm'], [SP + 'c', 'harm'],
  ['e', 'd'], ['o', 'u'], [SP, 'j'], [SP + 'j', 'ou'], ['r', 'n'], ['e', 'y'], ['h', 'a'], ['r', 'm'], ['ha', 'rm'], ['ç', 'a'],
];
const BPE_VARIANTS: Record<string, unknown>[] = [
  { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: false },
  { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] },
];

function bpePair(preTokenizer: Record<string, unknown>) {
  const { tokenizer, tokenizerConfig } = byteLevelBpeTokenizerJson(BPE_MERGES);
  return pairOf({ ...tokenizer, pre_tokenizer: preTokenizer }, tokenizerConfig);
}

test('byte-level BPE with fast paths (ByteLevel pre-tokenizer, alone or in a Sequence, and BPE): the library\'s tokens', () => {
  const rng = mulberry32(21);
  const texts = [...SENTENCES, '', ' ', '  the  ', "it's we're they'll I'd", 'tab\there\nnewline', '\0\x7f', ...Array.from({ length: 300 }, () => randomText(rng, 1 + Math.floor(rng() * 30)))];
  for (const pre of BPE_VARIANTS) {
    const { plain, fast, installed } = bpePair(pre);
    assert.equal(installed, 2, JSON.stringify(pre));
    // Twice: the second pass answers repeated words from the fast path's memo.
    for (let pass = 0; pass < 2; pass++) for (const t of texts) assert.deepEqual(fast.encode_text(t), plain.encode_text(t), `${JSON.stringify(pre)}: ${JSON.stringify(t)}`);
    for (let cp = 0; cp < 0x110000; cp += 97) {
      let s = 'a ';
      for (let k = 0; k < 97 && cp + k < 0x110000; k++) s += String.fromCodePoint(cp + k) + (k % 5 === 0 ? ' ' : '');
      assert.deepEqual(fast.pre_tokenizer(s), plain.pre_tokenizer(s), `${JSON.stringify(pre)} from U+${cp.toString(16)}`);
    }
  }
});

test('offsets of ASCII and non-ASCII text through loadTokenizer, WordPiece and byte-level BPE, point at the tokens\' text', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-fastpaths-'));
  try {
    const wp = wordPieceTokenizerJson(VOCAB);
    fs.mkdirSync(path.join(dir, 'wp'));
    fs.writeFileSync(path.join(dir, 'wp', 'tokenizer.json'), JSON.stringify(wp.tokenizer));
    fs.writeFileSync(path.join(dir, 'wp', 'tokenizer_config.json'), JSON.stringify(wp.tokenizerConfig));
    const bpe = byteLevelBpeTokenizerJson(BPE_MERGES);
    fs.mkdirSync(path.join(dir, 'bpe'));
    fs.writeFileSync(path.join(dir, 'bpe', 'tokenizer.json'), JSON.stringify(bpe.tokenizer));
    fs.writeFileSync(path.join(dir, 'bpe', 'tokenizer_config.json'), JSON.stringify(bpe.tokenizerConfig));
    const wpTok = await loadTokenizer(path.join(dir, 'wp'));
    const bpeTok = await loadTokenizer(path.join(dir, 'bpe'));
    const cp = (t: string, [s, e]: [number, number]) => Array.from(t).slice(s, e).join('');
    const e1 = wpTok.encode('The charming journey.');
    assert.deepEqual(e1.offsets.map((o) => cp('The charming journey.', o)), ['', 'The', 'charming', 'journey', '.', '']);
    const e2 = wpTok.encode('Un café charming');
    assert.deepEqual(e2.offsets.slice(1, -1).map((o) => cp('Un café charming', o)), ['Un', 'café', 'charming']);
    // Byte-level BPE, ASCII: each token's offsets cover the text its bytes spell, less the space before a word.
    const surface = (id: number) => Buffer.from(Array.from(bpeTok.idToToken(id)!, (c) => UNICODE_TO_BYTES[c])).toString('utf8').trim();
    for (const t of ['the charming journey', 'the charmed river']) {
      const e = bpeTok.encode(t);
      assert.ok(e.ids.length > 4, t);
      assert.deepEqual(e.offsets.slice(1, -1).map((o) => cp(t, o)), e.ids.slice(1, -1).map(surface), t);
    }
    // Non-ASCII: both bytes of ç span it, and the added prefix space spans nothing once trimmed (transformers 4.57 and
    // 5 give these offsets; test:trainer checks many more against them).
    const e4 = bpeTok.encode('ça charming');
    assert.deepEqual(e4.ids.slice(1, 5).map((id) => bpeTok.idToToken(id)), ['Ġ', 'Ã', '§', 'a']);
    assert.deepEqual(e4.offsets.slice(1, 6), [[0, 0], [0, 1], [0, 1], [1, 2], [3, 4]]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
