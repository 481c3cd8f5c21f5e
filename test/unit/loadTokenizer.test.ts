// load_tokenizer / loadTokenizer: decoding inside metric code without transformers. The Python transcription of
// the tokenizers decoders (src/python/evalpred/tokenizer.py) must give exactly the text our own decoding shows
// (@huggingface/tokenizers via src/core/text/tokenizer.ts), for each decoder family a model folder may hold.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadTokenizer } from '../../src/core/metrics/library';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { byteLevelBpeTokenizerJson, writeTokenizerDir } from '../fixtures/tokenizers';
import { GEN_VOCAB } from '../fixtures/generative';
import { pythonWith } from '../helpers/python';

const srcPython = path.join(__dirname, '../../../src/python');
let dir: string;

/** A T5-style Unigram tokenizer: Metaspace pre-tokenizer and decoder, </s> and <pad> special. */
function unigramTokenizerJson(pieces: string[]) {
  const vocab = [['<pad>', 0], ['</s>', 0], ['<unk>', 0], ...pieces.map((p, i) => [p, -1 - i])];
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: ['<pad>', '</s>', '<unk>'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: { type: 'TemplateProcessing', single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }], pair: [], special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } } },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab, byte_fallback: false },
  };
}

/** A Llama-style BPE: byte fallback, and a decoder Sequence of Replace, ByteFallback, Fuse and Strip. */
function llamaTokenizerJson() {
  const pieces = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), '▁', 'h', 'e', 'l', 'o', '▁h', 'll', '▁hello', 'w', 'r', 'd', '▁w', '▁world', '.'];
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [], special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false,
      vocab: Object.fromEntries(pieces.map((p, i) => [p, i])), merges: [['▁', 'h'], ['l', 'l'], ['▁', 'w']].map((m) => m.join(' ')) },
  };
}

