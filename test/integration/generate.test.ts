// The evaluation loop on generative models end to end (runLoop -> generative loop), checked against the NumPy
// reference of the tiny models and against the Seq2SeqTrainer / Trainer rules of the spec written out here:
// §6.2 (generate, pad to generation_config.max_length with the pad id, labels likewise), §4.2 (-100 across
// batches), §4.4 (Seq2SeqTrainer: B copies of each batch loss; Trainer: n_s copies), §10 (losses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runLoop } from '../../src/core/loop/driver';
import { withDefaults } from '../../src/core/loop/settings';
import { sampleViews } from '../../src/core/inspect/describe';
import { loadTokenizer } from '../../src/core/text';
import { Tensor } from '../../src/core/tensor/tensor';
import { spawnSync } from 'node:child_process';
import { distFile } from '../../src/core/paths';
import { runPython } from '../helpers/python';
import { EOS, GEN_VOCAB, GEN_WORDS, PAD, runNumpyReference, weightsJson, writeCausalLmModel, writeSeq2SeqModel } from '../fixtures/generative';
import { seqClsWorkspace, tempDir, writeJsonl } from '../fixtures/workspace';

const N = 10, B = 4;

/** Deterministic word sequences of 1..maxWords words from the tiny vocabulary. */
function texts(n: number, seed: number, maxWords = 6): string[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: n }, (_, i) => Array.from({ length: 1 + ((i * 5 + Math.floor(rnd() * maxWords)) % maxWords) }, () => GEN_WORDS[Math.floor(rnd() * GEN_WORDS.length)]).join(' '));
}

/** The word-level tokenizer's ids, worked out by hand: [CLS]=2, each word's vocab index, [SEP]=3. */
const idsOf = (text: string) => [2, ...text.split(' ').map((w) => GEN_VOCAB.indexOf(w)), 3];

const padTo = (r: number[], w: number, v: number) => [...r, ...Array(Math.max(0, w - r.length)).fill(v)];
const batches = <T>(xs: T[]) => Array.from({ length: Math.ceil(xs.length / B) }, (_, b) => xs.slice(b * B, b * B + B));
/** Trainer's cross-batch concat: every row -100-padded to the widest batch. */
const concat = (bs: number[][][]) => {
  const w = Math.max(...bs.map((b) => b[0].length));
  return bs.flat().map((r) => padTo(r, w, -100));
};

function float32Mean(xs: number[]): number {
  return Number(runPython(`import numpy as np; print(repr(float(np.mean(np.array(${JSON.stringify(xs)}, dtype=np.float32)))))`));
}

