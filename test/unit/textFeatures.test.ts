// Tokenized features (src/core/textFeatures, src/core/loop/sequenceFeed.ts): padding from flat features equals
// collate() on the encodings; the feeder thread gives the inline tokenization's chunks; the features cache
// hits only when tokenizer files, dataset bytes and text settings are unchanged, serves identical features,
// and never replaces a file evalpred did not write (docs/cache-format.md#tokenized-features).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { runLoop } from '../../src/core/loop/driver';
import { RunSettings, withDefaults } from '../../src/core/loop/settings';
import { Tensor } from '../../src/core/tensor/tensor';
import { Encoded, LoadedTokenizer, collate, loadTokenizer } from '../../src/core/text';
import { featuresFileFor, openFeatures, readFeatures, writeFeatures } from '../../src/core/textFeatures/featuresFile';
import { TextSettings, featuresKey } from '../../src/core/textFeatures/featuresKey';
import { evaluate, evaluationKey, featuresDirFor, featuresInputs, toolVersion } from '../../src/core/evaluate';
import { cacheKey } from '../../src/core/cache/hash';
import { CACHE_FORMAT } from '../../src/core/cache/manifest';
import { TOKENIZATION_RULES, TOKENIZER_FILES } from '../../src/core/text/tokenizer';
import { FEEDER_THREAD_MIN_ROWS, FeedSource, FeederThread, cachedFeed, chunkRowsFor, feederThreadCounts, tokenizingFeed } from '../../src/core/textFeatures/feeder';
import { CancelledError } from '../../src/core/loop/types';
import type { FeederJob, FromFeeder, ToFeeder } from '../../src/core/textFeatures/feederProtocol';
import { runFeederThread } from '../../src/core/textFeatures/feederThread';
import { FeatureChunk, chunkRows, collateChunk, encodedAt, joinChunks, packEncodings } from '../../src/core/textFeatures/tokenFeatures';
import { seqClsWorkspace, sentences, tempDir, tokenClsWorkspace, writeJsonl } from '../fixtures/workspace';

const TEXT: TextSettings = { task: 'sequence-classification', text: 'sentence', maxLength: 16, truncation: 'longest_first' };

