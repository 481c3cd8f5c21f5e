// The tokenized-features cache for every task family (docs/cache-format.md#tokenized-features): token
// classification, extractive QA with and without --doc-stride, seq2seq and decoder-only generation. For each,
// through evaluate() as the CLI runs it: an unchanged rerun reuses the features and leaves a prediction cache
// byte-identical to the miss's; a run that changes only what happens after tokenization reuses them too and
// gives what a run without any features cache gives; each setting that changes the tokens misses; a damaged
// features file is ignored and rewritten, and a file evalpred did not write is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { evaluate } from '../../src/core/evaluate';
import { RunSettings, withDefaults } from '../../src/core/loop/settings';

import { qaWorkspace, tempDir, tokenClsWorkspace, writeJsonl } from '../fixtures/workspace';
import { writeCausalLmModel, writeSeq2SeqModel } from '../fixtures/generative';

type Over = Partial<RunSettings>;

/** Every file of a prediction cache; the manifest without what differs between any two runs (timings). */
function snapshot(cacheDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(cacheDir).sort()) {
    const bytes = fs.readFileSync(path.join(cacheDir, f));
    if (f === 'manifest.json') {
      const m = JSON.parse(bytes.toString('utf8'));
      delete m.loop?.runtimeSeconds;
      delete m.loop?.timings;
      delete m.created;
      delete m.createdAt;
      out[f] = JSON.stringify(m);
    } else out[f] = bytes.toString('base64');
  }
  return out;
}

/** A workspace's runs: each through evaluate() with --refresh (so the loop runs), in `dir` as the working directory. */
function runner(dir: string, base: RunSettings) {
  const featuresDir = path.join(dir, '.evalpred', 'features');
  let refs = 0;
  const run = async (over: Over = {}) => {
    const logs: string[] = [];
    const e = await evaluate({ ...base, ...over }, { cwd: dir, refresh: true, onLog: (l) => logs.push(l) });
    return {
      hit: logs.some((l) => /reusing the tokenized features/.test(l)),
      logs,
      snap: snapshot(e.cacheDir),
      files: fs.existsSync(featuresDir) ? fs.readdirSync(featuresDir).sort() : [],
      e,
    };
  };
  /** The same run with no features cache at all: predictions written to a folder outside .evalpred/cache. */
  const reference = async (over: Over = {}) => {
    const e = await evaluate({ ...base, ...over, cache: path.join(dir, `reference-${refs++}`) }, { cwd: dir, refresh: true });
    return snapshot(e.cacheDir);
  };
  return { run, reference, featuresDir };
}

/**
 * The checks every family gets: miss, then an identical hit; each `same` change hits and equals a run without
 * the cache; a truncated or garbled file misses and is rewritten; each `changed` setting misses (and stores another file).
 */
