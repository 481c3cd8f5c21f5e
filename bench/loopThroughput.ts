// Samples/s of the full evaluation loop (tokenization, batching, onnxruntime, accumulation, loss) against a
// bare `session.run` loop over the same batches pre-tokenized, on one model with realistic per-token work,
// measured side by side (interleaved rounds: medians, and the median of each round's own ratio). Targets: the loop
// keeps >= 95% of bare (issue 2); evaluate() end to end, first run and rerun, >= 1.0x (issue 12).
// Also the bare loop with the loop's thread options (no spinning, threads for the machine: src/core/model/threads.ts),
// the ceiling any loop meets here (two one-thread lanes, the model's products alone: docs/testing.md#the-tiny-models-loop-bench),
// tokenization throughput, and (with BENCH_SST2_TRAIN set) the whole `evalpred run` process on SST-2 (sst2Run.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphBuilder, attr } from '../src/core/model/onnx/builder';
import { wordPieceTokenizerJson } from '../src/demo/tokenizerJson';
import { runLoopInWorker } from '../src/core/loopWorker/runInWorker';
import { withDefaults } from '../src/core/loop/settings';
import { evaluate } from '../src/core/evaluate';
import { collate, loadTokenizer } from '../src/core/text';
import { Tensor } from '../src/core/tensor/tensor';
import { loopThreadOptions } from '../src/core/model/threads';
import { main as sst2 } from './sst2Run';
import { timeBareLoop, timeLanesLoop, timeProductsLoop, writeProductsModel } from './bareLoop';
import { median, printTable, timeIt } from './util';