function bytesOf(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Worker.prototype.postMessage patched for one test: `pass` sees every message sent to a thread; one it refuses
 * is held (call its entry in `held` to send it). `restore` puts the original back.
 */
function patchWorkerPost(pass: (m: ToFeeder) => boolean) {
  const post = Worker.prototype.postMessage;
  const held: (() => void)[] = [];
  Worker.prototype.postMessage = function (this: Worker, ...args: unknown[]) {
    const send = () => (post as (...a: unknown[]) => void).apply(this, args);
    if (pass(args[0] as ToFeeder)) send();
    else held.push(send);
  } as typeof post;
  return { held, restore: () => void (Worker.prototype.postMessage = post) };
}

function assertSameChunk(a: FeatureChunk, b: FeatureChunk) {
  assert.deepEqual([...a.starts], [...b.starts]);
  assert.deepEqual([...a.ids], [...b.ids]);
  assert.deepEqual([...a.typeIds], [...b.typeIds]);
}

test('collateChunk pads flat features exactly as collate pads the encodings (both pad sides, type ids on and off, to the longest row or to max length)', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 9 });
    const tok = await loadTokenizer(ws.modelDir);
    const texts = sentences(9, 20, 3);
    // pairs give token type ids 1 on the second text, and truncation at 12 cuts the longer rows
    const encs = texts.map((t, i) => tok.encode(t, i % 2 ? texts[(i + 4) % 9] : undefined, { maxLength: 12, align: false }));
    assert.ok(encs.some((e) => e.typeIds.includes(1)), 'the fixture has pair rows');
    const chunk = joinChunks([packEncodings(0, encs.slice(0, 4)), packEncodings(4, encs.slice(4))]);
    const names = ['input_ids', 'attention_mask', 'token_type_ids'];
    for (const padSide of ['right', 'left'] as const) {
      for (const typeIds of [true, false]) {
        // padTo: run_qa's pad_to_max_length (wider than every row here)
        for (const padTo of [undefined, 15]) {
          for (const [s, e] of [[0, 4], [4, 9], [2, 7]]) {
            const want = collate(encs.slice(s, e), { padTokenId: 7, padSide, names, typeIds, padTo }).feeds;
            const got = collateChunk(chunk, s, e, { padTokenId: 7, padSide, names, typeIds, padTo });
            for (const n of names) {
              assert.deepEqual(got[n].shape, want[n].shape, `${n} shape, ${padSide}, padTo ${padTo}, rows ${s}-${e}`);
              assert.deepEqual(bytesOf(got[n]), bytesOf(want[n]), `${n} values, ${padSide}, typeIds ${typeIds}, padTo ${padTo}, rows ${s}-${e}`);
            }
          }
        }
      }
      assert.equal(collateChunk(chunk, 0, 9, { padTokenId: 7, padSide, names, typeIds: true, padTo: 15 }).input_ids.shape[1], 15);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** `job` through the inline feed and the feeder thread side by side, both closed after `fn`. */
async function withInlineAndThread(job: FeederJob, tok: LoadedTokenizer, fn: (inline: FeedSource, thread: FeedSource) => Promise<void>): Promise<void> {
  const inline = tokenizingFeed(job, tok, { thread: false });
  const thread = tokenizingFeed(job, tok, { thread: true });
  try {
    await fn(inline, thread);
  } finally {
    await inline.close();
    await thread.close();
  }
}

test('the feeder thread sends the same chunks the loop thread tokenizes inline, in order', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const texts = sentences(600, 30, 11);
    const job = { tokenizerDir: ws.modelDir, texts, pairs: null, maxLength: 20, chunkRows: chunkRowsFor(32) };
    const inline = tokenizingFeed(job, tok, { thread: false });
    const thread = tokenizingFeed(job, tok, { thread: true });
    // a thread started before its job (it loads the tokenizer while the run is being decided)
    const ahead = tokenizingFeed(job, tok, { thread: new FeederThread(ws.modelDir) });
    try {
      for (let s = 0; s < texts.length; s += 32) {
        const a = await inline.chunkFor(s, Math.min(texts.length, s + 32));
        const b = await thread.chunkFor(s, Math.min(texts.length, s + 32));
        const c = await ahead.chunkFor(s, Math.min(texts.length, s + 32));
        assert.equal(a.firstRow, b.firstRow);
        assertSameChunk(a, b);
        assertSameChunk(a, c);
      }
      assertSameChunk(inline.complete()!, thread.complete()!);
      assertSameChunk(inline.complete()!, ahead.complete()!);
      assert.equal(thread.complete()!.starts.length, texts.length + 1);
    } finally {
      await inline.close();
      await thread.close();
      await ahead.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('batches in flight: several batches waiting on the feeder thread at once each get their own chunk', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const texts = sentences(700, 30, 5);
    const job = { tokenizerDir: ws.modelDir, texts, pairs: null, maxLength: 20, chunkRows: chunkRowsFor(32) };
    await withInlineAndThread(job, tok, async (inline, thread) => {
      // Asked before any chunk came in: every one of them waits, in three different chunks.
      const starts = [0, 32, 256, 288, 512, 672];
      const got = await Promise.all(starts.map((s) => thread.chunkFor(s, Math.min(texts.length, s + 32))));
      for (const [i, s] of starts.entries()) {
        const c = got[i];
        assert.ok(c.firstRow <= s && s < c.firstRow + c.starts.length - 1, `row ${s} is in its chunk`);
        assertSameChunk(c, await inline.chunkFor(s, Math.min(texts.length, s + 32)));
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the first batch does not wait for the feeder thread: its chunk is tokenized in the loop thread, the rest come from the thread', async () => {
  const dir = tempDir();
  let hold = true;
  // The thread's start is held back until the first chunk was served: a feeder that has not started yet.
  const posts = patchWorkerPost((m) => !(hold && m.type === 'start'));
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const texts = sentences(96, 20, 5);
    const job = { tokenizerDir: ws.modelDir, texts, pairs: null, maxLength: 20, chunkRows: 32 };
    await withInlineAndThread(job, tok, async (inline, thread) => {
      assert.equal(posts.held.length, 1, 'the start message was held');
      // Before: the first batch waited for the thread's first chunk, here for ever.
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the first chunk waited for the feeder thread')), 10_000)));
      const first = await Promise.race([thread.chunkFor(0, 16), waited]).finally(() => clearTimeout(timer));
      assertSameChunk(first, await inline.chunkFor(0, 16));
      hold = false;
      posts.held[0]();
      for (let s = 16; s < texts.length; s += 16) assertSameChunk(await thread.chunkFor(s, s + 16), await inline.chunkFor(s, s + 16));
      assertSameChunk(thread.complete()!, inline.complete()!);
    });
  } finally {
    posts.restore();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the feeder thread stays within its window: at most aheadChunks chunks past the row it was last told, and on when told more', async () => {
  const dir = tempDir();
  const { port1, port2 } = new MessageChannel();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const job = { tokenizerDir: ws.modelDir, texts: sentences(40, 12, 3), pairs: null, maxLength: 16, chunkRows: 4 };
    runFeederThread(port1);
    const got: FeatureChunk[] = [];
    port2.on('message', (m: FromFeeder) => m.type === 'chunk' && got.push(m.chunk));
    // `count` chunks arrive, and no more while the feeder is given time to run past them
    const settles = async (count: number) => {
      for (let i = 0; i < 200 && got.length < count; i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.length, count);
    };
    port2.postMessage({ type: 'start', job, aheadChunks: 3 } satisfies ToFeeder);
    await settles(3);
    port2.postMessage({ type: 'consumed', row: 8 } satisfies ToFeeder); // the loop is at chunk 2: chunks 3 and 4 may follow
    await settles(5);
    port2.postMessage({ type: 'consumed', row: 40 } satisfies ToFeeder);
    await settles(10);
    assert.deepEqual(got.map((c) => c.firstRow), [0, 4, 8, 12, 16, 20, 24, 28, 32, 36], 'in order, each once');
  } finally {
    port1.close();
    port2.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A timeout: a loop that never credits the feeder waits for chunk 16 forever.
test('a long job through the feeder thread: the loop credits it every half window, not per batch', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const sent: ToFeeder[] = [];
  const posts = patchWorkerPost((m) => sent.push(m) > 0);
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    // 40 chunks of 8 rows, read in batches of 4: the feeder's 16-chunk window must move for the loop to finish
    const texts = sentences(320, 12, 17);
    const job = { tokenizerDir: ws.modelDir, texts, pairs: null, maxLength: 16, chunkRows: 8 };
    await withInlineAndThread(job, tok, async (inline, thread) => {
      for (let s = 0; s < texts.length; s += 4) assertSameChunk(await thread.chunkFor(s, s + 4), await inline.chunkFor(s, s + 4));
    });
    const credits = sent.filter((m) => m.type === 'consumed');
    assert.ok(credits.length >= 2, `the window moved (${credits.length} credits)`);
    assert.ok(credits.length <= 40 / 8, `${credits.length} credits for 80 batches: one per half window (8 chunks) at most`);
    assert.ok(credits.every((m, i) => m.type === 'consumed' && m.row % 8 === 0 && (i === 0 || m.row > (credits[i - 1] as { row: number }).row)), 'credits name chunk starts, going forward');
  } finally {
    posts.restore();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the feeder thread reports a tokenization error when the loop reaches it, as an error naming the tokenizer', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    // max length 1 leaves no room for the [CLS] and [SEP] the template adds
    const feed = tokenizingFeed({ tokenizerDir: ws.modelDir, texts: ['a b', 'c d', 'e f', 'g h'], pairs: null, maxLength: 1, chunkRows: 2 }, tok, { thread: true });
    try {
      const cannot = (e: Error) => /tokenizer\.json: cannot truncate to max length 1/.test(e.message);
      // The second chunk is the thread's (it stopped at row 0, the first error); the first is tokenized in this
      // thread when the thread has not sent it, with the same error.
      await assert.rejects(feed.chunkFor(2, 4), cannot);
      await assert.rejects(feed.chunkFor(0, 2), cannot);
    } finally {
      await feed.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a thread started ahead whose tokenizer cannot load reports it when the loop reaches the thread\'s chunks', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const missing = path.join(dir, 'no-tokenizer');
    const feed = tokenizingFeed({ tokenizerDir: missing, texts: ['a b', 'c d', 'e f', 'g h'], pairs: null, maxLength: 8, chunkRows: 2 }, tok, { thread: new FeederThread(missing) });
    try {
      // The first chunk is this thread's to tokenize (with its own tokenizer) unless the thread's failure came first.
      const first = await feed.chunkFor(0, 2).then(
        (c) => c,
        (e: Error) => e,
      );
      if (first instanceof Error) assert.ok(first.message.includes(missing), first.message);
      else assert.equal(chunkRows(first), 2);
      await assert.rejects(feed.chunkFor(2, 4), (e: Error) => e.message.includes(missing));
    } finally {
      await feed.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('features key: unchanged inputs give the same key; each tokenizer file, dataset byte and text setting changes it', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 6 });
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset });
    const inputs = async (over: Partial<RunSettings> = {}) => featuresInputs((await evaluationKey({ ...settings, ...over })).producer);
    const base = featuresKey(await inputs(), TEXT);
    assert.equal(featuresKey(await inputs(), { ...TEXT }), base);
    // what only the run does with the features leaves the key alone
    assert.equal(featuresKey(await inputs({ batchSize: 3, maxSamples: 2, metrics: 'm.py', preprocess: 'argmax' }), TEXT), base, 'batch size, max samples, metric, preprocess');
    const changed: [string, Partial<TextSettings>][] = [
      ['max length', { maxLength: 17 }],
      ['truncation', { truncation: 'only_second' }],
      ['text column', { text: 'other' }],
      ['pair column', { pair: 'sentence2' }],
      ['template', { template: '{sentence}!' }],
      ['doc stride', { docStride: 32 }],
      ['task', { task: 'question-answering' }],
      ['target column', { target: 'summary' }],
      ['max target length', { maxTargetLength: 8 }],
    ];
    for (const [what, change] of changed) assert.notEqual(featuresKey(await inputs(), { ...TEXT, ...change }), base, what);
    assert.notEqual(featuresKey(await inputs({ split: 'test' }), TEXT), base, 'split');
    // one byte of the dataset
    const data = fs.readFileSync(ws.dataset, 'utf8');
    fs.writeFileSync(ws.dataset, data.replace(/"sentence":"(.)/, '"sentence":"X'));
    assert.notEqual(fs.readFileSync(ws.dataset, 'utf8'), data);
    assert.notEqual(featuresKey(await inputs(), TEXT), base, 'dataset bytes');
    fs.writeFileSync(ws.dataset, data);
    assert.equal(featuresKey(await inputs(), TEXT), base, 'restored dataset');
    // the tokenizer files loadTokenizer reads, and none of the others (model weights do not change token ids)
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      const file = path.join(ws.modelDir, f);
      const had = fs.existsSync(file) ? fs.readFileSync(file) : null;
      fs.writeFileSync(file, had ? Buffer.concat([had, Buffer.from(' ')]) : '{}');
      assert.notEqual(featuresKey(await inputs(), TEXT), base, f);
      if (had) fs.writeFileSync(file, had);
      else fs.rmSync(file);
    }
    fs.appendFileSync(path.join(ws.modelDir, 'model.onnx'), Buffer.from([0]));
    assert.equal(featuresKey(await inputs(), TEXT), base, 'model.onnx is not a tokenizer file');
    // Caches made before evalpred's own tokenization last changed (TOKENIZATION_RULES: offsets brought to
    // transformers') are not reused: the same parts without the rules' version, as earlier versions hashed them,
    // give other keys, for predictions and for features.
    const { key, producer } = await evaluationKey(settings);
    const p = producer as { model: { files: { file: string }[] }; dataset: { split: string | null; files: unknown[] }; settings: unknown; preprocessor: unknown };
    const tool = { name: 'evalpred', version: toolVersion() };
    const predictionParts = { format: CACHE_FORMAT, tool, model: p.model.files, dataset: p.dataset.files, settings: p.settings, preprocessor: p.preprocessor };
    assert.equal(cacheKey({ ...predictionParts, tokenization: TOKENIZATION_RULES }), key, 'the prediction key is made of these parts');
    assert.notEqual(cacheKey(predictionParts), key, 'a prediction cache from before the rules changed');
    const tokenizer = p.model.files.filter((f) => (TOKENIZER_FILES as readonly string[]).includes(f.file));
    const featureParts = { tool, tokenizer, dataset: { split: p.dataset.split, files: p.dataset.files } };
    assert.equal(cacheKey({ ...featureParts, tokenization: TOKENIZATION_RULES }), featuresInputs(producer), 'the features inputs are made of these parts');
    assert.notEqual(cacheKey(featureParts), featuresInputs(producer), 'features from before the rules changed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('features file: round trip, fewer rows served from a larger file, more rows or another key miss, damage misses', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const encs = sentences(50, 20, 2).map((t) => tok.encode(t, undefined, { maxLength: 16, align: false }));
    const all = packEncodings(0, encs);
    const fdir = path.join(dir, 'features');
    const key = 'a'.repeat(64);
    assert.equal(writeFeatures(fdir, key, { rows: 50, tables: { inputs: all } }), null);
    assertSameChunk(readFeatures(fdir, key, 50)!.tables.inputs, all);
    const head = readFeatures(fdir, key, 20)!.tables.inputs;
    assertSameChunk(head, packEncodings(0, encs.slice(0, 20)));
    assert.equal(readFeatures(fdir, key, 51), null, 'more rows than stored');
    assert.equal(readFeatures(fdir, 'a'.repeat(16) + 'b'.repeat(48), 10), null, 'same file name, another key');
    const file = featuresFileFor(fdir, key);
    fs.truncateSync(file, fs.statSync(file).size - 3);
    assert.equal(readFeatures(fdir, key, 10), null, 'truncated file');
    // ours (magic intact): replaced by the next write
    assert.equal(writeFeatures(fdir, key, { rows: 50, tables: { inputs: all } }), null);
    assertSameChunk(readFeatures(fdir, key, 50)!.tables.inputs, all);
    assert.deepEqual(fs.readdirSync(fdir), [path.basename(file)], 'no temp file left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('features file: aligned tables (word ids, sequence ids, offsets) and run_qa windows (itemRows) round trip; fewer rows take their windows', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const texts = sentences(12, 20, 4);
    // pre-split words (word ids), and question/context pairs cut into windows (sequence ids, offsets, several items per row)
    const words = texts.map((t) => tok.encodeWords(t.split(' '), { maxLength: 10 }));
    const windows = texts.map((t) => tok.encodeOverflowing('the plot', t, { maxLength: 9, stride: 2, truncation: 'only_second' }));
    const itemRows = Int32Array.from(windows.flatMap((w, r) => w.map(() => r)));
    assert.ok(itemRows.length > texts.length, 'some rows have several windows');
    const fdir = path.join(dir, 'features');
    const key = 'd'.repeat(64);
    const flat = windows.flat();
    const set = { rows: 12, tables: { inputs: packEncodings(0, flat, { aligned: true }) }, itemRows };
    assert.equal(writeFeatures(fdir, key, set), null);
    const back = readFeatures(fdir, key, 12)!;
    assert.deepEqual([...back.itemRows!], [...itemRows]);
    flat.forEach((e, i) => assert.deepEqual(encodedAt(back.tables.inputs, i), e, `window ${i}`));
    const head = readFeatures(fdir, key, 5)!;
    const n5 = windows.slice(0, 5).flat().length;
    assert.equal(head.rows, 5);
    assert.deepEqual([...head.itemRows!], [...itemRows.subarray(0, n5)], 'the windows of the first 5 rows');
    assert.equal(head.tables.inputs.starts.length, n5 + 1);
    // two tables over the same rows (seq2seq's inputs and targets), aligned and not
    const key2 = 'e'.repeat(64);
    const plain = texts.map((t) => tok.encode(t, undefined, { maxLength: 6, align: false }));
    assert.equal(writeFeatures(fdir, key2, { rows: 12, tables: { inputs: packEncodings(0, words, { aligned: true }), targets: packEncodings(0, plain) } }), null);
    const two = readFeatures(fdir, key2, 7)!;
    words.slice(0, 7).forEach((e, i) => assert.deepEqual(encodedAt(two.tables.inputs, i), e));
    // an encoding made with align: false has only its ids, mask and type ids to go by (Encoded.aligned)
    const kept = (e: Encoded) => ({ ids: e.ids, attentionMask: e.attentionMask, typeIds: e.typeIds, aligned: e.aligned });
    plain.slice(0, 7).forEach((e, i) => assert.deepEqual(kept(encodedAt(two.tables.targets, i)), kept(e)));
    assert.equal(two.tables.targets.wordIds, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('features file: a hit reads each batch\'s rows from the file (only those tokens), keeps reading what it opened, and checks every byte at open', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const texts = sentences(40, 20, 5);
    const words = texts.map((t) => tok.encodeWords(t.split(' '), { maxLength: 12 }));
    const plain = texts.map((t) => tok.encode(t, undefined, { maxLength: 10, align: false }));
    const fdir = path.join(dir, 'features');
    const key = 'f'.repeat(64);
    const inputs = packEncodings(0, words, { aligned: true });
    assert.equal(writeFeatures(fdir, key, { rows: 40, tables: { inputs, targets: packEncodings(0, plain) } }), null);
    const f = openFeatures(fdir, key, 30)!;
    try {
      assert.equal(f.items, 30, 'a run over fewer rows sees only those');
      assert.ok(f.has('inputs', true) && f.has('targets', false) && !f.has('targets', true) && !f.has('labels', false));
      for (const [s, e] of [[0, 8], [8, 16], [13, 14], [29, 30], [5, 5]]) {
        const c = f.chunk('inputs', s, e);
        assert.equal(c.firstRow, s);
        assert.equal(c.ids.length, inputs.starts[e] - inputs.starts[s], `rows [${s}, ${e}): only their tokens are read`);
        assertSameChunk(c, packEncodings(s, words.slice(s, e), { aligned: true }));
        for (let i = s; i < e; i++) assert.deepEqual(encodedAt(c, i), words[i]);
        const t = f.chunk('targets', s, e);
        assert.equal(t.wordIds, undefined);
        assert.deepEqual(Array.from(t.ids), plain.slice(s, e).flatMap((x) => x.ids));
      }
      assert.throws(() => f.chunk('inputs', 25, 31), /not in the features file/, 'past the rows served');
      // Another run replaces the file (a rename over it): this one still reads the bytes it checked at open.
      const other = sentences(40, 20, 9).map((t) => tok.encodeWords(t.split(' '), { maxLength: 12 }));
      assert.notDeepEqual(other.slice(3, 9).map((e) => e.ids), words.slice(3, 9).map((e) => e.ids), 'the replacing file holds other tokens');
      assert.equal(writeFeatures(fdir, key, { rows: 40, tables: { inputs: packEncodings(0, other, { aligned: true }) } }), null);
      assertSameChunk(f.chunk('inputs', 3, 9), packEncodings(3, words.slice(3, 9), { aligned: true }));
    } finally {
      f.close();
    }
    // One flipped byte anywhere in the data (here in the last token array) fails the SHA-256 read at open: a miss.
    const file = featuresFileFor(fdir, key);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5] ^= 0x01;
    fs.writeFileSync(file, bytes);
    assert.equal(openFeatures(fdir, key, 10), null, 'a flipped byte is a miss');
    // Starts that go backwards, under a matching hash (written so): a miss too, found by the block-wise check.
    const bad = packEncodings(0, plain.slice(0, 4));
    bad.starts[2] = bad.starts[3] + 1;
    assert.equal(writeFeatures(fdir, key, { rows: 4, tables: { inputs: bad } }), null);
    assert.equal(openFeatures(fdir, key, 4), null, 'starts out of order');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('features file: a hit\'s feed reads several batches\' rows at once, never more than it was told, and serves each batch its own rows', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 4 });
    const tok = await loadTokenizer(ws.modelDir);
    const encs = sentences(40, 20, 7).map((t) => tok.encode(t, undefined, { maxLength: 12, align: false }));
    const fdir = path.join(dir, 'features');
    const key = 'e'.repeat(64);
    const all = packEncodings(0, encs);
    assert.equal(writeFeatures(fdir, key, { rows: 40, tables: { inputs: all } }), null);
    const opts = { padTokenId: 0, padSide: 'right' as const, names: ['input_ids', 'attention_mask', 'token_type_ids'], typeIds: true };
    // batches of 3 with 8 rows per read: a batch may cross a read's end (then the next read starts at it)
    for (const [batch, perRead] of [[3, 8], [8, 8], [5, 4]]) {
      const feed = cachedFeed(openFeatures(fdir, key, 40)!, 'inputs', perRead);
      const reads = new Set<FeatureChunk>();
      try {
        for (let s = 0; s < 40; s += batch) {
          const e = Math.min(40, s + batch);
          const c = await feed.chunkFor(s, e);
          reads.add(c);
          assert.ok(c.firstRow <= s && e <= c.firstRow + chunkRows(c), `batch ${batch}: rows [${s}, ${e}) are in the chunk served`);
          assert.ok(chunkRows(c) <= Math.max(perRead, batch), `batch ${batch}: a read holds at most ${Math.max(perRead, batch)} rows, not ${chunkRows(c)}`);
          const got = collateChunk(c, s, e, opts), want = collateChunk(all, s, e, opts);
          for (const n of opts.names) assert.deepEqual(bytesOf(got[n]), bytesOf(want[n]), `batch ${batch}, rows [${s}, ${e}), ${n}`);
        }
      } finally {
        await feed.close();
      }
      const batches = Math.ceil(40 / batch);
      if (perRead >= 2 * batch) assert.ok(reads.size < batches, `batch ${batch}, ${perRead} rows per read: ${reads.size} reads for ${batches} batches`);
      else assert.equal(reads.size, batches, `batch ${batch}, ${perRead} rows per read: one read per batch`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('features file: a file or folder evalpred did not write at the features path is left alone', async () => {
  const dir = tempDir();
  try {
    const fdir = path.join(dir, 'features');
    fs.mkdirSync(fdir);
    const key = 'c'.repeat(64);
    const file = featuresFileFor(fdir, key);
    fs.writeFileSync(file, 'my notes\n');
    const chunk = { rows: 1, tables: { inputs: packEncodings(0, [{ ids: [1, 2], attentionMask: [1, 1], typeIds: [0, 0], wordIds: [], sequenceIds: [], offsets: [] }]) } };
    assert.match(writeFeatures(fdir, key, chunk)!, /not written by evalpred; it was left alone/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'my notes\n');
    assert.equal(readFeatures(fdir, key, 1), null);
    fs.rmSync(file);
    fs.mkdirSync(file);
    fs.writeFileSync(path.join(file, 'keep.txt'), 'x');
    assert.match(writeFeatures(fdir, key, chunk)!, /not a regular file/);
    assert.deepEqual(fs.readdirSync(file), ['keep.txt']);
    assert.deepEqual(fs.readdirSync(fdir), [path.basename(file)], 'no temp file left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('runLoop with a features dir: a second run reuses identical features; batch size and --max-samples reuse them, a changed max length or dataset does not', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 30 });
    const featuresDir = path.join(dir, 'features');
    const run = async (over: Partial<Parameters<typeof withDefaults>[0]> = {}) => {
      const logs: string[] = [];
      const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs'], ...over });
      const cache = { dir: featuresDir, inputs: featuresInputs((await evaluationKey(settings)).producer) };
      const r = await runLoop(settings, { featuresCache: () => cache, log: (l) => logs.push(l) });
      return { r, reused: logs.some((l) => /reusing the tokenized features/.test(l)), files: fs.readdirSync(featuresDir).sort() };
    };
    const first = await run();
    assert.equal(first.reused, false);
    assert.equal(first.files.length, 1);
    const stored = fs.readFileSync(path.join(featuresDir, first.files[0]));
    const second = await run();
    assert.equal(second.reused, true, 'unchanged: hit');
    assert.deepEqual(second.files, first.files);
    assert.deepEqual(fs.readFileSync(path.join(featuresDir, first.files[0])), stored, 'a hit does not rewrite the file');
    for (const k of ['inputs', 'predictions', 'labelIds'] as const) {
      assert.deepEqual(bytesOf(second.r.evalPred[k] as Tensor), bytesOf(first.r.evalPred[k] as Tensor), k);
    }
    assert.equal((await run({ batchSize: 7 })).reused, true, 'batch size: hit');
    const fewer = await run({ maxSamples: 10 });
    assert.equal(fewer.reused, true, '--max-samples: hit');
    assert.equal((fewer.r.evalPred.inputs as Tensor).shape[0], 10);
    const shorter = await run({ maxLength: 5 });
    assert.equal(shorter.reused, false, 'max length: miss');
    assert.equal((shorter.r.evalPred.inputs as Tensor).shape[1], 5, 'the miss re-tokenized with the new max length');
    assert.equal(shorter.files.length, 2);
    const rows = fs.readFileSync(ws.dataset, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    rows[3].sentence = 'the plot was good';
    writeJsonl(ws.dataset, rows);
    const edited = await run();
    assert.equal(edited.reused, false, 'dataset edited: miss');
    assert.equal(edited.files.length, 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a long run tokenizes ahead before it is decided: a miss gives the inline path\'s batches, a hit and a call-off stop the thread, a bad row is still reported before the first batch', async () => {
  const dir = tempDir();
  try {
    const n = FEEDER_THREAD_MIN_ROWS + 40;
    const ws = seqClsWorkspace(dir, { n });
    const featuresDir = path.join(dir, 'features');
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 32, includeForMetrics: ['inputs'] });
    const cache = { dir: featuresDir, inputs: featuresInputs((await evaluationKey(settings)).producer) };
    // The run is decided late (the host hashes meanwhile): the thread has tokenized ahead by then, and only then
    // is the features cache known, as in evaluate().
    const late = () => new Promise<void>((r) => setTimeout(r, 200));
    const run = async (over: Partial<RunSettings> = {}, hooks: Parameters<typeof runLoop>[1] = {}) => {
      const logs: string[] = [];
      let decided = false;
      const r = await runLoop({ ...settings, ...over }, { featuresCache: () => (decided ? cache : undefined), ready: () => late().then(() => void (decided = true)), log: (l) => logs.push(l), ...hooks });
      return { r, reused: logs.some((l) => /reusing the tokenized features/.test(l)) };
    };
    const before = feederThreadCounts().started;
    const miss = await run();
    assert.equal(miss.reused, false);
    assert.equal(feederThreadCounts().started, before + 1, 'the thread started before the model opened is the one that tokenized');
    // Fewer rows than a thread is started for: the loop thread tokenizes inline, batch by batch. The first 96 rows
    // are the same three batches in both runs, so their arrays must be byte-identical.
    const inline = await runLoop({ ...settings, maxSamples: 100 }, {});
    const head = (t: Tensor, rows: number) => bytesOf(t).subarray(0, (bytesOf(t).length / t.shape[0]) * rows);
    assert.equal((miss.r.evalPred.inputs as Tensor).shape[0], n);
    for (const k of ['inputs', 'predictions', 'labelIds'] as const) {
      assert.deepEqual(head(miss.r.evalPred[k] as Tensor, 96), head(inline.evalPred[k] as Tensor, 96), k);
    }
    const hit = await run();
    assert.equal(hit.reused, true);
    // decided before the model opened: the features file is there, so no thread is even started
    const started = feederThreadCounts().started;
    const known = await run({}, { featuresCache: () => cache });
    assert.equal(known.reused, true);
    assert.equal(feederThreadCounts().started, started, 'a run whose features are known to be cached started a feeder thread');
    for (const r of [hit, known]) for (const k of ['inputs', 'predictions', 'labelIds'] as const) assert.deepEqual(bytesOf(r.r.evalPred[k] as Tensor), bytesOf(miss.r.evalPred[k] as Tensor), k);
    // Called off before the first batch: the thread that tokenized ahead is stopped (a live one would keep this test's process alive).
    await assert.rejects(run({}, { ready: async () => { await late(); throw new CancelledError(); } }), CancelledError);
    // A row without text, past the rows a thread has tokenized before the run is decided: reported before any batch runs.
    const rows = fs.readFileSync(ws.dataset, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    rows[n - 10].sentence = null;
    writeJsonl(ws.dataset, rows);
    let batches = 0;
    await assert.rejects(
      runLoop(settings, { ready: late, progress: () => void batches++ }),
      (e: Error) => e.message.includes(`row ${n - 10}, column "sentence": expected text, found null`),
    );
    assert.equal(batches, 0, 'no batch ran before the bad row was reported');
    // Every thread those runs started has exited (a hit, a call-off and a bad row each stop theirs).
    for (let i = 0; i < 100 && feederThreadCounts().live > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(feederThreadCounts().live, 0, 'feeder threads left running');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('evaluate with --out outside .evalpred/cache writes only that folder: no features are cached elsewhere', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 12 });
    const out = path.join(dir, 'out');
    const before = fs.readdirSync(dir).sort();
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 5, cache: out });
    const logs: string[] = [];
    for (let i = 0; i < 2; i++) await evaluate(settings, { cwd: dir, refresh: true, onLog: (l) => logs.push(l) });
    assert.deepEqual(fs.readdirSync(dir).sort(), [...before, 'out'].sort());
    assert.equal(logs.some((l) => /reusing the tokenized features/.test(l)), false);
    assert.equal(featuresDirFor(out), undefined);
    assert.equal(featuresDirFor(path.join(dir, '.evalpred', 'cache', 'abc')), path.join(dir, '.evalpred', 'features'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('evaluate: a --refresh rerun reuses the features stored under .evalpred/features; a cache hit calls off the worker it started', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 12 });
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 5 });
    const run = async (refresh: boolean) => {
      const logs: string[] = [];
      const e = await evaluate(settings, { cwd: dir, refresh, onLog: (l) => logs.push(l) });
      return { e, features: logs.some((l) => /reusing the tokenized features/.test(l)) };
    };
    const first = await run(true);
    assert.equal(first.features, false);
    assert.equal(fs.readdirSync(path.join(dir, '.evalpred', 'features')).filter((f) => f.endsWith('.features')).length, 1);
    const second = await run(true);
    assert.equal(second.features, true, 'refresh: the loop runs again on the cached features');
    assert.equal(second.e.fromCache, false);
    assert.deepEqual(bytesOf(second.e.evalPred.predictions as Tensor), bytesOf(first.e.evalPred.predictions as Tensor));
    const third = await run(false);
    assert.equal(third.e.fromCache, true);
    assert.equal(third.features, false, 'a prediction cache hit runs no loop');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('per-batch families store features only once every row was tokenized: a cancelled run or a dropped last batch stores none', async () => {
  const dir = tempDir();
  try {
    const ws = tokenClsWorkspace(dir, { n: 10 });
    const featuresDir = path.join(dir, 'features');
    const base = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 });
    const cache = { dir: featuresDir, inputs: featuresInputs((await evaluationKey(base)).producer) };
    const stored = () => (fs.existsSync(featuresDir) ? fs.readdirSync(featuresDir) : []);
    // batches of 4 over 10 rows: the cancelled run stops after the first, the drop-last run never tokenizes rows 8 and 9
    let batches = 0;
    await assert.rejects(runLoop(base, { featuresCache: () => cache, afterBatch: () => void batches++, cancelled: () => batches >= 1 }), /cancelled/);
    assert.deepEqual(stored(), [], 'cancelled');
    const dropped = await runLoop({ ...base, dataloaderDropLast: true }, { featuresCache: () => cache });
    assert.equal(dropped.numSteps, 3);
    assert.deepEqual(stored(), [], 'last batch dropped');
    const logs: string[] = [];
    await runLoop(base, { featuresCache: () => cache, log: (l) => logs.push(l) });
    assert.equal(stored().length, 1, 'a whole run stores them');
    await runLoop({ ...base, dataloaderDropLast: true }, { featuresCache: () => cache, log: (l) => logs.push(l) });
    assert.equal(logs.filter((l) => /reusing the tokenized features of 10 rows/.test(l)).length, 1, 'and a drop-last run then reuses them');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
