// Greedy generation of 64 new tokens on a seq2seq export (optimum's three-file layout), with and without the
// KV cache, measured side by side in one run (interleaved rounds, median). Targets (issue 4): the cache makes
// generation >= 3x faster, and with it the step time stays flat: step 64 within 1.5x of step 8.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seq2seqDecoderOnnx, seq2seqEncoderOnnx, seq2seqWeights } from '../src/demo/generativeModels';
import { median, printTable, timeIt } from './util';
import { openKvCacheRun } from './kvCacheRun';

const V = 4000, H = 256, BATCH = 4, SRC = 24, NEW = 64, ROUNDS = 5;

function writeModel(dir: string): void {
  // No eos bias: every row runs the full 64 tokens, so both variants do the same number of steps.
  const w = seq2seqWeights({ vocabSize: V, hidden: H, maxPositions: 128, seed: 11 });
  fs.writeFileSync(path.join(dir, 'encoder_model.onnx'), seq2seqEncoderOnnx(w));
  fs.writeFileSync(path.join(dir, 'decoder_model.onnx'), seq2seqDecoderOnnx(w, false));
  fs.writeFileSync(path.join(dir, 'decoder_with_past_model.onnx'), seq2seqDecoderOnnx(w, true));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['T5ForConditionalGeneration'], vocab_size: V, decoder_start_token_id: 0, pad_token_id: 0 }));
  fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ decoder_start_token_id: 0, pad_token_id: 0, max_new_tokens: NEW }));
}

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-'));
  try {
    writeModel(dir);
    const { run, close } = await openKvCacheRun(dir, { batch: BATCH, src: SRC, newTokens: NEW, vocab: V, idStride: 37 });
    const cachedT: number[] = [], plainT: number[] = [], step8: number[] = [], step64: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const times: number[] = [];
      cachedT.push(await timeIt(() => run(true, times)));
      plainT.push(await timeIt(() => run(false)));
      // steps are 1-based: step k is times[k - 1]; a 5-step window around each damps scheduler noise
      step8.push(...times.slice(5, 10));
      step64.push(...times.slice(59, 64));
    }
    await close();
    const tps = (ms: number) => ((BATCH * NEW) / ms) * 1000;
    const c = tps(median(cachedT)), p = tps(median(plainT));
    printTable(
      `greedy generation, ${NEW} new tokens x batch ${BATCH}, seq2seq H=${H} V=${V}, source ${SRC} tokens (tokens/s, median of ${ROUNDS} interleaved rounds)`,
      [
        ['without the KV cache (decoder_model.onnx over the whole prefix)', p, '1.00x', ''],
        ['with the KV cache (decoder_with_past_model.onnx)', c, `${(c / p).toFixed(2)}x`, `target >= 3x: ${c >= 3 * p ? 'met' : 'NOT met'}`],
      ],
      'tok/s',
    );
    const s8 = median(step8), s64 = median(step64);
    printTable(`per-step time with the KV cache (ms, median over ${ROUNDS} rounds of a 5-step window)`, [
      ['step 8 (steps 6-10)', s8, '1.00x', ''],
      ['step 64 (steps 60-64)', s64, `${(s64 / s8).toFixed(2)}x`, `target <= 1.5x: ${s64 <= 1.5 * s8 ? 'met' : 'NOT met'}`],
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