async function checkFamily(dir: string, base: RunSettings, same: [string, Over][], changed: [string, Over | (() => Over)][]) {
  const { run, reference, featuresDir } = runner(dir, base);
  const first = await run();
  assert.equal(first.hit, false, 'first run: miss');
  assert.equal(first.files.length, 1, 'the miss stored its features');
  const stored = fs.readFileSync(path.join(featuresDir, first.files[0]));
  const second = await run();
  assert.equal(second.hit, true, 'unchanged rerun: hit');
  assert.deepEqual(second.snap, first.snap, 'the hit leaves the prediction cache the miss left, byte for byte');
  assert.deepEqual(fs.readFileSync(path.join(featuresDir, first.files[0])), stored, 'a hit does not rewrite the features file');
  assert.deepEqual(await reference(), first.snap, 'the miss equals a run without a features cache');
  for (const [what, over] of same) {
    const r = await run(over);
    assert.equal(r.hit, true, `${what}: hit`);
    assert.deepEqual(r.snap, await reference(over), `${what}: the hit gives what a run without the features cache gives`);
  }
  // damage: a truncated file (cut mid-array) is a miss, and the run rewrites it
  const file = path.join(featuresDir, first.files[0]);
  fs.truncateSync(file, fs.statSync(file).size - 5);
  const damaged = await run();
  assert.equal(damaged.hit, false, 'truncated features file: miss');
  assert.deepEqual(damaged.snap, first.snap, 'truncated features file: same predictions');
  assert.deepEqual(fs.readFileSync(file), stored, 'the damaged file was rewritten');
  // a garbled header (the magic kept, so still evalpred's file) likewise
  const garbled = Buffer.from(stored);
  garbled.write('{"format":1}', 22, 'latin1');
  fs.writeFileSync(file, garbled);
  assert.equal((await run()).hit, false, 'garbled header: miss');
  assert.deepEqual(fs.readFileSync(file), stored);
  // one flipped bit in the arrays (sizes all intact): the recorded SHA-256 catches it
  const flipped = Buffer.from(stored);
  flipped[flipped.length - 3] ^= 1;
  fs.writeFileSync(file, flipped);
  const bitFlip = await run();
  assert.equal(bitFlip.hit, false, 'flipped bit: miss');
  assert.deepEqual(bitFlip.snap, first.snap, 'flipped bit: same predictions');
  assert.deepEqual(fs.readFileSync(file), stored);
  // last: a changed dataset (the final entry may edit it) changes the key of everything after
  let files = first.files.length;
  for (const [what, change] of changed) {
    const over = typeof change === 'function' ? change() : change;
    const r = await run(over);
    assert.equal(r.hit, false, `${what}: miss`);
    assert.equal(r.files.length, ++files, `${what}: stored under another key`);
    assert.equal((await run(over)).hit, true, `${what}: its own rerun hits`);
  }
}

