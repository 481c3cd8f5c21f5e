// Accumulation that streams to disk (src/core/loop/spool.ts) against the in-memory accumulation
// (accumulate.ts) it replaces in evaluate(): the same batches must give byte-identical cache files, the same
// errors, and leave nothing but the listed files. Then file-backed tensors (tensor/fileBacking.ts) with the
// whole-array limit forced small, which is how arrays beyond 2 GB are read (docs/cache-format.md#arrays-larger-than-memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LoopContainer } from '../../src/core/loop/accumulate';
import { MEMORY_BUDGET_BYTES, SpoolContainer } from '../../src/core/loop/spool';
import { DiskWatch } from '../../src/core/loop/diskWatch';
import { nodeBytes } from '../../src/core/loop/accumulate';
import { beginCacheWrite, commitCacheFiles, readCache, writeCache } from '../../src/core/cache/store';
import { CacheNode, EvalPredictionNodes } from '../../src/core/cache/manifest';
import { runLoop } from '../../src/core/loop/driver';
import { withDefaults } from '../../src/core/loop/settings';
import { openNpyFile, readNpyFile, writeNpyFile } from '../../src/core/tensor/npy';
import { DType } from '../../src/core/tensor/dtype';
import { Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { isEvalpredError } from '../../src/core/errors';
import { tensorStats } from '../../src/core/tensor/stats';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';

/** A deterministic tensor whose values depend on the batch, so misplaced rows show. */
function t(dtype: DType, shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) => {
    const v = ((i * 7 + seed * 13) % 23) - 11;
    return dtype === 'bool' ? v & 1 : dtype.startsWith('float') ? v + 0.25 * (seed % 4) : v;
  });
  return Tensor.from(dtype, shape, vals);
}

type Field = 'predictions' | 'label_ids' | 'inputs';
type Batches = Partial<Record<Field, TensorNode[]>>;

const FIELD: Record<Field, 'predictions' | 'labelIds' | 'inputs'> = { predictions: 'predictions', label_ids: 'labelIds', inputs: 'inputs' };

function toNodes(n: TensorNode, dir: string): CacheNode {
  if (n instanceof Tensor) {
    assert.ok(n.backing, 'spooled results are file-backed');
    assert.equal(path.dirname(n.backing!.file), dir);
    return { npy: path.basename(n.backing!.file) };
  }
  return 'tuple' in n ? { tuple: n.tuple.map((c) => toNodes(c, dir)) } : { list: n.list.map((c) => toNodes(c, dir)) };
}

/**
 * Memory budgets for SpoolContainer: the default (these small batches stay in memory), 0 (every batch is
 * spooled), and one batch's bytes (the first batches are held, then spilled part way through).
 */
function budgets(batches: Batches): number[] {
  const first = Object.values(batches).find((l) => l && l.length)![0];
  return [MEMORY_BUDGET_BYTES, 0, nodeBytes(first)];
}

/** The same batches accumulated in memory then written, and streamed: every file, byte for byte, at every budget. */
async function assertSameCache(batches: Batches, concat: boolean): Promise<void> {
  for (const budget of budgets(batches)) await assertSameCacheAt(batches, concat, budget);
}

