// The tokenized-features cache (docs/cache-format.md#tokenized-features): evaluate() --refresh on a fresh
// features folder (a miss: the rows are tokenized, ahead of inference in the feeder thread, and stored)
// against the same run again (a hit: the features are read back), side by side, interleaved rounds, median.
// Issue 12 item 2: the second run's tokenization time ~ 0.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluate } from '../src/core/evaluate';
import { withDefaults } from '../src/core/loop/settings';
import { writeBenchModel } from './loopThroughput';
import { median, printTable } from './util';

const ROWS = Number(process.env.BENCH_FEATURES_ROWS ?? 20000), B = 32, ROUNDS = Number(process.env.BENCH_FEATURES_ROUNDS ?? 3);

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-'));
  try {
    const words = Array.from({ length: 3000 - 5 }, (_, i) => `w${i.toString(36)}`);
    const modelDir = path.join(dir, 'model');
    fs.mkdirSync(modelDir);
    writeBenchModel(modelDir, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words]);
    let x = 5;
    const r = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    // SST-2-like lengths: 2 to 50 words
    const sentences = Array.from({ length: ROWS }, () => Array.from({ length: 2 + Math.floor(r() * 49) }, () => words[Math.floor(r() * words.length)]).join(' '));
    const dataset = path.join(dir, 'data.jsonl');
    fs.writeFileSync(dataset, sentences.map((s, i) => JSON.stringify({ sentence: s, label: i % 2 })).join('\n') + '\n');
    const settings = withDefaults({ model: modelDir, dataset, batchSize: B, maxLength: 128 });
    const features = path.join(dir, '.evalpred', 'features');
    const missTok: number[] = [], hitTok: number[] = [], missRun: number[] = [], hitRun: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      fs.rmSync(features, { recursive: true, force: true });
      const miss = await evaluate(settings, { cwd: dir, refresh: true });
      const hit = await evaluate(settings, { cwd: dir, refresh: true });
      missTok.push(miss.loop.timings.tokenizeMs);
      hitTok.push(hit.loop.timings.tokenizeMs);
      missRun.push(miss.loop.runtimeSeconds * 1000);
      hitRun.push(hit.loop.runtimeSeconds * 1000);
    }
    const mt = median(missTok), ht = median(hitTok), mr = median(missRun), hr = median(hitRun);
    printTable(`tokenized-features cache, ${ROWS} rows, batch ${B}: evaluate() --refresh, first run (miss) vs second (hit) (ms, median of ${ROUNDS} rounds; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`, [
      ['loop time waiting for input, miss (tokenize ahead + pad)', mt, '1.00x', `${((100 * mt) / mr).toFixed(1)}% of the loop`],
      ['loop time waiting for input, hit (read + pad)', ht, `${(ht / mt).toFixed(2)}x`, `${((100 * ht) / hr).toFixed(1)}% of the loop; target ~0 (< 2%): ${ht <= 0.02 * hr ? 'met' : 'NOT met'}`],
      ['loop runtime, miss', mr, '1.00x', ''],
      ['loop runtime, hit', hr, `${(hr / mr).toFixed(2)}x`, ''],
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
