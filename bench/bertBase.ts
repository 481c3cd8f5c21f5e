// The evaluation loop against a bare default-options `session.run` loop over the same batches pre-tokenized,
// on a BERT-base-shaped classifier (12 layers, hidden 768, 12 heads, FFN 3072, vocab 30,522; random weights
// written from code by bench/realisticModels.ts), side by side in one run (interleaved rounds, median), with
// the peak RSS of each. Issue 12 asks for the loop >= 1.0x bare; bench/loopThroughput.ts is the tiny-model twin.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { wordPieceTokenizerJson } from '../src/demo/tokenizerJson';
import { mulberry32 } from '../src/demo/prng';
import { runLoopInWorker } from '../src/core/loopWorker/runInWorker';
import { withDefaults } from '../src/core/loop/settings';
import { collate, loadTokenizer } from '../src/core/text';
import { Tensor } from '../src/core/tensor/tensor';
import { BERT_BASE, bertEncoderOnnx } from './realisticModels';
import { median, peakRss, printTable, processPeakRssMb, timeIt } from './util';

// A forward pass of BERT-base costs ~0.2 GFLOP per token: 96 rows of 8-40 words keep a round near 10 s on 2 cores.
const ROWS = Number(process.env.BENCH_BERT_ROWS ?? 96), B = 16, MAXLEN = 128, ROUNDS = Number(process.env.BENCH_BERT_ROUNDS ?? 3);

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-'));
  try {
    const V = BERT_BASE.vocabSize;
    const words = Array.from({ length: V - 5 }, (_, i) => `w${i.toString(36)}`);
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
    const modelDir = path.join(dir, 'model');
    fs.mkdirSync(modelDir);
    const tBuild = await timeIt(() => fs.writeFileSync(path.join(modelDir, 'model.onnx'), bertEncoderOnnx(BERT_BASE)));
    const modelMb = fs.statSync(path.join(modelDir, 'model.onnx')).size / 2 ** 20;
    fs.writeFileSync(path.join(modelDir, 'config.json'), JSON.stringify({ architectures: ['BertForSequenceClassification'], model_type: 'bert', id2label: { 0: 'NEGATIVE', 1: 'POSITIVE' }, label2id: { NEGATIVE: 0, POSITIVE: 1 }, max_position_embeddings: 512, vocab_size: V, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072 }));
    const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(vocab, { lowercase: true, modelMaxLength: MAXLEN });
    fs.writeFileSync(path.join(modelDir, 'tokenizer.json'), JSON.stringify(tokenizer));
    fs.writeFileSync(path.join(modelDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    const r = mulberry32(3);
    const sentences = Array.from({ length: ROWS }, () => Array.from({ length: 8 + Math.floor(r() * 33) }, () => words[Math.floor(r() * words.length)]).join(' '));
    const dataset = path.join(dir, 'data.jsonl');
    fs.writeFileSync(dataset, sentences.map((s, i) => JSON.stringify({ sentence: s, label: i % 2 })).join('\n') + '\n');
    const settings = withDefaults({ model: modelDir, dataset, batchSize: B, maxLength: MAXLEN });

    const tok = await loadTokenizer(modelDir);
    const encs = sentences.map((s) => tok.encode(s, undefined, { maxLength: MAXLEN, align: false }));
    const batches: Record<string, Tensor>[] = [];
    for (let s = 0; s < ROWS; s += B) batches.push(collate(encs.slice(s, s + B), { padTokenId: 0, padSide: 'right', names: ['input_ids', 'attention_mask'] }).feeds);
    const tokens = encs.reduce((a, e) => a + e.ids.length, 0);

    // A fresh bare session per round, created outside the timing and released before the loop's round, so
    // each side's peak RSS holds one copy of the model (the loop opens its own session per run).
    const bareRound = async () => {
      const session = await ort.InferenceSession.create(path.join(modelDir, 'model.onnx'));
      try {
        const logits: ort.Tensor[] = [];
        const t = await timeIt(async () => {
          for (const f of batches) {
            const out = await session.run({
              input_ids: new ort.Tensor('int64', f.input_ids.data as BigInt64Array, [...f.input_ids.shape]),
              attention_mask: new ort.Tensor('int64', f.attention_mask.data as BigInt64Array, [...f.attention_mask.shape]),
            });
            logits.push(out.logits);
          }
        });
        return { t, first: logits[0].data as Float32Array };
      } finally {
        await session.release();
      }
    };
    const warm = await bareRound(); // warm-up (page cache, ORT's kernels)
    const bareT: number[] = [], loopT: number[] = [], loopWallT: number[] = [], bareRss: number[] = [], loopRss: number[] = [];
    let loopFirst: Float32Array | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const b = await peakRss(bareRound);
      bareT.push(b.result.t);
      bareRss.push(b.peakMb);
      const l = await peakRss(async () => {
        let result: Awaited<ReturnType<typeof runLoopInWorker>> | undefined;
        const wall = await timeIt(async () => (result = await runLoopInWorker(settings)));
        return { result: result!, wall };
      });
      loopT.push(l.result.result.runtimeSeconds * 1000);
      loopWallT.push(l.result.wall);
      loopRss.push(l.peakMb);
      loopFirst = (l.result.result.evalPred.predictions as Tensor).data as Float32Array;
    }
    // Same model, same batches: the loop's first logits must be the bare loop's (else the comparison is void).
    for (let i = 0; i < warm.first.length; i++) {
      if (Math.abs(warm.first[i] - loopFirst![i]) > 1e-3 * (1 + Math.abs(warm.first[i]))) throw new Error(`loop and bare logits differ at ${i}: ${loopFirst![i]} vs ${warm.first[i]}`);
    }
    const sps = (ms: number) => (ROWS / ms) * 1000;
    const bareS = sps(median(bareT)), loopS = sps(median(loopT)), wallS = sps(median(loopWallT));
    printTable(
      `BERT-base-shaped classifier (12x768, ${modelMb.toFixed(0)} MB model, built in ${(tBuild / 1000).toFixed(1)} s): ${ROWS} rows, ${tokens} tokens, batch ${B} (samples/s, median of ${ROUNDS} interleaved rounds)`,
      [
        ['bare default-options session.run over pre-tokenized batches', bareS, '1.00x', ''],
        ['full loop in its worker (tokenize, run, accumulate, loss)', loopS, `${(loopS / bareS).toFixed(2)}x`, `target >= 1.0x: ${loopS >= bareS ? 'met' : 'NOT met'}`],
        ['loop incl. worker start and model load', wallS, `${(wallS / bareS).toFixed(2)}x`, ''],
      ],
      'samples/s',
    );
    const br = median(bareRss), lr = median(loopRss);
    printTable(`peak RSS of the process during each side's round (MB, median of ${ROUNDS}; process peak ${processPeakRssMb().toFixed(0)} MB)`, [
      ['bare session.run loop', br, '1.00x', ''],
      ['full loop in its worker', lr, `${(lr / br).toFixed(2)}x`, ''],
    ], 'MB');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
