// Prediction view queries over 1,000,000 rows (target < 300 ms each, issue 11): the host's answer to a
// new filter / search / sort (computeOrder with no cached order), for a classification table and for a
// seq2seq table of generated ids decoded by a real tokenizer. Building each table is timed apart.
import fs from 'node:fs';
import path from 'node:path';
import { loadTokenizer } from '../src/core/text';
import { Tensor } from '../src/core/tensor/tensor';
import { computeOrder } from '../src/core/view/query';
import { SampleTable } from '../src/core/view/samples';
import type { RowQuery } from '../src/shared/protocol';
import { wordPieceTokenizerJson } from '../src/demo/tokenizerJson';
import { tempDir } from '../test/webview/harness';
import { syntheticEvaluation } from '../test/webview/synthetic';
import { median, printTable } from './util';

const N = 1_000_000;
const TARGET_MS = 300;
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'ran', 'to', 'park', 'what', 'is', 'red', 'blue', 'sky', 'sun', 'big', 'small', 'yes'];

function timeQuery(table: SampleTable, q: RowQuery): { ms: number; total: number } {
  const runs: number[] = [];
  let total = 0;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    total = computeOrder(table, q).length;
    runs.push(performance.now() - t0);
  }
  return { ms: median(runs), total };
}

async function generativeTable(dir: string): Promise<SampleTable> {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS];
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerJson(vocab);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  const tok = await loadTokenizer(dir);
  const W = 6;
  const preds = new BigInt64Array(N * W);
  const labels = new BigInt64Array(N * W).fill(-100n);
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let i = 0; i < N; i++) {
    // generate() rows: decoder start (pad), words, eos; labels: words, eos, -100 padding
    const len = 1 + Math.floor(rnd() * 3);
    preds[i * W] = 0n;
    for (let k = 0; k < len; k++) {
      const w = BigInt(5 + Math.floor(rnd() * WORDS.length));
      preds[i * W + 1 + k] = w;
      labels[i * W + k] = rnd() < 0.5 ? w : BigInt(5 + Math.floor(rnd() * WORDS.length));
    }
    preds[i * W + 1 + len] = 3n;
    labels[i * W + len] = 3n;
  }
  return new SampleTable({
    evalPred: { predictions: new Tensor('int64', [N, W], preds), labelIds: new Tensor('int64', [N, W], labels), inputs: null, losses: null },
    task: 'seq2seq-lm',
    tokenizer: tok,
    generated: true,
  });
}

export async function main(): Promise<void> {
  const dir = tempDir();
  try {
    const rows: [string, number, string, string][] = [];
    const verdict = (ms: number) => [`${(ms / TARGET_MS).toFixed(2)}x`, ms < TARGET_MS ? 'ok' : `SLOW (target < ${TARGET_MS} ms)`] as [string, string];
    let t0 = performance.now();
    const cls = new SampleTable(syntheticEvaluation(dir, N));
    rows.push(['classification: build the table', performance.now() - t0, '', '(once, before the panel opens)']);
    t0 = performance.now();
    cls.buildSearchIndex(N);
    rows.push(['classification: search strings', performance.now() - t0, '', '(in slices after the panel opens)']);
    const clsQueries: [string, RowQuery][] = [
      ['wrong only', { filter: { wrongOnly: true }, sort: { key: 'index', descending: false } }],
      ['confusion cell (gold, predicted)', { filter: { gold: 'negative', predicted: 'positive' }, sort: { key: 'index', descending: false } }],
      ['sort by loss', { filter: {}, sort: { key: 'loss', descending: true } }],
      ['wrong only + sort by confidence', { filter: { wrongOnly: true }, sort: { key: 'confidence', descending: false } }],
      ['search "awful"', { filter: { search: 'awful' }, sort: { key: 'index', descending: false } }],
    ];
    for (const [name, q] of clsQueries) {
      const r = timeQuery(cls, q);
      rows.push([`classification: ${name} (${r.total.toLocaleString('en-US')} rows)`, r.ms, ...verdict(r.ms)]);
    }
    t0 = performance.now();
    const gen = await generativeTable(dir);
    rows.push(['seq2seq: build the table (decode 2 x 1M rows)', performance.now() - t0, '', '(once, before the panel opens)']);
    t0 = performance.now();
    gen.buildSearchIndex(N);
    rows.push(['seq2seq: search strings', performance.now() - t0, '', '(in slices after the panel opens)']);
    const genQueries: [string, RowQuery][] = [
      ['wrong only', { filter: { wrongOnly: true }, sort: { key: 'index', descending: false } }],
      ['search "blue"', { filter: { search: 'blue' }, sort: { key: 'index', descending: false } }],
      ['wrong only + search "sky"', { filter: { wrongOnly: true, search: 'sky' }, sort: { key: 'index', descending: true } }],
    ];
    for (const [name, q] of genQueries) {
      const r = timeQuery(gen, q);
      rows.push([`seq2seq: ${name} (${r.total.toLocaleString('en-US')} rows)`, r.ms, ...verdict(r.ms)]);
    }
    printTable(`Prediction view queries over ${N.toLocaleString('en-US')} rows (median of 3, no cached order; ratio = time / ${TARGET_MS} ms target)`, rows);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

