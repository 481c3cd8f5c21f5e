// Tokenization, truncation, pre-split words + label alignment, QA positions, collation and decoding.
// Expected ids are worked out by hand from the tiny vocabularies below (reasoning next to each case),
// following what a HF fast tokenizer (Rust `tokenizers`) returns for the same tokenizer.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoadedTokenizer, alignWordLabels, collate, loadTokenizer, padLabels, qaPositions } from '../../src/core/text';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { byteLevelBpeTokenizerJson, writeTokenizerDir } from '../fixtures/tokenizers';
import { offsetsCheckTokenizers } from '../trainer/offsetsCheck';
import { tempDir } from '../helpers/tempDir';

// WordPiece ids: [PAD]0 [UNK]1 [CLS]2 [SEP]3 [MASK]4 the5 cat6 sat7 on8 mat9 play10 ##ing11 ##ed12 ,13 .14 is15 where16 a17
const WP_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'play', '##ing', '##ed', ',', '.', 'is', 'where', 'a'];
// BPE ids: <s>0 <pad>1 </s>2 <unk>3, byte b -> 4+b, then merges: Ġc260 at261 Ġcat262 Ġt263 he264 Ġthe265
const BPE_MERGES: [string, string][] = [['Ġ', 'c'], ['a', 't'], ['Ġc', 'at'], ['Ġ', 't'], ['h', 'e'], ['Ġt', 'he']];

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir();
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function wordPiece(dir: string, modelMaxLength = 128, extra: Record<string, unknown> = {}): Promise<LoadedTokenizer> {
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(WP_VOCAB, { lowercase: true, modelMaxLength });
  return loadTokenizer(writeTokenizerDir(path.join(dir, 'wp'), tokenizer, { ...tokenizerConfig, ...extra }));
}

async function bpe(dir: string, opts: Parameters<typeof byteLevelBpeTokenizerJson>[1] = {}, name = 'bpe'): Promise<LoadedTokenizer> {
  const { tokenizer, tokenizerConfig } = byteLevelBpeTokenizerJson(BPE_MERGES, opts);
  return loadTokenizer(writeTokenizerDir(path.join(dir, name), tokenizer, tokenizerConfig));
}

test('WordPiece: single text gets [CLS] … [SEP], lowercased, punctuation split, offsets in the original text', () =>
  withDir(async (dir) => {
    const tok = await wordPiece(dir);
    // "The cat sat on the mat." -> the cat sat on the mat . ; "." is split off by BertPreTokenizer.
    const e = tok.encode('The cat sat on the mat.');
    assert.deepEqual(e.ids, [2, 5, 6, 7, 8, 5, 9, 14, 3]);
    assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(e.wordIds, [null, 0, 1, 2, 3, 4, 5, 6, null]);
    assert.deepEqual(e.sequenceIds, [null, 0, 0, 0, 0, 0, 0, 0, null]);
    assert.deepEqual(e.offsets, [[0, 0], [0, 3], [4, 7], [8, 11], [12, 14], [15, 18], [19, 22], [22, 23], [0, 0]]);
    // "playing" -> play ##ing (longest prefix in the vocab, then ##-continuation); "Zebra" is not in the vocab -> [UNK]
    // covering the whole word; "Café" normalises to "cafe" (lowercase + accent strip) -> [UNK] spanning 4 original chars.
    const f = tok.encode('Café playing Zebra');
    assert.deepEqual(f.ids, [2, 1, 10, 11, 1, 3]);
    assert.deepEqual(f.offsets, [[0, 0], [0, 4], [5, 9], [9, 12], [13, 18], [0, 0]]);
    assert.deepEqual(f.wordIds, [null, 0, 1, 1, 2, null]);
    assert.equal(tok.padTokenId, 0);
    assert.equal(tok.padSide, 'right');
    assert.equal(tok.modelMaxLength, 128);
    assert.equal(tok.vocabSize, WP_VOCAB.length);
    assert.deepEqual([...tok.specialIds].sort((a, b) => a - b), [0, 1, 2, 3, 4]);
    assert.equal(tok.idToToken(10), 'play');
  }));

