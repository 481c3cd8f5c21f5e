// A synthetic large evaluation for the scroll tests and the benchmark: N samples of 4-class logits written
// with the real cache writer and read back, plus an in-memory dataset for the texts.
import path from 'node:path';
import { readCache, writeCache } from '../../src/core/cache/store';
import type { Dataset } from '../../src/core/data';
import { Tensor } from '../../src/core/tensor/tensor';
import type { ViewInput } from '../../src/core/view/viewModel';

export const SYNTH_LABELS = ['negative', 'neutral', 'positive', 'mixed'];
const WORDS = ['good', 'bad', 'movie', 'film', 'great', 'awful', 'plot', 'actors', 'the', 'was', 'not', 'very', 'fun', 'boring'];

export function synthText(i: number): string {
  const words = [];
  for (let k = 0, s = i * 2654435761; k < 3 + (i % 9); k++) words.push(WORDS[(s = (s * 1103515245 + 12345) >>> 0) % WORDS.length]);
  return `review ${i}: ${words.join(' ')}`;
}

/** Writes the cache into `dir` and returns a ViewInput read back from it. */
export function syntheticEvaluation(dir: string, n: number): ViewInput {
  const C = SYNTH_LABELS.length;
  const logits = new Float32Array(n * C);
  const labels = new BigInt64Array(n);
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let i = 0; i < n; i++) {
    const gold = i % C;
    labels[i] = BigInt(gold);
    for (let c = 0; c < C; c++) logits[i * C + c] = rnd() * 2 - 1 + (c === gold ? 1.2 * rnd() : 0);
  }
  const cacheDir = path.join(dir, 'cache');
  writeCache(
    cacheDir,
    { predictions: new Tensor('float32', [n, C], logits), labelIds: new Tensor('int64', [n], labels), inputs: null, losses: null },
    { numSamples: n, key: 'synthetic', producer: { synthetic: true } },
  );
  const { evalPred } = readCache(cacheDir);
  const dataset: Dataset = {
    source: 'synthetic',
    format: 'jsonl',
    columns: ['text', 'label'],
    numRows: n,
    row: (i) => ({ text: synthText(i), label: i % C }),
  };
  return {
    title: `synthetic (${n.toLocaleString('en-US')} samples)`,
    evalPred,
    task: 'sequence-classification',
    id2label: Object.fromEntries(SYNTH_LABELS.map((l, k) => [k, l])),
    dataset,
    textColumn: 'text',
    labelColumn: 'label',
  };
}