test('seq2seq predict_with_generate: generated ids, labels and eval_loss as Seq2SeqTrainer builds them; decoded samples', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    const GC_MAX = 9; // model.generation_config.max_length: the padding target of §6.2 step 4
    const w = writeSeq2SeqModel(modelDir, 'three-file', { seed: 4, eosSlope: 1.0, eosFrom: 4, generationConfig: { max_length: GC_MAX } });
    const questions = texts(N, 7);
    const answers = texts(N, 11, 4);
    const dataset = writeJsonl(path.join(dir, 'qa.jsonl'), questions.map((q, i) => ({ question: q, answer: answers[i] })));
    const settings = withDefaults({
      model: modelDir, dataset, batchSize: B, predictWithGenerate: true, generationMaxLength: 30,
      textColumn: 'question', labelColumn: 'answer', includeForMetrics: ['inputs', 'loss'],
    });
    const r = await runLoop(settings);
    assert.equal(r.task as string, 'seq2seq-lm');

    const rows = questions.map(idsOf);
    const base = { kind: 'seq2seq', weightsJson: weightsJson(w), eos: EOS, pad: PAD, start: PAD };
    const gen = runNumpyReference(dir, { ...base, op: 'greedy', max_length: 30, rows, masks: rows.map((x) => x.map(() => 1)) }, runPython) as number[][];
    // per batch: pad rows to the batch max with pad; then to GC_MAX with the tokenizer pad id when narrower
    const genBatches = batches(gen).map((bs) => {
      const wd = Math.max(...bs.map((x) => x.length));
      return bs.map((x) => padTo(x, Math.max(wd, GC_MAX), PAD));
    });
    const preds = r.evalPred.predictions as Tensor;
    assert.equal(preds.dtype, 'int64');
    assert.deepEqual(preds.toArray(), concat(genBatches));
    // this data exercises the cross-batch -100 (batch widths 10, 11, 10)
    assert.ok(Array.from(preds.data as BigInt64Array).includes(-100n));
    // labels: -100 inside a batch (collator), then the pad id up to GC_MAX, then -100 across batches
    const labBatches = batches(answers.map(idsOf)).map((bs) => {
      const wd = Math.max(...bs.map((x) => x.length));
      return bs.map((x) => padTo(padTo(x, wd, -100), Math.max(wd, GC_MAX), PAD));
    });
    const labels = r.evalPred.labelIds as Tensor;
    assert.deepEqual(labels.toArray(), concat(labBatches));
    // one row holds -100 from the collator followed by the pad id from Seq2SeqTrainer (docs/trainer-semantics.md#generation-padding step 7)
    assert.ok((labels.toArray() as number[][]).some((row) => row.join(',').includes('-100,0')));
    assert.deepEqual((r.evalPred.inputs as Tensor).shape, [N, Math.max(...rows.map((x) => x.length))]);

    // eval_loss: teacher-forced decoder on shift_tokens_right(labels); B copies per batch (plain gather)
    const ceJob = batches(answers.map(idsOf)).map((bs, b) => {
      const wd = Math.max(...bs.map((x) => x.length));
      const lab = bs.map((x) => padTo(x, wd, -100));
      return { rows: rows.slice(b * B, b * B + bs.length), labels: lab, decoder_inputs: lab.map((x) => [PAD, ...x.slice(0, -1).map((v) => (v === -100 ? PAD : v))]) };
    });
    const batchLoss = runNumpyReference(dir, { ...base, op: 'seq2seq_ce', batches: ceJob }, runPython) as number[];
    const vector = batchLoss.flatMap((l) => Array(B).fill(l));
    assert.equal((r.evalPred.losses as Tensor).size, 12, 'the last batch of 2 still adds B = 4 copies');
    const want = float32Mean(vector);
    assert.ok(r.evalLoss !== null && Math.abs(r.evalLoss - want) <= 1e-5 * Math.abs(want), `eval_loss ${r.evalLoss} vs ${want}`);

    assert.ok(r.notes.some((n) => /lint generation-width\)/.test(n)), 'predictions (11 wide) and labels (9 wide) differ: noted');

    // without predict_with_generate: Trainer's teacher-forced step, predictions = (logits, encoder_last_hidden_state)
    const tf = await runLoop({ ...settings, predictWithGenerate: false, generationMaxLength: undefined });
    const node = tf.evalPred.predictions as { tuple: Tensor[] };
    assert.ok('tuple' in node && node.tuple.length === 2);
    const Tmax = Math.max(...answers.map((a) => idsOf(a).length));
    assert.deepEqual(node.tuple[0].shape, [N, Tmax, GEN_VOCAB.length]);
    assert.deepEqual(node.tuple[1].shape, [N, Math.max(...rows.map((x) => x.length)), w.hidden]);
    assert.deepEqual((tf.evalPred.labelIds as Tensor).toArray(), concat(batches(answers.map(idsOf)).map((bs) => bs.map((x) => padTo(x, Math.max(...bs.map((y) => y.length)), -100)))));
    // the same teacher-forced loss (same vector of B copies per batch)
    assert.equal(tf.evalLoss, r.evalLoss);
    // logits of rows from narrower batches hold -100.0 in every vocab slot past their batch's width (docs/trainer-semantics.md#worked-examples)
    const lw = batches(answers.map(idsOf)).map((bs) => Math.max(...bs.map((y) => y.length)));
    assert.ok(lw.some((x) => x < Tmax), `label widths per batch ${lw}`);
    for (let i = 0; i < N; i++) {
      const wi = lw[Math.floor(i / B)];
      for (let t = 0; t < Tmax; t++) assert.equal(node.tuple[0].get(i, t, 0) === -100, t >= wi, `row ${i} position ${t}`);
    }

    // decoded for people: special tokens skipped, -100 treated as padding, no crash
    const tok = await loadTokenizer(modelDir);
    const views = sampleViews(r.evalPred, N, { tokenizer: tok, task: r.task });
    assert.equal(views.length, N);
    views.forEach((v, i) => {
      assert.equal(v.label, answers[i]);
      const words = gen[i].filter((t) => t > 4).map((t) => GEN_VOCAB[t]).join(' ');
      assert.equal(v.prediction, words);
      assert.equal(v.input, questions[i]);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('seq2seq merged layout with beam search gives the same predictions as the three-file layout', async () => {
  const dir = tempDir();
  try {
    const a = path.join(dir, 'a'), b = path.join(dir, 'b');
    writeSeq2SeqModel(a, 'three-file', { seed: 3 });
    writeSeq2SeqModel(b, 'merged', { seed: 3 });
    const dataset = writeJsonl(path.join(dir, 'd.jsonl'), texts(6, 5).map((q) => ({ question: q })));
    const s = (m: string) => withDefaults({ model: m, dataset, batchSize: 4, predictWithGenerate: true, maxNewTokens: 12, numBeams: 3, textColumn: 'question' });
    const ra = await runLoop(s(a));
    const rb = await runLoop(s(b));
    assert.deepEqual((rb.evalPred.predictions as Tensor).toArray(), (ra.evalPred.predictions as Tensor).toArray());
    assert.equal(ra.evalPred.labelIds, null);
    assert.equal(ra.evalLoss, null);
    assert.ok(rb.notes.some((n) => /merged layout/.test(n)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const withPast of [false, true]) {
  test(`causal LM (model.onnx ${withPast ? 'with' : 'without'} past key values): logits, labels = input_ids, loss with the shift, argmax preprocessing`, async () => {
    const dir = tempDir();
    try {
      const modelDir = path.join(dir, 'model');
      const w = writeCausalLmModel(modelDir, withPast, { seed: 9 });
      const lines = texts(N, 13, 8);
      const dataset = writeJsonl(path.join(dir, 'lm.jsonl'), lines.map((text) => ({ text })));
      const logs: string[] = [];
      const r = await runLoop(withDefaults({ model: modelDir, dataset, batchSize: B, includeForMetrics: ['loss'] }), { log: (l) => logs.push(l) });
      assert.equal(r.task as string, 'causal-lm');
      const rows = lines.map(idsOf);
      const L = Math.max(...rows.map((x) => x.length));
      const preds = r.evalPred.predictions as Tensor;
      assert.deepEqual(preds.shape, [N, L, GEN_VOCAB.length]);
      const ref = runNumpyReference(dir, { kind: 'causal', weightsJson: weightsJson(w), eos: EOS, pad: PAD, op: 'causal_logits', rows, masks: rows.map((x) => x.map(() => 1)) }, runPython) as number[][][];
      const V = GEN_VOCAB.length;
      const bw = batches(rows).map((bs) => Math.max(...bs.map((x) => x.length)));
      rows.forEach((row, i) => {
        for (let t = 0; t < L; t++) {
          for (let v = 0; v < V; v++) {
            const got = preds.get(i, t, v);
            if (t >= bw[Math.floor(i / B)]) assert.equal(got, -100, `row ${i} pos ${t}: -100 across batches`);
            else if (t < row.length) assert.ok(Math.abs(got - ref[i][t][v]) < 1e-4 * Math.max(1, Math.abs(ref[i][t][v])), `logit [${i},${t},${v}] ${got} vs ${ref[i][t][v]}`);
          }
        }
      });
      // labels: input_ids with pad -> -100 (collator), then -100 across batches: every non-token place is -100
      assert.deepEqual((r.evalPred.labelIds as Tensor).toArray(), rows.map((x) => padTo(x, L, -100)));
      const ce = runNumpyReference(dir, { kind: 'causal', weightsJson: weightsJson(w), eos: EOS, pad: PAD, op: 'causal_ce', batches: batches(rows).map((bs) => ({ rows: bs, labels: bs })) }, runPython) as number[];
      // Trainer (5.x, profile current) divides a GPT2LMHeadModel's summed shifted loss by the UNSHIFTED label count
      // (num_items_in_batch; no ForCausalLM loss_type), so each batch mean scales by shifted / all labels
      // (docs/trainer-semantics.md#losses-we-compute; checked against the real Trainer in test/trainer).
      const counted = batches(rows).map((bs) => [bs.reduce((k, x) => k + x.length - 1, 0), bs.reduce((k, x) => k + x.length, 0)]);
      const scaled = ce.map((l, b) => Math.fround((l * counted[b][0]) / counted[b][1]));
      // Trainer (gather_for_metrics): n_s copies per batch -> 4, 4, 2
      const want = float32Mean(scaled.flatMap((l, b) => Array(Math.min(B, N - b * B)).fill(l)));
      assert.equal((r.evalPred.losses as Tensor).size, N);
      assert.ok(r.evalLoss !== null && Math.abs(r.evalLoss - want) <= 1e-5 * want, `eval_loss ${r.evalLoss} vs ${want}`);
      assert.ok(r.notes.some((n) => n.includes(`perplexity = exp(eval_loss) = ${Math.exp(r.evalLoss!)}`)));
      assert.ok(logs.some((l) => /note: predictions hold full logits: about \d+ bytes/.test(l)), logs.join('\n'));
      // --preprocess argmax: int64 ids [N, L], -100 across batches
      const ra = await runLoop(withDefaults({ model: modelDir, dataset, batchSize: B, preprocess: 'argmax' }));
      const am = ra.evalPred.predictions as Tensor;
      assert.deepEqual(am.shape, [N, L]);
      assert.equal(am.dtype, 'int64');
      rows.forEach((row, i) => {
        for (let t = 0; t < row.length; t++) {
          const z = ref[i][t];
          assert.equal(am.get(i, t), z.indexOf(Math.max(...z)));
        }
        for (let t = bw[Math.floor(i / B)]; t < L; t++) assert.equal(am.get(i, t), -100);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('--predict-with-generate on a classification model is a clear error naming what it needs', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4, numLabels: 2 });
    await assert.rejects(runLoop(withDefaults({ model: ws.modelDir, dataset: ws.dataset, predictWithGenerate: true })), /--predict-with-generate needs a generative model: a seq2seq export/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: run --predict-with-generate caches generated ids and prints decoded samples; inspect shows prediction vs label text', () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeSeq2SeqModel(modelDir, 'merged', { seed: 4, eosSlope: 1.0, eosFrom: 4 });
    const questions = texts(6, 7);
    const answers = texts(6, 11, 4);
    const dataset = writeJsonl(path.join(dir, 'qa.jsonl'), questions.map((q, i) => ({ question: q, answer: answers[i] })));
    const cli = (args: string[]) => spawnSync(process.execPath, [distFile('cli.js'), ...args], { cwd: dir, encoding: 'utf8' });
    const r = cli(['run', '--model', modelDir, '--dataset', dataset, '--batch-size', '4', '--out', 'cache', '--predict-with-generate', '--max-new-tokens', '12', '--label-column', 'answer', '--text-column', 'question']);
    assert.equal(r.status, 0, r.stderr);
    const metrics = JSON.parse(r.stdout.trim());
    assert.ok(typeof metrics.eval_loss === 'number' && metrics.eval_loss > 0, r.stdout);
    assert.match(r.stderr, /predictions = int64\[6, \d+\]/);
    assert.match(r.stderr, new RegExp(`label=${JSON.stringify(answers[0]).replace(/[[\]]/g, '\\$&')}`));
    const ins = cli(['inspect', '--cache', 'cache']);
    assert.equal(ins.status, 0, ins.stderr);
    assert.match(ins.stdout, /seq2seq-lm/);
    for (const a of answers.slice(0, 5)) assert.ok(ins.stdout.includes(`label=${JSON.stringify(a)}`), ins.stdout);
    assert.match(ins.stdout, /pred="[a-z ]*"/);
    // generation flags without --predict-with-generate are refused with a reason
    const bad = cli(['run', '--model', modelDir, '--dataset', dataset, '--num-beams', '2']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /add --predict-with-generate/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the generative loop reports progress per batch and stops between batches when cancelled', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeSeq2SeqModel(modelDir, 'three-file', { seed: 4 });
    const dataset = writeJsonl(path.join(dir, 'd.jsonl'), texts(10, 5).map((q) => ({ question: q })));
    const seen: number[] = [];
    let stop = false;
    const run = runLoop(withDefaults({ model: modelDir, dataset, batchSize: 4, predictWithGenerate: true, textColumn: 'question' }), {
      progress: (p) => {
        seen.push(p.batch);
        if (p.batch === 1) stop = true;
      },
      cancelled: () => stop,
    });
    await assert.rejects(run, (e: Error) => e.name === 'CancelledError');
    assert.deepEqual(seen, [1]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('decoder-only predict_with_generate: prompt + new tokens, padded as Seq2SeqTrainer pads, equal to NumPy greedy', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    const w = writeCausalLmModel(modelDir, true, { seed: 9 });
    // decoder-only generation wants left padding (padding_side in tokenizer_config.json)
    const tcFile = path.join(modelDir, 'tokenizer_config.json');
    fs.writeFileSync(tcFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(tcFile, 'utf8')), padding_side: 'left' }));
    const lines = texts(N, 17, 5);
    const dataset = writeJsonl(path.join(dir, 'p.jsonl'), lines.map((text) => ({ text })));
    const r = await runLoop(withDefaults({ model: modelDir, dataset, batchSize: B, predictWithGenerate: true, maxNewTokens: 8, includeForMetrics: ['loss'] }));
    assert.ok(r.notes.some((n) => /lint generate-includes-prompt\)/.test(n)));
    // expected: per batch, prompts left-padded with 0 to the batch's widest, greedy up to width + 8 tokens
    const want = batches(lines.map(idsOf)).map((bs) => {
      const P = Math.max(...bs.map((x) => x.length));
      const rows = bs.map((x) => [...Array(P - x.length).fill(PAD), ...x]);
      const gen = runNumpyReference(dir, { kind: 'causal', weightsJson: weightsJson(w), eos: EOS, pad: PAD, op: 'causal_greedy', rows, masks: rows.map((x) => x.map((_, j) => (j < rows[0].length && x[j] === PAD ? 0 : 1))), max_length: P + 8 }, runPython) as number[][];
      const wd = Math.max(...gen.map((x) => x.length));
      // model.generation_config.max_length is the default 20 (no generation_config.json): narrower batches pad to 20
      return gen.map((x) => padTo(x, Math.max(wd, 20), PAD));
    });
    assert.deepEqual((r.evalPred.predictions as Tensor).toArray(), concat(want));
    assert.equal((r.evalPred.losses as Tensor).size, 12, 'Seq2SeqTrainer: B copies per batch, the last one too');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('one driver for both families: --max-length is validated and capped by max_position_embeddings for a causal LM as for a classifier', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeCausalLmModel(modelDir, false, { seed: 5 });
    const dataset = writeJsonl(path.join(dir, 'lm.jsonl'), texts(6, 23, 8).map((text) => ({ text })));
    await assert.rejects(runLoop(withDefaults({ model: modelDir, dataset, batchSize: 3, maxLength: 0 })), /--max-length must be a positive integer, got 0/);
    // A config that states max_position_embeddings caps the default length (the tokenizer sets no limit here).
    const cfgFile = path.join(modelDir, 'config.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), max_position_embeddings: 4 }));
    const r = await runLoop(withDefaults({ model: modelDir, dataset, batchSize: 3, preprocess: 'argmax' }));
    assert.equal(r.info.maxLength, 4);
    assert.equal((r.evalPred.predictions as Tensor).shape[1], 4, 'prompts truncated to 4 tokens');
    const over = await runLoop(withDefaults({ model: modelDir, dataset, batchSize: 3, preprocess: 'argmax', maxLength: 5 }));
    assert.ok(over.notes.includes("--max-length 5 exceeds the model's max_position_embeddings 4"), over.notes.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