const V = 3000, H = 256, F = 1024, ROWS = Number(process.env.BENCH_LOOP_ROWS ?? 2048), B = 32, ROUNDS = Number(process.env.BENCH_LOOP_ROUNDS ?? 5);

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Embedding -> per-token FFN with residual -> masked mean pool -> classifier: about 2·L·H·F MACs per row. */
export function writeBenchModel(dir: string, vocab: string[]) {
  const r = rng(7);
  const w = (shape: number[], scale: number) => Tensor.from('float32', shape, Array.from({ length: shape.reduce((a, b) => a * b) }, () => (r() - 0.5) * scale));
  const g = new GraphBuilder('bench');
  g.input('input_ids', 'int64', ['batch', 'sequence']).input('attention_mask', 'int64', ['batch', 'sequence']);
  g.initializer('emb', w([V, H], 1)).initializer('w1', w([H, F], 0.1)).initializer('w2', w([F, H], 0.1)).initializer('wc', w([H, 2], 0.5));
  const h = g.op('Gather', ['emb', 'input_ids']);
  const f = g.op('MatMul', [g.op('Relu', [g.op('MatMul', [h, 'w1'])]), 'w2']);
  const x = g.op('Add', [h, f]);
  const m = g.op('Cast', ['attention_mask'], { to: attr.int(1) });
  const m3 = g.op('Unsqueeze', [m, g.constant(Tensor.from('int64', [1], [-1]))]);
  const summed = g.op('ReduceSum', [g.op('Mul', [x, m3]), g.constant(Tensor.from('int64', [1], [1]))], { keepdims: attr.int(0) });
  const count = g.op('ReduceSum', [m, g.constant(Tensor.from('int64', [1], [1]))], { keepdims: attr.int(1) });
  const pooled = g.op('Div', [summed, count]);
  g.node('MatMul', [pooled, 'wc'], ['logits']);
  g.output('logits', 'float32', ['batch', 2]);
  fs.writeFileSync(path.join(dir, 'model.onnx'), g.toModel());
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['BertForSequenceClassification'], model_type: 'bert', id2label: { 0: 'NEGATIVE', 1: 'POSITIVE' }, label2id: { NEGATIVE: 0, POSITIVE: 1 }, max_position_embeddings: 128, vocab_size: V }));
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(vocab, { lowercase: true, modelMaxLength: 128 });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
}

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-'));
  const load0 = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  try {
    const words = Array.from({ length: V - 5 }, (_, i) => `w${i.toString(36)}`);
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
    const modelDir = path.join(dir, 'model');
    fs.mkdirSync(modelDir);
    writeBenchModel(modelDir, vocab);
    const r = rng(3);
    const sentences = Array.from({ length: ROWS }, () => Array.from({ length: 10 + Math.floor(r() * 60) }, () => words[Math.floor(r() * words.length)]).join(' '));
    const dataset = path.join(dir, 'data.jsonl');
    fs.writeFileSync(dataset, sentences.map((s, i) => JSON.stringify({ sentence: s, label: i % 2 })).join('\n') + '\n');
    const settings = withDefaults({ model: modelDir, dataset, batchSize: B, maxLength: 128 });

    // Pre-tokenized batches for the bare loop (tokenization is not timed there).
    const tok = await loadTokenizer(modelDir);
    const tTok = await timeIt(() => sentences.forEach((s) => tok.encode(s, undefined, { maxLength: 128, align: false })));
    const encs = sentences.map((s) => tok.encode(s, undefined, { maxLength: 128, align: false }));
    const tCollate = await timeIt(() => {
      for (let s = 0; s < ROWS; s += B) collate(encs.slice(s, s + B), { padTokenId: 0, padSide: 'right', names: ['input_ids', 'attention_mask'] });
    });
    const batches: Record<string, Tensor>[] = [];
    for (let s = 0; s < ROWS; s += B) batches.push(collate(encs.slice(s, s + B), { padTokenId: 0, padSide: 'right', names: ['input_ids', 'attention_mask'] }).feeds);
    const modelFile = path.join(modelDir, 'model.onnx');
    const bare = () => timeBareLoop(modelFile, batches);
    await bare(); // warm-up: page cache, onnxruntime's kernels
    // The same loop on a session with the loop's thread options, opened (threads chosen) at each round's start.
    const bareOpts = () => timeBareLoop(modelFile, batches, loopThreadOptions());
    const bareOptsT: number[] = [];
    // The ceiling (docs/testing.md#the-tiny-models-loop-bench): the same batches on two one-thread lanes opened
    // outside the timing, and the model's per-token products alone over the same token counts.
    const lanesT: number[] = [], productsT: number[] = [];
    const productsFile = path.join(dir, 'products.onnx');
    writeProductsModel(productsFile, H, F);
    // The loop's figure is its own runtime, from the first batch to the last, as Trainer's eval_runtime
    // (worker start and model loading are model preparation, reported on the end-to-end line).
    const bareT: number[] = [], loopT: number[] = [], loopWallT: number[] = [], loopNoTokT: number[] = [];
    // evaluate() end to end in the same rounds: first with no tokenized features cached (the run stores them under
    // .evalpred/features, docs/cache-format.md#tokenized-features), then again with them (a rerun with another
    // batch size, --max-samples or metric).
    const e2eT: number[] = [], warmLoopT: number[] = [], warmE2eT: number[] = [];
    const features = path.join(dir, '.evalpred', 'features');
    for (let round = 0; round < ROUNDS; round++) {
      bareT.push(await bare());
      bareOptsT.push(await bareOpts());
      lanesT.push(await timeLanesLoop(modelFile, batches));
      productsT.push(await timeProductsLoop(productsFile, batches, H));
      let result: Awaited<ReturnType<typeof runLoopInWorker>> | undefined;
      loopWallT.push(await timeIt(async () => (result = await runLoopInWorker(settings))));
      loopT.push(result!.runtimeSeconds * 1000);
      // Trainer's loop receives batches tokenized beforehand (datasets' map); the same loop minus our tokenization.
      loopNoTokT.push(result!.runtimeSeconds * 1000 - result!.timings.tokenizeMs);
      fs.rmSync(features, { recursive: true, force: true });
      e2eT.push(await timeIt(() => evaluate(settings, { cwd: dir, refresh: true })));
      let ev: Awaited<ReturnType<typeof evaluate>> | undefined;
      warmE2eT.push(await timeIt(async () => (ev = await evaluate(settings, { cwd: dir, refresh: true }))));
      warmLoopT.push(ev!.loop.runtimeSeconds * 1000);
    }
    const sps = (ms: number) => (ROWS / ms) * 1000;
    const bareS = sps(median(bareT));
    // The ratio of medians, and the median of the rounds' own ratios (steadier on a machine whose speed drifts
    // over a minute; the verdicts use it, as the SST-2 bench does).
    const perRound = (ts: number[]) => median(ts.map((t, r) => bareT[r] / t));
    const cells = (ts: number[], target?: number): [number, string, string] => {
      const m = perRound(ts);
      const verdict = target ? `target >= ${target.toFixed(2)}x: ${m >= target ? 'met' : 'NOT met'}; ` : '';
      return [sps(median(ts)), `${(sps(median(ts)) / bareS).toFixed(2)}x`, `${verdict}per round ${m.toFixed(2)}x [${ts.map((t, r) => (bareT[r] / t).toFixed(2)).join(' ')}]`];
    };
    printTable(`evaluation loop throughput, ${ROWS} rows, batch ${B}, H=${H}, FFN ${F} (samples/s, median of ${ROUNDS} interleaved rounds, then the median of the rounds' own ratios; load at the start ${load0}, at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`, [
      ['bare session.run over pre-tokenized batches', bareS, '1.00x', `${bareT.map((t) => t.toFixed(0)).join(' ')} ms`],
      ['the same, the loop\'s thread options (no spinning, threads for the load)', ...cells(bareOptsT)],
      ['the same on two one-thread inference lanes, opened beforehand', ...cells(lanesT)],
      ['its per-token products alone (MatMul, Relu, MatMul; same token counts)', ...cells(productsT)],
      ['full loop in its worker (tokenize, run, accumulate, loss)', ...cells(loopT, 0.95)],
      ['the same loop without its tokenization time', ...cells(loopNoTokT)],
      ['loop incl. worker start and model load', ...cells(loopWallT)],
      ['evaluate() end to end (+ hashing, cache write), first run', ...cells(e2eT, 1)],
      ['loop, tokenized features cached (rerun)', ...cells(warmLoopT)],
      ['evaluate() end to end, features cached (rerun)', ...cells(warmE2eT, 1)],
      ['tokenization alone (encode)', sps(tTok), '', ''],
      ['padding/collation alone', sps(tCollate), '', ''],
    ], 'samples/s');
    const tokens = batches.reduce((n, f) => n + f.input_ids.shape[0] * f.input_ids.shape[1], 0);
    const startMs = median(loopWallT.map((t, r) => t - loopT[r]));
    const tokMs = median(loopT.map((t, r) => t - loopNoTokT[r]));
    process.stdout.write(
      `  ${((1 - encs.reduce((n, e) => n + e.ids.length, 0) / tokens) * 100).toFixed(0)}% of the ${tokens} tokens run are padding (Trainer's batches, kept). ` +
        `evaluate() adds to the bare loop's work: the worker's start and the model's opening ${startMs.toFixed(0)} ms, tokenization ${tokMs.toFixed(0)} ms (first run).\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await sst2();
}