test('WordPiece: a pair is [CLS] A [SEP] B [SEP] with type ids 0…0 1…1; longest_first truncation as the Rust tokenizers do', () =>
  withDir(async (dir) => {
    const tok = await wordPiece(dir);
    const e = tok.encode('the cat sat on the mat', 'where is a cat');
    assert.deepEqual(e.ids, [2, 5, 6, 7, 8, 5, 9, 3, 16, 15, 17, 6, 3]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.deepEqual(e.sequenceIds, [null, 0, 0, 0, 0, 0, 0, null, 1, 1, 1, 1, null]);
    assert.deepEqual(e.offsets.slice(8, 12), [[0, 5], [6, 8], [9, 10], [11, 14]]);
    // maxLength 9 leaves 6 tokens for 6 + 4. Shorter (4) fits in 6 but then 4 + max(4, 6-4) = 8 > 6, so both get
    // 6/2 = 3: "the cat sat" + "where is a".
    const t = tok.encode('the cat sat on the mat', 'where is a cat', { maxLength: 9 });
    assert.deepEqual(t.ids, [2, 5, 6, 7, 3, 16, 15, 17, 3]);
    // maxLength 10 leaves 7 for 6 + 4: both long -> 7/2 = 3 and 3 + 7%2 = 4; the longer (first) text gets the 4.
    const u = tok.encode('the cat sat on the mat', 'where is a cat', { maxLength: 10 });
    assert.deepEqual(u.ids, [2, 5, 6, 7, 8, 3, 16, 15, 17, 3]);
    // maxLength 12 leaves 9: shorter keeps its 4, longer gets max(4, 9-4) = 5.
    const v = tok.encode('the cat sat on the mat', 'where is a cat', { maxLength: 12 });
    assert.deepEqual(v.ids, [2, 5, 6, 7, 8, 5, 3, 16, 15, 17, 6, 3]);
    // Single text truncation: 5 - 2 specials = 3 tokens.
    assert.deepEqual(tok.encode('the cat sat on the mat', undefined, { maxLength: 5 }).ids, [2, 5, 6, 7, 3]);
    // only_second keeps the question whole: 10 - 3 specials - 4 question tokens = 3 context tokens.
    const q = tok.encode('where is the cat', 'the cat sat on the mat', { maxLength: 10, truncation: 'only_second' });
    assert.deepEqual(q.ids, [2, 16, 15, 5, 6, 3, 5, 6, 7, 3]);
    // A question longer than the budget cannot be fixed by cutting the context: a clear error, as transformers raises.
    assert.throws(
      () => tok.encode('where is the cat', 'the cat sat', { maxLength: 6, truncation: 'only_second' }),
      (err: Error) => err.name === 'EvalpredError' && /max length 6/.test(err.message) && /tokenizer\.json/.test(err.message),
    );
  }));

test('pre-split words (is_split_into_words) + run_ner label alignment', () =>
  withDir(async (dir) => {
    const tok = await wordPiece(dir);
    // Each word is tokenized on its own: playing -> play ##ing (both word 2), Zebra -> [UNK] (word 4).
    const e = tok.encodeWords(['The', 'cat', 'playing', 'on', 'Zebra']);
    assert.deepEqual(e.ids, [2, 5, 6, 10, 11, 8, 1, 3]);
    assert.deepEqual(e.wordIds, [null, 0, 1, 2, 2, 3, 4, null]);
    // Offsets are relative to each word, as HF gives for pre-tokenized input.
    assert.deepEqual(e.offsets, [[0, 0], [0, 3], [0, 3], [0, 4], [4, 7], [0, 2], [0, 5], [0, 0]]);
    // First sub-token of each word carries the word's tag; ##ing and the specials get -100.
    assert.deepEqual(alignWordLabels(e, [1, 2, 3, 4, 5]), [-100, 1, 2, 3, -100, 4, 5, -100]);
    // "sat." given as ONE word stays one word id even though the pre-tokenizer splits off "." (plain text would not).
    const s = tok.encodeWords(['cat', 'sat.']);
    assert.deepEqual(s.ids, [2, 6, 7, 14, 3]);
    assert.deepEqual(s.wordIds, [null, 0, 1, 1, null]);
    assert.deepEqual(alignWordLabels(s, [7, 8]), [-100, 7, 8, -100, -100]);
    assert.deepEqual(tok.encode('cat sat.').wordIds, [null, 0, 1, 2, null]);
    // Truncation to 5: three tokens survive (the, cat, play); the cut word keeps its label on its first piece.
    const t = tok.encodeWords(['The', 'cat', 'playing', 'on', 'Zebra'], { maxLength: 5 });
    assert.deepEqual(t.ids, [2, 5, 6, 10, 3]);
    assert.deepEqual(alignWordLabels(t, [1, 2, 3, 4, 5]), [-100, 1, 2, 3, -100]);
    assert.throws(() => alignWordLabels(e, [1, 2]), /word 2/);
  }));

test('QA start/end positions from answer_start via offsets; (0, 0) when the answer is truncated away', () =>
  withDir(async (dir) => {
    const tok = await wordPiece(dir);
    const context = 'the cat sat on the mat';
    // [CLS]0 where1 is2 the3 cat4 [SEP]5 the6 cat7 sat8 on9 the10 mat11 [SEP]12
    const e = tok.encode('where is the cat', context, { maxLength: 64, truncation: 'only_second' });
    assert.deepEqual(qaPositions(e, context.indexOf('the mat'), 'the mat'), [10, 11]);
    assert.deepEqual(qaPositions(e, 4, 'cat sat'), [7, 8]);
    // The context's last word: run_qa's start scan runs on into [SEP]12 (offsets (0, 0)), its "edge case", and so
    // do Trainer's labels; the end stays on mat11.
    assert.deepEqual(qaPositions(e, context.lastIndexOf('mat'), 'mat'), [12, 11]);
    // Only "the cat sat" of the context survives maxLength 10 (see the pair test): "the mat" is gone -> CLS.
    const t = tok.encode('where is the cat', context, { maxLength: 10, truncation: 'only_second' });
    assert.deepEqual(qaPositions(t, context.indexOf('the mat'), 'the mat'), [0, 0]);
    assert.deepEqual(qaPositions(t, 4, 'cat'), [7, 7]);
    // An answer inside a word maps to the token holding its characters: "lay" inside "playing" (play ##ing).
    const c2 = 'a cat playing';
    const p = tok.encode('where is a cat', c2, { truncation: 'only_second', maxLength: 64 });
    // [CLS]0 where1 is2 a3 cat4 [SEP]5 a6 cat7 play8 ##ing9 [SEP]10
    assert.deepEqual(qaPositions(p, c2.indexOf('laying'), 'laying'), [8, 9]);
  }));

test('byte-level BPE (RoBERTa-style): prefix space, <s> A </s></s> B </s>, byte tokens, trimmed offsets', () =>
  withDir(async (dir) => {
    const tok = await bpe(dir);
    // add_prefix_space: " the cat" -> Ġthe Ġcat. BPE on Ġ t h e: Ġ+t (rank 3) before h+e (rank 4), then Ġt+he (rank 5).
    const e = tok.encode('the cat');
    assert.deepEqual(e.ids, [0, 265, 262, 2]);
    assert.deepEqual(e.offsets, [[0, 0], [0, 3], [4, 7], [0, 0]]);
    // "café": Ġ+c merges, then a, f, and é's two UTF-8 bytes c3 a9 (ids 4+0xc3, 4+0xa9) both point at the é character.
    const p = tok.encode('the cat', 'café cat');
    assert.deepEqual(p.ids, [0, 265, 262, 2, 2, 260, 4 + 0x61, 4 + 0x66, 4 + 0xc3, 4 + 0xa9, 262, 2]);
    assert.deepEqual(p.typeIds, new Array(12).fill(0));
    assert.deepEqual(p.offsets.slice(5, 11), [[0, 1], [1, 2], [2, 3], [3, 4], [3, 4], [5, 8]]);
    assert.deepEqual(p.sequenceIds, [null, 0, 0, null, null, 1, 1, 1, 1, 1, 1, null]);
    assert.equal(tok.padTokenId, 1);
    assert.equal(tok.vocabSize, 4 + 256 + BPE_MERGES.length);
    // Without trimming the space before "cat" belongs to Ġcat. RoBERTa's tokenizer class takes trim_offsets from
    // tokenizer_config.json (default True) and rebuilds its post-processor with it, whatever tokenizer.json says.
    const jsonUntrimmed = await bpe(dir, { trimOffsets: false }, 'bpe-untrimmed-json');
    assert.deepEqual(jsonUntrimmed.encode('the cat').offsets, [[0, 0], [0, 3], [4, 7], [0, 0]]);
    const { tokenizer, tokenizerConfig } = byteLevelBpeTokenizerJson(BPE_MERGES);
    const untrimmed = await loadTokenizer(writeTokenizerDir(path.join(dir, 'bpe-untrimmed'), tokenizer, { ...tokenizerConfig, trim_offsets: false }));
    assert.deepEqual(untrimmed.encode('the cat').offsets, [[0, 0], [0, 3], [3, 7], [0, 0]]);
    // Pre-split words get a prefix space each (RoBERTa with add_prefix_space=True).
    const w = tok.encodeWords(['the', 'cat']);
    assert.deepEqual(w.ids, [0, 265, 262, 2]);
    assert.deepEqual(w.wordIds, [null, 0, 1, null]);
    const noPrefix = await bpe(dir, { addPrefixSpace: false }, 'bpe-noprefix');
    assert.throws(() => noPrefix.encodeWords(['the']), (err: Error) => err.name === 'EvalpredError' && /add_prefix_space/.test(err.message));
    // Without the prefix space "the" has no Ġ: t h e -> t he (rank 4 merge).
    assert.deepEqual(noPrefix.encode('the').ids, [0, 4 + 0x74, 264, 2]);
  }));

test('decode skips specials on request and skips -100 always (numbers or bigints)', () =>
  withDir(async (dir) => {
    const wp = await wordPiece(dir);
    const ids = BigInt64Array.from([2n, 5n, 6n, 10n, 11n, 3n, -100n, 0n, 0n]);
    assert.equal(wp.decode(ids, { skipSpecialTokens: true }), 'the cat playing');
    assert.equal(wp.decode([2, 5, 6, 3, -100], {}), '[CLS] the cat [SEP]');
    assert.equal(wp.decode([-100, -100]), '');
    assert.equal(wp.decode([]), '');
    const b = await bpe(dir);
    assert.equal(b.decode([0, 265, -100, 262, 2, 1, 1], { skipSpecialTokens: true }), ' the cat');
    assert.equal(b.decode([0, 265, 262, 2]), '<s> the cat</s>');
  }));

test('collate pads to the longest row, right or left; pad_to_multiple_of; padLabels with -100', () =>
  withDir(async (dir) => {
    const tok = await wordPiece(dir);
    const a = tok.encode('the cat', 'the mat'); // [2,5,6,3,5,9,3], types 0000111
    const b = tok.encode('a cat'); // [2,17,6,3]
    const r = collate([a, b], { padTokenId: 0, padSide: 'right', names: ['input_ids', 'attention_mask', 'token_type_ids'] });
    assert.equal(r.size, 2);
    assert.equal(r.width, 7);
    assert.deepEqual(r.feeds.input_ids.shape, [2, 7]);
    assert.equal(r.feeds.input_ids.dtype, 'int64');
    assert.deepEqual([...r.feeds.input_ids.data].map(Number), [2, 5, 6, 3, 5, 9, 3, 2, 17, 6, 3, 0, 0, 0]);
    assert.deepEqual([...r.feeds.attention_mask.data].map(Number), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual([...r.feeds.token_type_ids.data].map(Number), [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    const l = collate([a, b], { padTokenId: 9, padSide: 'left', names: ['input_ids', 'attention_mask'], padToMultipleOf: 4 });
    assert.equal(l.width, 8);
    assert.deepEqual(Object.keys(l.feeds), ['input_ids', 'attention_mask']);
    assert.deepEqual([...l.feeds.input_ids.data].map(Number), [9, 2, 5, 6, 3, 5, 9, 3, 9, 9, 9, 9, 2, 17, 6, 3]);
    assert.deepEqual([...l.feeds.attention_mask.data].map(Number), [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
    const labR = padLabels([[-100, 1, 2, -100], [-100, 3, -100]], 5, 'right');
    assert.deepEqual(labR.shape, [2, 5]);
    assert.deepEqual([...labR.data].map(Number), [-100, 1, 2, -100, -100, -100, 3, -100, -100, -100]);
    const labL = padLabels([[-100, 3, -100]], 5, 'left');
    assert.deepEqual([...labL.data].map(Number), [-100, -100, -100, 3, -100]);
    assert.throws(() => collate([a], { padTokenId: 0, padSide: 'right', names: ['position_ids'] }), /position_ids/);
  }));

test('tokenizer_config settings: padding_side left, no pad token falls back to eos with a note', () =>
  withDir(async (dir) => {
    const left = await wordPiece(dir, 64, { padding_side: 'left' });
    assert.equal(left.padSide, 'left');
    const { tokenizer, tokenizerConfig } = byteLevelBpeTokenizerJson(BPE_MERGES);
    delete tokenizerConfig.pad_token;
    (tokenizer.added_tokens as { content: string }[]).splice(1, 1); // drop <pad>
    const tok = await loadTokenizer(writeTokenizerDir(path.join(dir, 'nopad'), tokenizer, tokenizerConfig));
    assert.equal(tok.padTokenId, 2);
    assert.match(tok.notes.join(' '), /no pad token/);
  }));

test('errors: missing tokenizer.json names the folder and its files; corrupt JSON names the file and position', () =>
  withDir(async (dir) => {
    const slow = path.join(dir, 'slow-bert');
    fs.mkdirSync(slow);
    fs.writeFileSync(path.join(slow, 'vocab.txt'), WP_VOCAB.join('\n'));
    fs.writeFileSync(path.join(slow, 'config.json'), '{}');
    await assert.rejects(loadTokenizer(slow), (err: Error) => {
      assert.equal(err.name, 'EvalpredError');
      assert.ok(err.message.includes(slow));
      assert.match(err.message, /tokenizer\.json/);
      assert.match(err.message, /vocab\.txt/);
      assert.match(err.message, /config\.json/);
      assert.match(err.message, /save_pretrained/);
      return true;
    });
    await assert.rejects(loadTokenizer(path.join(dir, 'nowhere')), /does not exist/);
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'tokenizer.json'), '{\n  "model": {"type": "BPE",\n    oops }\n}');
    await assert.rejects(loadTokenizer(bad), (err: Error) => {
      assert.equal(err.name, 'EvalpredError');
      assert.ok(err.message.includes(path.join(bad, 'tokenizer.json')));
      assert.match(err.message, /line 3/);
      return true;
    });
    const notTok = path.join(dir, 'nottok');
    fs.mkdirSync(notTok);
    fs.writeFileSync(path.join(notTok, 'tokenizer.json'), '{"version": "1.0"}');
    await assert.rejects(loadTokenizer(notTok), /no "model" section/);
  }));

test('Metaspace (sentencepiece-style) BPE: ▁ read as a space, a new word at each ▁, A </s> B </s> template', () =>
  withDir(async (dir) => {
    const vocab: Record<string, number> = { '<pad>': 0, '</s>': 1, '<unk>': 2, '▁': 3, h: 4, i: 5, '▁h': 6, '▁hi': 7, t: 8, '▁t': 9, e: 10, r: 11 };
    const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
    const seq = (id: string) => ({ Sequence: { id, type_id: 0 } });
    const tj = {
      version: '1.0',
      added_tokens: ['<pad>', '</s>', '<unk>'].map((content, id) => ({ id, content, special: true, normalized: false })),
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      post_processor: {
        type: 'TemplateProcessing',
        single: [seq('A'), special('</s>')],
        pair: [seq('A'), special('</s>'), seq('B'), special('</s>')],
        special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
      },
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      model: { type: 'BPE', unk_token: '<unk>', vocab, merges: ['▁ h', '▁h i', '▁ t'] },
    };
    const tok = await loadTokenizer(writeTokenizerDir(path.join(dir, 'spm'), tj, { pad_token: '<pad>', eos_token: '</s>' }));
    // "hi there" -> "▁hi▁there": ▁+h (rank 0), ▁h+i (rank 1), ▁+t (rank 2); "here" has no merges -> h e r e.
    const e = tok.encode('hi there', 'hi');
    assert.deepEqual(e.ids, [7, 9, 4, 10, 11, 10, 1, 7, 1]);
    assert.deepEqual(e.wordIds, [0, 1, 1, 1, 1, 1, null, 0, null]);
    // The prepended ▁ is not in the text ([0, 2]); the ▁ of "▁t" is the space at index 2 ([2, 4]).
    assert.deepEqual(e.offsets.slice(0, 6), [[0, 2], [2, 4], [4, 5], [5, 6], [6, 7], [7, 8]]);
    assert.equal(tok.decode(e.ids.slice(0, 7), { skipSpecialTokens: true }), 'hi there');
  }));

test('encode with { align: false } gives the same ids, masks and type ids, and refuses label alignment', () =>
  withDir(async (dir) => {
    const tok = await wordPiece(dir);
    for (const [a, b] of [['The cat sat, playing.', undefined], ['where is the cat', 'the cat sat on the mat']] as [string, string | undefined][]) {
      for (const maxLength of [64, 7]) {
        const full = tok.encode(a, b, { maxLength });
        const fast = tok.encode(a, b, { maxLength, align: false });
        assert.deepEqual([fast.ids, fast.attentionMask, fast.typeIds, fast.sequenceIds], [full.ids, full.attentionMask, full.typeIds, full.sequenceIds]);
        assert.equal(fast.aligned, false);
        assert.throws(() => qaPositions(fast, 0, 'the'), /needs word ids and offsets/);
      }
    }
  }));

test('Unigram over Metaspace (DeBERTa-v3 / ALBERT style): the prepended ▁ spans the first character, as transformers aligns it', () =>
  withDir(async (dir) => {
    const folder = offsetsCheckTokenizers(dir).find((d) => d.endsWith('unigram-metaspace'))!;
    const tok = await loadTokenizer(folder);
    // Offsets as transformers 4.57 and 5 give them for this tokenizer (test:trainer compares 80 inputs live).
    const e = tok.encode('ça charming');
    assert.deepEqual(e.ids.map((id) => tok.idToToken(id)), ['[CLS]', '▁', 'ç', 'a', '▁charming', '[SEP]']);
    assert.deepEqual(e.offsets, [[0, 0], [0, 1], [0, 1], [1, 2], [2, 11], [0, 0]]);
    const t = tok.encode('a\tb');
    assert.deepEqual(t.offsets, [[0, 0], [0, 1], [0, 1], [1, 2], [2, 3], [0, 0]]);
    // A text that starts with a space gets no ▁ of its own: the space is the ▁.
    const s = tok.encode(' the');
    assert.deepEqual(s.ids.map((id) => tok.idToToken(id)), ['[CLS]', '▁the', '[SEP]']);
    assert.deepEqual(s.offsets, [[0, 0], [0, 4], [0, 0]]);
  }));

test('Llama-style BPE (the normaliser puts ▁ first and for each space): offsets as transformers aligns them', () =>
  withDir(async (dir) => {
    const folder = offsetsCheckTokenizers(dir).find((d) => d.endsWith('bpe-llama'))!;
    const tok = await loadTokenizer(folder);
    // transformers 4.57 and 5 (test:trainer compares 80 inputs live): the prepended ▁ spans the first character,
    // each ▁ of a space spans that space.
    const e = tok.encode('the charming journey');
    assert.deepEqual(e.ids.slice(0, 3).map((id) => tok.idToToken(id)), ['<s>', '▁the', '▁c']);
    assert.deepEqual(e.offsets, [[0, 0], [0, 3], [3, 5], [5, 6], [6, 8], [8, 9], [9, 12], [12, 13], [13, 14], [14, 15], [15, 16], [16, 17], [17, 18], [18, 19], [19, 20]]);
    const lead = tok.encode(' lead');
    assert.deepEqual(lead.ids.slice(1, 3).map((id) => tok.idToToken(id)), ['▁', '▁']);
    assert.deepEqual(lead.offsets, [[0, 0], [0, 1], [0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
  }));

test('a text seen again gets the segment it got the first time: pre-split words, pairs and QA windows, whatever callers did to earlier results', () =>
  withDir(async (dir) => {
    const words = ['The', 'cat', 'sat', 'on', 'the', 'mat', 'playing', ',', 'where', 'a', 'cat', 'played', '.'];
    const question = 'where is the cat';
    const context = 'the cat sat on a mat , the cat played . a cat is playing on the mat where the cat sat .';
    for (const make of [(d: string) => wordPiece(d), (d: string) => bpe(d, { addPrefixSpace: true })]) {
      const used = await make(path.join(dir, 'used'));
      const calls: [string, (t: LoadedTokenizer) => unknown][] = [
        ['encodeWords', (t) => t.encodeWords(words, { maxLength: 32 })],
        ['encode pair', (t) => t.encode(question, context, { maxLength: 64 })],
        ['encodeOverflowing', (t) => t.encodeOverflowing(question, context, { maxLength: 24, stride: 4, truncation: 'only_second' })],
        ['encode, not aligned', (t) => t.encode(context, undefined, { maxLength: 64, align: false })],
      ];
      // what a first call gives: each call on a tokenizer of its own, so every text is tokenized for the first time ...
      const want: string[] = [];
      for (const [k, [, call]] of calls.entries()) want.push(JSON.stringify(call(await make(path.join(dir, `fresh-${k}`)))));
      assert.ok((JSON.parse(want[2]) as unknown[]).length > 1, 'the context spans several windows');
      for (let round = 0; round < 3; round++) {
        calls.forEach(([what, call], k) => {
          const got = call(used);
          assert.equal(JSON.stringify(got), want[k], `${what}, call ${round + 1}`);
          // ... whatever a caller then does to its arrays in place (truncation, label alignment)
          for (const enc of [got].flat() as { ids: number[]; offsets: [number, number][]; wordIds: (number | null)[] }[]) {
            enc.ids.fill(0);
            enc.offsets.forEach((o) => (o[0] += 1000));
            enc.wordIds.fill(null);
          }
        });
      }
    }
  }));
