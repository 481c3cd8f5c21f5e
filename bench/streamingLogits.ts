// Peak memory of `evalpred run` with full logits of a 32,000-token causal LM (issue 12 item 3: 300 short
// sentences, 2.3 GB of logits, used to fail at the cache write after a 4.2 GB peak; 100 sentences took 1.5 GB).
// The loop streams its arrays to disk (src/core/loop/spool.ts), so the peak should not grow with the rows.
// Printed side by side in one run: the CLI's peak RSS for `--version`, and for runs of 100 and 300 rows.
// BENCH_STREAM_BIG=1 adds a run with >= 5 GB of logits and times metric reruns on it: a Python metric
// (memory-mapped arrays) and a TS metric that reads the logits with tensor.chunks() (docs/cache-format.md#arrays-larger-than-memory).
// The model is a GPT-2-shaped one-layer LM built from code (src/demo/generativeModels.ts) with a 32k vocabulary:
// what matters here is the [N, L, 32000] float32 output, not the depth.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GEN_WORDS, writeCausalLmModel } from '../test/fixtures/generative';
import { PY_TOKEN_ACCURACY, TS_TOKEN_ACCURACY } from '../test/fixtures/tokenAccuracyMetrics';
import { ChildPeak, runMeasured } from '../test/helpers/peakRss';
import { mulberry32 } from '../src/demo/prng';
import { printTable } from './util';

const VOCAB = 32_000;
const WORDS_PER_SENTENCE = Number(process.env.BENCH_STREAM_WORDS ?? 58); // + [CLS]/[SEP]: 60 tokens, as the sentences
const BATCH = 8;

function sentences(n: number, seed: number): string[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: WORDS_PER_SENTENCE }, () => GEN_WORDS[Math.floor(rng() * GEN_WORDS.length)]).join(' '));
}

/** The CLI's largest child process of each name at its peak: all of it, and what was its own (anonymous) memory.
 *  Shells of a few MB (finding the Python interpreter) are left out. */
function childPeaks(children: ChildPeak[] | undefined): string {
  const largest = new Map<string, ChildPeak>();
  for (const c of children ?? []) if (c.peakMb >= 5 && c.peakMb > (largest.get(c.name)?.peakMb ?? 0)) largest.set(c.name, c);
  return [...largest.values()].map((c) => `; ${c.name} ${c.peakMb.toFixed(0)} MB (${c.anonPeakMb.toFixed(0)} MB its own, the rest mapped file pages)`).join('');
}

export async function main(): Promise<void> {
  const cli = path.resolve(__dirname, '../../dist/cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run node esbuild.mjs first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-stream-'));
  const big = process.env.BENCH_STREAM_BIG === '1';
  const bigRows = Math.ceil((5 * 1024 ** 3) / ((WORDS_PER_SENTENCE + 2) * VOCAB * 4));
  try {
    const model = path.join(dir, 'model');
    writeCausalLmModel(model, false, { vocabSize: VOCAB, hidden: 16, maxPositions: 128, seed: 3, tokenizer: true });
    const data = path.join(dir, 'lm.jsonl');
    fs.writeFileSync(data, sentences(big ? bigRows : 300, 7).map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const idle = await runMeasured(cli, ['--version'], dir);
    const rows: [string, number, string, string][] = [['evalpred --version (baseline)', idle.peakMb, '1.00x', '']];
    const runs = big ? [100, 300, bigRows] : [100, 300];
    let bigCache = '';
    for (const n of runs) {
      const out = path.join(dir, `cache-${n}`);
      const t0 = performance.now();
      const r = await runMeasured(cli, ['run', '--model', model, '--dataset', data, '--max-samples', String(n), '--batch-size', String(BATCH), '--out', out], dir, 3_600_000);
      const s = (performance.now() - t0) / 1000;
      if (r.code !== 0) {
        // Printed, not thrown: what the CLI did before streaming (the failure) is a figure too.
        rows.push([`run, ${n} rows: FAILED after ${s.toFixed(0)} s (${r.stderr.trim().split('\n').pop()?.slice(0, 120)})`, r.peakMb, `${(r.peakMb / idle.peakMb).toFixed(2)}x`, '']);
        continue;
      }
      const logitsMb = fs.statSync(path.join(out, 'predictions.npy')).size / 1024 ** 2;
      rows.push([`run, ${n} rows: ${(logitsMb / 1024).toFixed(2)} GiB of logits (${s.toFixed(0)} s)`, r.peakMb, `${(r.peakMb / idle.peakMb).toFixed(2)}x`, `${((r.peakMb / logitsMb) * 100).toFixed(1)} % of the logits`]);
      if (n === bigRows) bigCache = out;
      else fs.rmSync(out, { recursive: true, force: true });
    }
    printTable(`streamed accumulation: peak RSS of evalpred run with full logits of a ${VOCAB}-token causal LM (batch ${BATCH}, ${WORDS_PER_SENTENCE + 2} tokens a row)`, rows, 'MB');
    if (bigCache) {
      fs.writeFileSync(path.join(dir, 'metric.py'), PY_TOKEN_ACCURACY);
      fs.writeFileSync(path.join(dir, 'metric.ts'), TS_TOKEN_ACCURACY);
      const reruns: [string, number, string, string][] = [];
      for (const file of ['metric.py', 'metric.ts']) {
        const t0 = performance.now();
        const r = await runMeasured(cli, ['metrics', '--cache', bigCache, '--metrics', file], dir, 3_600_000);
        const ms = performance.now() - t0;
        if (r.code !== 0) throw new Error(`evalpred metrics ${file} failed: ${r.stderr}`);
        reruns.push([`${file} (${file.endsWith('.py') ? 'memory-mapped' : 'tensor.chunks()'}), peak RSS ${r.peakMb.toFixed(0)} MB${childPeaks(r.children)}`, ms / 1000, '', '']);
      }
      printTable(`metric reruns on ${bigRows} rows (${(fs.statSync(path.join(bigCache, 'predictions.npy')).size / 1024 ** 3).toFixed(2)} GiB of logits), wall time of evalpred metrics`, reruns, 's');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