async function assertSameCacheAt(batches: Batches, concat: boolean, budget: number): Promise<void> {
  const root = tempDir();
  try {
    const meta = { numSamples: 1, key: 'k', producer: {} };
    const mem = { predictions: null, labelIds: null, inputs: null, losses: null } as Record<string, TensorNode | null>;
    for (const [f, list] of Object.entries(batches) as [Field, TensorNode[]][]) {
      const c = new LoopContainer(f, concat);
      list.forEach((n) => c.add(n));
      mem[FIELD[f]] = c.result();
    }
    writeCache(path.join(root, 'mem'), mem as never, meta);
    const pending = beginCacheWrite(path.join(root, 'disk'));
    const nodes: EvalPredictionNodes = { predictions: null, label_ids: null, inputs: null, losses: null };
    for (const [f, list] of Object.entries(batches) as [Field, TensorNode[]][]) {
      const c = new SpoolContainer(f, concat, pending.tmp, budget);
      list.forEach((n) => c.add(n));
      await c.settle();
      nodes[f] = toNodes(c.result()!, pending.tmp);
    }
    commitCacheFiles(pending, nodes, meta);
    const files = (d: string) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.npy')).sort();
    assert.deepEqual(files('disk'), files('mem'), `budget ${budget}`);
    assert.deepEqual(fs.readdirSync(path.join(root, 'disk')).filter((f) => f.startsWith('spool-')), [], `budget ${budget}: no spool file left`);
    assert.ok(files('mem').length > 0);
    for (const f of files('mem')) {
      const a = fs.readFileSync(path.join(root, 'mem', f));
      const b = fs.readFileSync(path.join(root, 'disk', f));
      assert.ok(a.equals(b), `${f} differs between the in-memory and the streamed accumulation (budget ${budget})`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('streamed accumulation is byte-identical to the in-memory one: mixed widths with -100 padding, labels, inputs', async () => {
  const widths = [5, 2, 7, 7];
  const sizes = [3, 3, 3, 1];
  await assertSameCache(
    {
      predictions: widths.map((w, b) => t('float32', [sizes[b], w, 4], b)),
      label_ids: widths.map((w, b) => t('int64', [sizes[b], w], b + 10)),
      inputs: widths.map((w, b) => t('int32', [sizes[b], w], b + 20)),
    },
    true,
  );
});

test('streamed: rows longer than the 16 MB copy buffer and chunks of several rows, padded to the widest batch, stay byte-identical', async () => {
  // [1, 3, 7e5] float64: one 16.8 MB row, read whole; [2, 2, 7e5]: 11.2 MB rows, one per read, padded from 2 to 3;
  // [40, 2, 2e4] float32 rows of 160 kB: many rows a read, converted to float64 as torch's copy into new_full does.
  await assertSameCache(
    {
      predictions: [t('float64', [1, 3, 700_000], 1), t('float64', [2, 2, 700_000], 2)],
      label_ids: [t('float64', [40, 2, 20_000], 3), t('float32', [40, 2, 20_000], 4)],
    },
    true,
  );
});

test('streamed: tuples of outputs (nested, zip-truncated), 1-D vectors, 0-d values, one batch, generated ids', async () => {
  // tuple (logits, (start, end)) with a third member only in batch 0: zip keeps two
  await assertSameCache(
    {
      predictions: [
        { tuple: [t('float32', [2, 3, 5], 1), { tuple: [t('float32', [2, 3], 2), t('float32', [2, 3], 3)] }, t('int64', [2], 9)] },
        { tuple: [t('float32', [2, 6, 5], 4), { tuple: [t('float32', [2, 6], 5), t('float32', [2, 6], 6)] }] },
      ],
      label_ids: [t('int64', [2], 1), t('int64', [2], 2)],
    },
    true,
  );
  // 0-d values become one entry per batch with >= 2 batches, and stay 0-d with one
  await assertSameCache({ predictions: [t('float32', [], 1), t('float32', [], 2), t('float32', [], 3)] }, true);
  await assertSameCache({ predictions: [t('float32', [], 1)], label_ids: [{ tuple: [t('int64', [1, 4], 1), t('bool', [1, 4], 2)] }] }, true);
  // generate(): int64 ids of varying widths, float16 scores, bool masks padded with what -100 gives them
  await assertSameCache(
    {
      predictions: [t('int64', [4, 9], 1), t('int64', [4, 3], 2), t('int64', [2, 12], 3)],
      label_ids: [t('float16', [4, 9], 1), t('float16', [4, 3], 2), t('float16', [2, 12], 3)],
      inputs: [t('bool', [4, 9], 1), t('bool', [4, 3], 2), t('bool', [2, 12], 3)],
    },
    true,
  );
  // a batch in another dtype is converted into the first batch's dtype
  await assertSameCache({ predictions: [t('float32', [2, 3], 1), t('float64', [2, 5], 2), t('int64', [1, 1], 3)] }, true);
});

test('streamed: eval_do_concat_batches=False writes one entry per batch (tuples inside), as the in-memory list', async () => {
  await assertSameCache(
    {
      predictions: [{ tuple: [t('float32', [2, 3, 5], 1), t('float32', [2, 3], 2)] }, { tuple: [t('float32', [1, 8, 5], 3), t('float32', [1, 8], 4)] }],
      label_ids: [t('int64', [2, 3], 1), t('int64', [1, 8], 2)],
    },
    false,
  );
});

test('streamed: structure, rank and uint8 mismatches raise the in-memory errors and leave no spool file behind', async () => {
  const cases: TensorNode[][] = [
    [t('float32', [2, 3], 1), { tuple: [t('float32', [2, 3], 2)] }],
    [t('float32', [2, 3, 4], 1), t('float32', [3], 2)],
    [t('float32', [2, 3, 4], 1), t('float32', [2, 3, 5], 2)],
    [t('uint8', [2, 3], 1), t('uint8', [2, 4], 2)],
  ];
  for (const batches of cases) {
    const mem = new LoopContainer('predictions', true);
    batches.forEach((n) => mem.add(n));
    let want = '';
    assert.throws(() => mem.result(), (e: Error) => ((want = e.message), isEvalpredError(e)));
    for (const budget of budgets({ predictions: batches })) {
      const dir = tempDir();
      try {
        const disk = new SpoolContainer('predictions', true, dir, budget);
        batches.forEach((n) => disk.add(n));
        await disk.settle();
        assert.throws(() => disk.result(), (e: Error) => isEvalpredError(e) && e.message === want);
        assert.deepEqual(fs.readdirSync(dir), [], `budget ${budget}: the folder holds nothing after a failed assembly`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
});

test('file-backed tensors: rows, chunks, elements and argmax read from disk; data past the whole-array limit is refused, naming chunks()', () => {
  const dir = tempDir();
  const saved = process.env.EVALPRED_WHOLE_ARRAY_BYTES;
  try {
    const mem = t('float32', [7, 5, 11], 3);
    const file = path.join(dir, 'p.npy');
    writeNpyFile(file, mem);
    process.env.EVALPRED_WHOLE_ARRAY_BYTES = String(4 * 5 * 11 * 2); // two rows: "larger than memory" for this test
    const big = openNpyFile(file);
    assert.equal(big.inMemory, false);
    assert.deepEqual(big.shape, [7, 5, 11]);
    assert.throws(() => big.data, (e: Error) => isEvalpredError(e) && /chunks\(\)/.test(e.message) && e.message.includes(file));
    assert.deepEqual(big.row(4).toArray(), mem.row(4).toArray());
    assert.deepEqual(big.rows(2, 6).toArray(), mem.rows(2, 6).toArray());
    assert.equal(big.get(6, 4, 10), mem.get(6, 4, 10));
    assert.equal(big.at(123), mem.at(123));
    const seen: number[] = [];
    for (const { start, rows } of big.chunks(4 * 5 * 11 * 3)) {
      assert.ok(rows.shape[0] <= 3);
      assert.deepEqual(rows.toArray(), mem.rows(start, start + rows.shape[0]).toArray());
      seen.push(start);
    }
    assert.deepEqual(seen, [0, 3, 6]);
    assert.deepEqual(big.argmax(-1).toArray(), mem.argmax(-1).toArray());
    assert.deepEqual(big.argmax(1).toArray(), mem.argmax(1).toArray());
    assert.deepEqual(tensorStats(big), tensorStats(mem));
    // written out again chunk by chunk: the same file
    const copy = path.join(dir, 'copy.npy');
    writeNpyFile(copy, big);
    assert.ok(fs.readFileSync(copy).equals(fs.readFileSync(file)));
    // under the limit, data loads once; set() then edits the copy, never the file
    process.env.EVALPRED_WHOLE_ARRAY_BYTES = String(1 << 20);
    const small = openNpyFile(file);
    small.set(0, 99);
    assert.equal(small.at(0), 99);
    assert.equal(readNpyFile(file).at(0), mem.at(0));
  } finally {
    if (saved === undefined) delete process.env.EVALPRED_WHOLE_ARRAY_BYTES;
    else process.env.EVALPRED_WHOLE_ARRAY_BYTES = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('readCache opens arrays above the eager size file-backed, with the same values; a replaced cache still reads as opened', () => {
  const dir = tempDir();
  const saved = process.env.EVALPRED_EAGER_ARRAY_BYTES;
  try {
    const preds = t('float32', [6, 4, 3], 1);
    const labels = t('int64', [6], 2);
    const cache = path.join(dir, 'c');
    writeCache(cache, { predictions: preds, labelIds: labels, inputs: null, losses: null }, { numSamples: 6, key: 'k', producer: {} });
    process.env.EVALPRED_EAGER_ARRAY_BYTES = '64'; // labels (48 bytes) in memory, predictions from the file
    const { evalPred } = readCache(cache);
    const p = evalPred.predictions as Tensor;
    assert.equal(p.inMemory, false);
    assert.equal((evalPred.labelIds as Tensor).inMemory, true);
    // a later run replaces the cache folder: the open array still reads what it was opened on
    writeCache(cache, { predictions: t('float32', [6, 4, 3], 9), labelIds: labels, inputs: null, losses: null }, { numSamples: 6, key: 'k2', producer: {} });
    assert.deepEqual(p.toArray(), preds.toArray());
  } finally {
    if (saved === undefined) delete process.env.EVALPRED_EAGER_ARRAY_BYTES;
    else process.env.EVALPRED_EAGER_ARRAY_BYTES = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a spooled run that would not fit on disk stops after the first forward pass, naming the projected size and the free space', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 12 });
    const spool = path.join(dir, 'spool');
    fs.mkdirSync(spool);
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4 });
    let batches = 0;
    await assert.rejects(
      runLoop(settings, { spoolDir: spool, freeBytes: () => 100, progress: () => batches++ }),
      (e: Error) => isEvalpredError(e) && /need about \d+ bytes .* on disk/.test(e.message) && /only 100 bytes .* are free/.test(e.message) && e.message.includes(spool),
    );
    assert.equal(batches, 0, 'no batch completed');
    assert.deepEqual(fs.readdirSync(spool), [], 'nothing was written');
    // with room, the same run spools: its predictions are the files of the folder, equal to the in-memory run
    const logs: string[] = [];
    const spooled = await runLoop(settings, { spoolDir: spool, freeBytes: () => 1e12, log: (l) => logs.push(l) });
    const inMemory = await runLoop(settings);
    const p = spooled.evalPred.predictions as Tensor;
    assert.ok(p.backing && path.dirname(p.backing.file) === spool);
    assert.deepEqual(fs.readdirSync(spool).sort(), ['label_ids.npy', 'predictions.npy']);
    assert.deepEqual(p.toArray(), (inMemory.evalPred.predictions as Tensor).toArray());
    assert.deepEqual((spooled.evalPred.labelIds as Tensor).toArray(), (inMemory.evalPred.labelIds as Tensor).toArray());
    assert.equal(spooled.evalLoss, inMemory.evalLoss);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the free space is checked again as the run goes: every so many bytes and when a wider batch raises the projection (the widest batch so far, per sample)', () => {
  let free = 1e9;
  let checks = 0;
  const watch = new DiskWatch('/cache/tmp', 100, () => (checks++, free), 1000);
  watch.batch(10, 500, () => 0); // the first batch is always checked: 50 bytes a sample, 5000 in all
  assert.equal(checks, 1);
  assert.equal(watch.projected, 5000);
  watch.batch(10, 500, () => 0); // 500 bytes since the check, same projection: no statfs
  assert.equal(checks, 1);
  watch.batch(10, 700, () => 500); // wider (generated sequences grew): projection 7000, checked at once
  assert.equal(checks, 2);
  assert.equal(watch.projected, 7000);
  watch.batch(10, 300, () => 1200); // narrower: the projection stays at the widest; 300 bytes since the check
  assert.equal(checks, 2);
  assert.equal(watch.projected, 7000);
  watch.batch(10, 700, () => 1500); // 1000 bytes since the check: checked
  assert.equal(checks, 3);
  // The disk fills (another writer): the next check stops the run, naming the projection, what is written and the free space.
  free = 2000;
  assert.throws(
    () => watch.batch(10, 800, () => 2200),
    (e: Error) =>
      isEvalpredError(e) &&
      e.message.startsWith('the predictions of 100 samples need about 8000 bytes (8000 bytes) on disk, projected from the widest of the 6 batches so far; 2200 bytes') &&
      /the rest does not fit in the 2000 bytes \(2000 bytes\) free where the cache is written \(\/cache\/tmp\)/.test(e.message) &&
      /before the disk fills; only evalpred's own temporary files are removed/.test(e.message),
  );
});

test('a run whose disk fills during the run stops before the next batch is written; its files go, the user\'s stay', async () => {
  const dir = tempDir();
  try {
    const ws = seqClsWorkspace(dir, { n: 24 });
    const spool = path.join(dir, 'spool');
    fs.mkdirSync(spool);
    const mine = path.join(spool, 'notes.txt');
    fs.writeFileSync(mine, 'the user\'s file');
    // Per-batch files (eval_do_concat_batches=False) are written as the batches come, so the disk has some of the run on it.
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 4, evalDoConcatBatches: false });
    let calls = 0;
    let batches = 0;
    await assert.rejects(
      runLoop(settings, { spoolDir: spool, diskCheckEveryBytes: 1, freeBytes: () => (++calls <= 3 ? 1e12 : 10), progress: () => batches++ }),
      (e: Error) => isEvalpredError(e) && /projected from the widest of the 4 batches so far; \d+ bytes \(\d+ bytes\) of them are written/.test(e.message) && /free where the cache is written/.test(e.message),
    );
    assert.equal(batches, 3, 'three batches went through; the fourth was refused before it was written');
    assert.deepEqual(fs.readdirSync(spool), ['notes.txt'], 'the batches written so far were removed, nothing else');
    assert.equal(fs.readFileSync(mine, 'utf8'), 'the user\'s file');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a field under its memory budget writes no spool file until result(); past it, every held batch is spooled in order', async () => {
  const batches = [0, 1, 2, 3].map((b) => t('float32', [2, 3 + b], b));
  const dir = tempDir();
  try {
    const spools = () => fs.readdirSync(dir).filter((f) => f.startsWith('spool-')).sort();
    const held = new SpoolContainer('predictions', true, dir);
    batches.forEach((n) => held.add(n));
    assert.deepEqual(fs.readdirSync(dir), [], 'small batches stay in memory');
    // two batches fit in a budget of two batches' bytes; the third goes over and spills all three
    const spilled = new SpoolContainer('label_ids', true, dir, nodeBytes(batches[0]) + nodeBytes(batches[1]));
    spilled.add(batches[0]);
    spilled.add(batches[1]);
    assert.deepEqual(spools(), []);
    spilled.add(batches[2]);
    assert.deepEqual(spools(), ['spool-label_ids-b0.bin', 'spool-label_ids-b1.bin', 'spool-label_ids-b2.bin']);
    spilled.add(batches[3]);
    assert.equal(spools().length, 4, 'after the spill every batch is spooled as it comes');
    assert.equal(spilled.count, 4);
    await spilled.settle();
    const a = held.result() as Tensor;
    const b = spilled.result() as Tensor;
    assert.deepEqual(spools(), [], 'spool files are removed once copied');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['label_ids.npy', 'predictions.npy']);
    assert.ok(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)));
    assert.deepEqual(a.shape, [8, 6]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a spooled batch is written on the thread pool while the loop goes on: one write at a time (the next are written at once), and result() only after settle()', async () => {
  const batches = [0, 1, 2].map((b) => t('float32', [4, 1000], b));
  const dir = tempDir();
  try {
    const c = new SpoolContainer('predictions', true, dir, 0);
    batches.forEach((n) => c.add(n));
    const size = (f: string) => fs.statSync(path.join(dir, f)).size;
    // b0's write went to the thread pool and cannot have finished (no event-loop turn since); b1 and b2 were written here, whole.
    assert.equal(size('spool-predictions-b1.bin'), 16_000);
    assert.equal(size('spool-predictions-b2.bin'), 16_000);
    assert.throws(() => c.result(), /result\(\) before settle\(\), with a spool write under way/);
    await c.settle();
    assert.equal(size('spool-predictions-b0.bin'), 16_000);
    const mem = new LoopContainer('predictions', true);
    batches.forEach((n) => mem.add(n));
    const want = mem.result() as Tensor;
    const got = c.result() as Tensor;
    assert.deepEqual(got.shape, [12, 1000]);
    assert.ok(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength)));
    assert.deepEqual(fs.readdirSync(dir), ['predictions.npy']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a spool write that fails (the disk filled behind the run\'s checks) is the run\'s error, naming the file, on the thread pool or here', async () => {
  const dir = tempDir();
  const { write, writeSync } = fs;
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  const named = (file: string) => (e: unknown) =>
    isEvalpredError(e) && e.message === `could not write ${path.join(dir, file)} (the predictions of this run, on their way to the cache): the disk is full.`;
  try {
    // On the thread pool: the failure waits for settle() (or the next batch), then comes out as the run's error.
    (fs as { write: unknown }).write = (...args: unknown[]) => {
      const cb = args[args.length - 1] as (e: Error) => void;
      process.nextTick(() => cb(enospc()));
    };
    const a = new SpoolContainer('predictions', true, dir, 0);
    a.add(t('float32', [2, 3], 0));
    await assert.rejects(a.settle(), named('spool-predictions-b0.bin'));
    assert.throws(() => a.add(t('float32', [2, 3], 1)), named('spool-predictions-b0.bin'), 'a later batch stops at the same error');
    a.discard();
    // Here, while a write is under way on the thread pool: at once.
    (fs as { writeSync: unknown }).writeSync = () => {
      throw enospc();
    };
    const b = new SpoolContainer('predictions', true, dir, 0);
    b.add(t('float32', [2, 3], 2));
    assert.throws(() => b.add(t('float32', [2, 3], 3)), named('spool-predictions-b1.bin'));
    await b.settle().catch(() => {});
    b.discard();
    assert.deepEqual(fs.readdirSync(dir), [], 'discard() leaves nothing');
  } finally {
    Object.assign(fs, { write, writeSync });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
