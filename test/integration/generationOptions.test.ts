// num_return_sequences through the whole run (docs/trainer-semantics.md#generation-options): N x n generated rows,
// each sample's n beams together as generate() returns them, padded as Seq2SeqTrainer pads them, cached with
// the manifest's num_return_sequences, read back, and shown per sample (its n sequences, best first) in the CLI's
// samples, the prediction view's table and the debugger's sample; the row-mismatch lint explains instead of warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { evaluate } from '../../src/core/evaluate';
import { readCache } from '../../src/core/cache/reader';
import { withDefaults } from '../../src/core/loop/settings';
import { sampleViews } from '../../src/core/inspect/describe';
import { lintEvalPrediction } from '../../src/core/lint/lints';
import { sampleAt } from '../../src/core/runtime/pausedState';
import { SampleTable } from '../../src/core/view/samples';
import { generateSeq2Seq } from '../../src/core/generate/generate';
import { effectiveConfig, readGenerationConfig } from '../../src/core/generate/generationConfig';
import { Seq2SeqModel } from '../../src/core/generate/seq2seqModel';
import { loadTokenizer } from '../../src/core/text';
import { Tensor } from '../../src/core/tensor/tensor';
import { GEN_WORDS, PAD, writeSeq2SeqModel } from '../fixtures/generative';
import { tempDir, writeJsonl } from '../fixtures/workspace';

test('num_return_sequences 3 with 3 beams: 3 rows per sample through loop, cache, views and lints', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeSeq2SeqModel(modelDir, 'three-file', { seed: 4, eosSlope: 1.0, eosFrom: 4, generationConfig: { max_length: 9 } });
    const N = 7, n = 3;
    const rows = Array.from({ length: N }, (_, i) => ({ q: GEN_WORDS.slice(i, i + 2 + (i % 3)).join(' '), a: GEN_WORDS.slice(i + 1, i + 3).join(' ') }));
    const dataset = writeJsonl(path.join(dir, 'd.jsonl'), rows);
    const settings = withDefaults({
      model: modelDir, dataset, batchSize: 4, predictWithGenerate: true, numBeams: 3, numReturnSequences: n, repetitionPenalty: 1.3,
      textColumn: 'q', labelColumn: 'a', cache: path.join(dir, 'cache'),
    });
    const ev = await evaluate(settings, { cwd: dir });
    const preds = ev.evalPred.predictions as Tensor;
    const labels = ev.evalPred.labelIds as Tensor;
    assert.equal(preds.shape[0], N * n);
    assert.equal(labels.shape[0], N);
    assert.equal(ev.manifest.num_return_sequences, n);
    assert.equal(ev.loop.info.numReturnSequences, n);

    // batch by batch: generate()'s rows for the batch (n per input, in order), padded to the batch's width and to
    // generation_config max_length 9 with the pad id, then -100 across batches (Trainer's concatenation)
    const model = await Seq2SeqModel.open(modelDir);
    const tok = await loadTokenizer(modelDir);
    const gc = { ...effectiveConfig(readGenerationConfig(modelDir), { numBeams: 3, numReturnSequences: n, repetitionPenalty: 1.3 }, 1) };
    const expected: number[][] = [];
    for (let b = 0; b < N; b += 4) {
      const encs = rows.slice(b, b + 4).map((r) => tok.encode(r.q).ids);
      const S = Math.max(...encs.map((e) => e.length));
      const ids = Tensor.from('int64', [encs.length, S], encs.flatMap((e) => [...e, ...Array(S - e.length).fill(PAD)]));
      const mask = Tensor.from('int64', [encs.length, S], encs.flatMap((e) => [...e.map(() => 1), ...Array(S - e.length).fill(0)]));
      const gen = (await generateSeq2Seq(model, ids, mask, gc)).toArray() as number[][];
      assert.equal(gen.length, encs.length * n);
      expected.push(...gen.map((r) => [...r, ...Array(Math.max(0, 9 - r.length)).fill(PAD)]));
    }
    await model.close();
    const W = Math.max(...expected.map((r) => r.length));
    assert.deepEqual(preds.toArray(), expected.map((r) => [...r, ...Array(W - r.length).fill(-100)]));

    // the cache reads back (N x n prediction rows are allowed by its num_return_sequences) and refuses one more
    const back = readCache(settings.cache!);
    assert.deepEqual((back.evalPred.predictions as Tensor).shape, preds.shape);
    const mf = path.join(settings.cache!, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    fs.writeFileSync(mf, JSON.stringify({ ...m, num_return_sequences: 2 }));
    assert.throws(() => readCache(settings.cache!), /predictions has 21 rows \(shape \(21, \d+\)\), more than the 14 rows \(7 samples x 2 return sequences\) the cache holds/);
    fs.writeFileSync(mf, JSON.stringify({ ...m, num_return_sequences: 'three' }));
    assert.throws(() => readCache(settings.cache!), /"num_return_sequences" is "three", not a positive integer/);
    fs.writeFileSync(mf, JSON.stringify(m));

    // a sample is its block of n rows; it shows all n, ranked, and is scored by the best, the first of the block
    const decoded = (k: number) => tok.decode(expected[k].filter((t) => t >= 0), { skipSpecialTokens: true });
    const best = (i: number) => decoded(i * n);
    const all = (i: number) => Array.from({ length: n }, (_, j) => decoded(i * n + j));
    const views = sampleViews(ev.evalPred, N, { tokenizer: tok, task: 'seq2seq-lm', numReturnSequences: n });
    assert.equal(views.length, N);
    views.forEach((v, i) => {
      assert.equal(v.prediction, best(i));
      assert.deepEqual(v.sequences, all(i));
      assert.equal(v.label, rows[i].a);
    });
    const table = new SampleTable({ evalPred: ev.evalPred, task: 'seq2seq-lm', tokenizer: tok, generated: true, numReturnSequences: n });
    assert.equal(table.n, N);
    assert.ok(table.notes.some((x) => /num_return_sequences 3: predictions hold 3 rows per sample/.test(x)), table.notes.join('\n'));
    for (let i = 0; i < N; i++) {
      assert.equal(table.row(i).prediction, best(i));
      assert.deepEqual(table.row(i).sequences?.map((q) => q.prediction), all(i));
    }
    const s = sampleAt(ev, 2, tok);
    assert.equal(s.view?.prediction, best(2));
    assert.deepEqual(s.view?.sequences, all(2));
    assert.deepEqual(s.rows.filter((r) => r.name.startsWith('predictions')).map((r) => r.name), ['predictions[6]', 'predictions[7]', 'predictions[8]']);

    const lints = lintEvalPrediction({ evalPred: ev.evalPred, settings, task: 'seq2seq-lm' });
    const rm = lints.find((l) => l.id === 'row-mismatch');
    assert.equal(rm?.severity, 'info');
    assert.match(rm!.message, /num_return_sequences 3 gives each sample 3 generated rows in a block/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