interface Case { name: string; rows: number[][] }
const cases: Case[] = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-tok-'));
  const wp = wordPieceTokenizerJson(GEN_VOCAB);
  writeTokenizerDir(path.join(dir, 'wordpiece'), wp.tokenizer, wp.tokenizerConfig);
  cases.push({ name: 'wordpiece', rows: [[2, 5, 6, 7, 3, 0, 0], [2, 8, 3], [5, 9, 10, 11, 12]] });
  const bl = byteLevelBpeTokenizerJson([['Ġ', 'h'], ['e', 'l'], ['el', 'l']]);
  writeTokenizerDir(path.join(dir, 'bytelevel'), bl.tokenizer, bl.tokenizerConfig);
  // "<s> Hello, héello</s><pad>": bytes (4 + byte), merges Ġh (260) and ell (262), a two-byte é as two tokens
  const b = (s: string) => [...Buffer.from(s, 'utf8')].map((x) => 4 + x);
  cases.push({ name: 'bytelevel', rows: [[0, ...b(' Hello,'), 260, ...b('\u00e9'), 262, ...b('o'), 2, 1], [...b('a  b\n'), 2]] });
  writeTokenizerDir(path.join(dir, 'unigram'), unigramTokenizerJson(['▁the', '▁cat', 's', '▁sat', '.', '▁on', 'mat']), { clean_up_tokenization_spaces: false, eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' });
  cases.push({ name: 'unigram', rows: [[3, 4, 5, 6, 7, 1, 0, 0], [8, 3, 9, 1]] });
  writeTokenizerDir(path.join(dir, 'llama'), llamaTokenizerJson(), { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', clean_up_tokenization_spaces: false });
  const L = (t: string) => 3 + 256 + ['▁', 'h', 'e', 'l', 'o', '▁h', 'll', '▁hello', 'w', 'r', 'd', '▁w', '▁world', '.'].indexOf(t);
  // "<s>▁hello▁world." plus a byte-fallback é (<0xC3><0xA9>) and an invalid lone byte
  cases.push({ name: 'llama', rows: [[1, L('▁hello'), L('▁world'), L('.'), 2], [1, L('▁h'), 3 + 0xc3, 3 + 0xa9, L('ll'), L('o')], [L('▁w'), 3 + 0xff, L('r')]] });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Python's decoding of every case, with and without skip_special_tokens (no `tokenizers` package: our transcription). */
function pythonDecodes(): Record<string, { plain: string[]; skip: string[]; tokens: string[] }> {
  const code = `import json, sys
sys.path.insert(0, ${JSON.stringify(srcPython)})
import builtins
real_import = builtins.__import__
def no_tokenizers(name, *a, **k):
    if name == "tokenizers" or name.startswith("tokenizers."):
        raise ImportError("tokenizers hidden: the transcription is under test")
    return real_import(name, *a, **k)
builtins.__import__ = no_tokenizers
from evalpred import load_tokenizer
cases = json.loads(sys.argv[1])
out = {}
for c in cases:
    t = load_tokenizer(${JSON.stringify(dir)} + "/" + c["name"])
    assert t._fast is None
    out[c["name"]] = {"plain": t.batch_decode(c["rows"]), "skip": t.batch_decode(c["rows"], skip_special_tokens=True),
                      "tokens": t.convert_ids_to_tokens(c["rows"][0])}
print(json.dumps(out))`;
  return JSON.parse(execFileSync(pythonWith(['numpy']), ['-c', code, JSON.stringify(cases)], { encoding: 'utf8' }));
}

test('Python load_tokenizer decodes exactly as our extension does, for WordPiece, byte-level BPE, Unigram/Metaspace and byte-fallback BPE', () => {
  const py = pythonDecodes();
  for (const c of cases) {
    const ts = loadTokenizer(path.join(dir, c.name));
    assert.deepEqual(py[c.name].plain, ts.batchDecode(c.rows), `${c.name}: batch_decode`);
    assert.deepEqual(py[c.name].skip, ts.batchDecode(c.rows, { skipSpecialTokens: true }), `${c.name}: skip_special_tokens`);
    assert.deepEqual(py[c.name].tokens, ts.convertIdsToTokens(c.rows[0]), `${c.name}: convert_ids_to_tokens`);
    assert.notDeepEqual(py[c.name].plain, py[c.name].skip, `${c.name}: the case must hold special tokens`);
  }
  // Spot checks that the shared answer is the right one, not merely the same.
  assert.equal(py.llama.skip[0], 'hello world.');
  assert.equal(py.bytelevel.skip[0], ' Hello, h\u00e9ello');
  assert.equal(py.unigram.skip[0], 'the cats sat.');
});

test('TS loadTokenizer (from evalpred/metrics) takes a 2-D tensor and knows the special ids', () => {
  const ts = loadTokenizer(path.join(dir, 'unigram'));
  const rows = cases.find((c) => c.name === 'unigram')!.rows[0];
  const tensor = { shape: [2, 4], size: 8, at: (i: number) => [3, 4, 5, 1, 6, 7, 1, 0][i] };
  assert.deepEqual(ts.batchDecode(tensor, { skipSpecialTokens: true }), ['the cats', 'sat.']);
  assert.equal(ts.eosTokenId, 1);
  assert.equal(ts.padTokenId, 0);
  assert.equal(ts.decode(rows, { skipSpecialTokens: true }), 'the cats sat.');
});

test('-100 gives the "replace -100 first" error in both languages, not a crash', () => {
  const ts = loadTokenizer(path.join(dir, 'wordpiece'));
  assert.throws(() => ts.batchDecode([[5, 6], [7, -100]]), /cannot decode rows\[1\]\[1\] = -100: -100 is Trainer's padding, not a token id\. Replace it first/);
  const out = execFileSync(pythonWith(['numpy']), ['-c', `import sys, numpy as np
sys.path.insert(0, ${JSON.stringify(srcPython)})
from evalpred import load_tokenizer
t = load_tokenizer(${JSON.stringify(path.join(dir, 'wordpiece'))})
try:
    t.batch_decode(np.array([[5, 6], [7, -100]]), skip_special_tokens=True)
except ValueError as e:
    print(e)
labels = np.array([[5, 6], [7, -100]])
print(t.batch_decode(np.where(labels != -100, labels, t.pad_token_id), skip_special_tokens=True))`], { encoding: 'utf8' });
  assert.match(out, /cannot decode id -100: -100s are Trainer's padding, not token ids\. Replace them first, e\.g\. labels = np\.where\(labels != -100, labels, tokenizer\.pad_token_id\)/);
  const words = GEN_VOCAB.slice(5, 8);
  assert.match(out, new RegExp(`\\['${words[0]} ${words[1]}', '${words[2]}'\\]`));
});
