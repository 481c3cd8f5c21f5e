// The built-in demo (model + tokenizer + dataset built from code) and the BERT-style tokenizer.json writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildDemo, DEMO_VOCAB } from '../../src/demo';
import { wordPieceIds } from '../../src/demo/train';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { tempDir } from '../helpers/tempDir';

function loadTokenizer(modelDir: string): Tokenizer {
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(modelDir, f), 'utf8'));
  return new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

test('wordPieceTokenizerJson: loads in @huggingface/tokenizers and tokenizes like BERT uncased', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'movie', '##s', 'were', 'great', '!', 'was', 'not'];
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(vocab, { lowercase: true, modelMaxLength: 32 });
  const tok = new Tokenizer(tokenizer, tokenizerConfig);
  // By hand: lowercased; "movies" -> movie ##s (longest match then continuation); "!" split off; "xyz" unknown.
  const e = tok.encode('The movies were GREAT! xyz');
  assert.deepEqual(e.tokens, ['[CLS]', 'the', 'movie', '##s', 'were', 'great', '!', '[UNK]', '[SEP]']);
  assert.deepEqual(e.ids, [2, 5, 6, 7, 8, 9, 10, 1, 3]);
  assert.deepEqual(e.attention_mask, Array(9).fill(1));
  // Pair template: [CLS] A [SEP] B [SEP] with type ids 0 for the first part, 1 for B and its [SEP].
  const p = tok.encode('the movie', { text_pair: 'was not great', return_token_type_ids: true });
  assert.deepEqual(p.tokens, ['[CLS]', 'the', 'movie', '[SEP]', 'was', 'not', 'great', '[SEP]']);
  assert.deepEqual(p.token_type_ids, [0, 0, 0, 0, 1, 1, 1, 1]);
  // WordPiece decoder joins ## pieces and drops specials when asked.
  // ([UNK] is a special token too, so it is skipped.)
  assert.equal(tok.decode(e.ids, { skip_special_tokens: true }), 'the movies were great!');
  assert.equal(tokenizerConfig.model_max_length, 32);
  assert.equal(tokenizerConfig.do_lower_case, true);
  assert.equal(tokenizerConfig.pad_token, '[PAD]');
  assert.equal((tokenizer as { padding: unknown }).padding, null);
  assert.equal((tokenizer as { truncation: unknown }).truncation, null);
  // Cased variant keeps case, so "GREAT" is unknown.
  const cased = wordPieceTokenizerJson(vocab, { lowercase: false });
  assert.deepEqual(new Tokenizer(cased.tokenizer, cased.tokenizerConfig).encode('the GREAT').tokens, ['[CLS]', 'the', '[UNK]', '[SEP]']);
  assert.throws(() => wordPieceTokenizerJson(['[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]']), /vocab\[0\] must be \[PAD\]/);
});

test('buildDemo writes a complete model folder and dataset that load', () => {
  const dir = tempDir();
  try {
    const { modelDir, datasetFile } = buildDemo(dir);
    for (const f of ['model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(fs.existsSync(path.join(modelDir, f)), f);
    const cfg = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, ['BertForSequenceClassification']);
    assert.deepEqual(cfg.id2label, { 0: 'negative', 1: 'positive' });
    assert.deepEqual(cfg.label2id, { negative: 0, positive: 1 });
    assert.equal(cfg.vocab_size, DEMO_VOCAB.length);

    const rows = fs.readFileSync(datasetFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(rows.length >= 150 && rows.length <= 300, `${rows.length} rows`);
    for (const r of rows) {
      assert.deepEqual(Object.keys(r), ['sentence', 'label']);
      assert.equal(typeof r.sentence, 'string');
      assert.ok(r.label === 0 || r.label === 1);
    }
    const positives = rows.filter((r) => r.label === 1).length;
    assert.ok(positives > rows.length * 0.3 && positives < rows.length * 0.7, `${positives} positives: roughly balanced`);
    assert.ok(rows.some((r) => / not /.test(r.sentence)), 'has negations');
    assert.ok(rows.some((r) => / but /.test(r.sentence)), 'has mixed sentences');
    assert.ok(new Set(rows.map((r) => r.sentence)).size > rows.length * 0.8, 'sentences are varied');

    // The tokenization the weights were trained with is exactly what the shipped tokenizer.json produces.
    const tok = loadTokenizer(modelDir);
    const vocab = new Map(DEMO_VOCAB.map((w, i) => [w, i]));
    for (const r of rows) assert.deepEqual(wordPieceIds(r.sentence, vocab), tok.encode(r.sentence).ids, r.sentence);
    assert.ok(rows.every((r) => !tok.encode(r.sentence).ids.includes(1)), 'no [UNK] in the demo sentences');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('buildDemo is deterministic: two builds give the same bytes', () => {
  const a = tempDir();
  const b = tempDir();
  try {
    buildDemo(a);
    buildDemo(b);
    const hashes = (root: string) => {
      const out: Record<string, string> = {};
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else out[path.relative(root, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
        }
      };
      walk(root);
      return out;
    };
    const ha = hashes(a);
    assert.deepEqual(Object.keys(ha).sort(), ['model/config.json', 'model/model.onnx', 'model/tokenizer.json', 'model/tokenizer_config.json', 'validation.jsonl']);
    assert.deepEqual(hashes(b), ha);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});

test('the demo model is good but not perfect on its validation set (onnxruntime, padded batches)', async () => {
  const dir = tempDir();
  try {
    const { modelDir, datasetFile } = buildDemo(dir);
    const tok = loadTokenizer(modelDir);
    const rows: { sentence: string; label: number }[] = fs.readFileSync(datasetFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const session = await ort.InferenceSession.create(path.join(modelDir, 'model.onnx'));
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
    let correct = 0;
    const predicted = new Set<number>();
    for (let start = 0; start < rows.length; start += 16) {
      const batch = rows.slice(start, start + 16);
      const enc = batch.map((r) => tok.encode(r.sentence).ids);
      const len = Math.max(...enc.map((ids) => ids.length));
      // Pad right with [PAD] = 0 and mask 0, as DataCollatorWithPadding does.
      const ids = BigInt64Array.from(enc.flatMap((e) => [...e, ...Array(len - e.length).fill(0)].map(BigInt)));
      const mask = BigInt64Array.from(enc.flatMap((e) => [...e.map(() => 1), ...Array(len - e.length).fill(0)].map(BigInt)));
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, [batch.length, len]),
        attention_mask: new ort.Tensor('int64', mask, [batch.length, len]),
      });
      assert.deepEqual(out.logits.dims, [batch.length, 2]);
      const logits = out.logits.data as Float32Array;
      batch.forEach((r, i) => {
        const pred = logits[i * 2 + 1] > logits[i * 2] ? 1 : 0;
        predicted.add(pred);
        if (pred === r.label) correct++;
      });
    }
    const accuracy = correct / rows.length;
    assert.ok(accuracy >= 0.8 && accuracy <= 0.93, `validation accuracy ${accuracy} should be in [0.8, 0.93]`);
    assert.deepEqual([...predicted].sort(), [0, 1], 'predicts both classes');
    await session.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