test('token classification: features cached (word ids kept for the label alignment); labels and batching are not in the key', async () => {
  const dir = tempDir();
  try {
    const ws = tokenClsWorkspace(dir, { n: 13 });
    // a second words column and a second tag column, both in the file from the start
    writeJsonl(ws.dataset, ws.rows.map((r) => ({ ...r, words2: r.tokens, tags2: r.ner_tags.map((t) => (t + 1) % 3) })));
    const base = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, includeForMetrics: ['inputs'] });
    await checkFamily(
      dir,
      base,
      [
        ['batch size', { batchSize: 5 }],
        ['--max-samples', { maxSamples: 6 }],
        ['preprocess', { preprocess: 'argmax' }],
        ['another label column', { labelColumn: 'tags2' }],
      ],
      [
        ['max length', { maxLength: 6 }],
        ['words column', { textColumn: 'words2' }],
        [
          'dataset edited',
          () => {
            writeJsonl(ws.dataset, ws.rows.map((r, i) => ({ ...r, tokens: i === 2 ? [r.tokens[0] === 'plot' ? 'the' : 'plot', ...r.tokens.slice(1)] : r.tokens, words2: r.tokens, tags2: r.ner_tags.map((t) => (t + 1) % 3) })));
            return {};
          },
        ],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('extractive QA without a doc stride: features cached with offsets and sequence ids for the answer positions', async () => {
  const dir = tempDir();
  try {
    const ws = qaWorkspace(dir, { n: 11 });
    writeJsonl(ws.dataset, ws.rows.map((r) => ({ ...r, question2: 'was the plot' })));
    const base = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 3, includeForMetrics: ['inputs'] });
    await checkFamily(
      dir,
      base,
      [
        ['batch size', { batchSize: 4 }],
        ['--max-samples', { maxSamples: 5 }],
      ],
      [
        ['max length', { maxLength: 12 }],
        ['question column', { textColumn: 'question2' }],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('extractive QA with --doc-stride: the windows, their offsets and the overflow mapping are cached; padding and labelling are not in the key', async () => {
  const dir = tempDir();
  try {
    const ws = qaWorkspace(dir, { n: 7 });
    // contexts of 3 sentences each: several 16-token windows per example
    const rows = ws.rows.map((r, i) => {
      const context = [r.context, ws.rows[(i + 1) % ws.rows.length].context, ws.rows[(i + 2) % ws.rows.length].context].join(' ');
      const w = r.answers.text[0];
      return { ...r, context, answers: { text: [w], answer_start: [r.context.lastIndexOf(w)] } };
    });
    writeJsonl(ws.dataset, rows);
    const base = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, maxLength: 16, docStride: 3, includeForMetrics: ['inputs'] });
    const { run } = runner(dir, base);
    // more features than examples: the cache holds windows, not rows
    const probe = await run();
    assert.ok(probe.e.loop.numSamples > rows.length, `${probe.e.loop.numSamples} features for ${rows.length} examples`);
    fs.rmSync(path.join(dir, '.evalpred', 'features'), { recursive: true });
    await checkFamily(
      dir,
      base,
      [
        ['batch size', { batchSize: 3 }],
        ['--max-samples (the windows of the first examples)', { maxSamples: 3 }],
        ['pad to max length off', { padToMaxLength: false }],
        ['labelled features (label_names)', { labelNames: ['start_positions', 'end_positions'] }],
        ['post-processing options', { nBestSize: 5, maxAnswerLength: 4 }],
      ],
      [
        ['doc stride', { docStride: 4 }],
        ['max length', { maxLength: 18 }],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('seq2seq: encoder inputs and target labels cached; the target column and --max-target-length are in the key, generation settings are not', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeSeq2SeqModel(modelDir, 'three-file', { seed: 3 });
    const words = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'ran', 'to', 'park'];
    const rows = Array.from({ length: 9 }, (_, i) => {
      const src = Array.from({ length: 2 + (i % 5) }, (_, k) => words[(i * 3 + k) % words.length]).join(' ');
      const tgt = Array.from({ length: 1 + (i % 4) }, (_, k) => words[(i + k * 2) % words.length]).join(' ');
      return { document: src, summary: tgt, summary2: `${tgt} yes` };
    });
    const dataset = writeJsonl(path.join(dir, 'data.jsonl'), rows);
    const base = withDefaults({ model: modelDir, dataset, batchSize: 4, includeForMetrics: ['inputs'] });
    await checkFamily(
      dir,
      base,
      [
        ['batch size', { batchSize: 2 }],
        ['--max-samples', { maxSamples: 5 }],
        ['predict with generate', { predictWithGenerate: true, maxNewTokens: 4 }],
      ],
      [
        ['max target length', { maxTargetLength: 2 }],
        ['target column', { labelColumn: 'summary2' }],
        ['max length', { maxLength: 3 }],
        ['template', { textTemplate: 'summarize: {document}' }],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('decoder-only LM: prompts cached; max length and template are in the key, batch size and generation are not', async () => {
  const dir = tempDir();
  try {
    const modelDir = path.join(dir, 'model');
    writeCausalLmModel(modelDir, true, { seed: 4 });
    const words = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'ran', 'to', 'park'];
    const rows = Array.from({ length: 10 }, (_, i) => ({ text: Array.from({ length: 2 + (i % 6) }, (_, k) => words[(i * 7 + k) % words.length]).join(' ') }));
    const dataset = writeJsonl(path.join(dir, 'data.jsonl'), rows);
    const base = withDefaults({ model: modelDir, dataset, batchSize: 3, preprocess: 'argmax' });
    await checkFamily(
      dir,
      base,
      [
        ['batch size', { batchSize: 4 }],
        ['--max-samples', { maxSamples: 4 }],
        ['predict with generate', { predictWithGenerate: true, maxNewTokens: 3 }],
      ],
      [
        ['max length', { maxLength: 4 }],
        ['template', { textTemplate: 'say: {text}' }],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file evalpred did not write at a features path is left alone; the run goes on and says why nothing was cached', async () => {
  const dir = tempDir();
  try {
    const ws = tokenClsWorkspace(dir, { n: 6 });
    const base = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 });
    const { run, featuresDir } = runner(dir, base);
    const first = await run();
    const file = path.join(featuresDir, first.files[0]);
    fs.writeFileSync(file, 'my notes, not features\n');
    fs.writeFileSync(path.join(featuresDir, 'README.txt'), 'mine too\n');
    const second = await run();
    assert.equal(second.hit, false);
    assert.deepEqual(second.snap, first.snap);
    assert.ok(second.logs.some((l) => /tokenized features not cached: .*not written by evalpred; it was left alone/.test(l)), second.logs.join('\n'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'my notes, not features\n');
    assert.equal(fs.readFileSync(path.join(featuresDir, 'README.txt'), 'utf8'), 'mine too\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
