// Inference lanes (src/core/model/lanes, docs/architecture.md#inference-lanes): when the machine has room for them,
// threads with their own session of the model; every batch a lane runs gives exactly what the loop thread's session
// gives, results go back to the batch that asked, a failure names the batch's own error, and closing stops the threads.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { LanePool, laneThreadCounts } from '../../src/core/model/lanes/pool';
import { lanesFromEnv, loopLanePlan } from '../../src/core/model/threads';
import { openModel } from '../../src/core/model/session';
import { onnxRuntime } from '../../src/core/native';
import { runLoop } from '../../src/core/loop/driver';
import { withDefaults } from '../../src/core/loop/settings';
import { Tensor } from '../../src/core/tensor/tensor';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const ws = seqClsWorkspace(path.join(root, 'ws'), { n: 300 });
const modelFile = path.join(ws.modelDir, 'model.onnx');
const GB = 1024 ** 3;
const noSpin = { session: { intra_op: { allow_spinning: '0' } } };

test('lanes where the machine has two threads or more to give, none when the run, the memory or a thread count says no', () => {
  const plan = (o: Partial<Parameters<typeof loopLanePlan>[0]>, load: { cpus: number; physicalCores?: number; freeCores?: number }) =>
    loopLanePlan({ wanted: true, modelBytes: 10e6, freeMemoryBytes: 8 * GB, ...o }, () => load);
  // a free 2-core machine: two lanes of one thread each; the loop thread's session keeps the defaults
  assert.deepEqual(plan({}, { cpus: 2, physicalCores: 2, freeCores: 2 }), { options: {}, lanes: 2, laneOptions: { intraOpNumThreads: 1 } });
  // free 8 cores: two lanes of 4, spinning as onnxruntime's default does on a free machine
  assert.deepEqual(plan({}, { cpus: 8, physicalCores: 8, freeCores: 8 }), { options: {}, lanes: 2, laneOptions: { intraOpNumThreads: 4 } });
  // busy: 4 of 8 free -> two lanes of 2 that do not spin; 1.2 free -> one session of one thread
  assert.deepEqual(plan({}, { cpus: 8, physicalCores: 8, freeCores: 4.2 }), { options: { intraOpNumThreads: 4, extra: noSpin }, lanes: 2, laneOptions: { intraOpNumThreads: 2, extra: noSpin } });
  assert.deepEqual(plan({}, { cpus: 2, physicalCores: 2, freeCores: 1.2 }), { options: { intraOpNumThreads: 1, extra: noSpin }, lanes: 1 });
  // one core
  assert.deepEqual(plan({}, { cpus: 1, physicalCores: 1, freeCores: 1 }), { options: {}, lanes: 1 });
  // a short run, a thread count given, or weights that do not fit in memory 6 times (3 sessions, prepacked): one session
  assert.equal(plan({ wanted: false }, { cpus: 2, physicalCores: 2, freeCores: 2 }).lanes, 1);
  assert.deepEqual(plan({ intraOpNumThreads: 2 }, { cpus: 2, physicalCores: 2, freeCores: 2 }), { options: { intraOpNumThreads: 2, extra: noSpin }, lanes: 1 });
  assert.equal(plan({ modelBytes: 1.5 * GB }, { cpus: 2, physicalCores: 2, freeCores: 2 }).lanes, 1);
  assert.equal(plan({ modelBytes: 1.3 * GB }, { cpus: 2, physicalCores: 2, freeCores: 2 }).lanes, 2);
  // EVALPRED_LANES wins, even for a short run or a busy machine; 1 turns lanes off
  assert.deepEqual(plan({ wanted: false, forced: 3 }, { cpus: 2, physicalCores: 2, freeCores: 0.2 }), {
    options: { intraOpNumThreads: 1, extra: noSpin },
    lanes: 3,
    laneOptions: { intraOpNumThreads: 1, extra: noSpin },
  });
  assert.equal(plan({ forced: 1 }, { cpus: 8, physicalCores: 8, freeCores: 8 }).lanes, 1);
  assert.equal(lanesFromEnv({ EVALPRED_LANES: '2' }), 2);
  assert.equal(lanesFromEnv({ EVALPRED_LANES: '1' }), 1);
  for (const v of [undefined, '', 'two', '0', '1.5', '-2']) assert.equal(lanesFromEnv({ EVALPRED_LANES: v }), undefined, String(v));
});

/** Batches of different lengths, each row's ids different. */
function batches(n: number): Record<string, ort.Tensor>[] {
  const rt = onnxRuntime();
  return Array.from({ length: n }, (_, b) => {
    const rows = 2 + (b % 3), len = 3 + ((b * 5) % 7);
    const ids = BigInt64Array.from({ length: rows * len }, (_, k) => BigInt(4 + ((b * 7 + k * 3) % 15)));
    const mask = BigInt64Array.from({ length: rows * len }, (_, k) => (k % len < len - (k % 2) ? 1n : 0n));
    return { input_ids: new rt.Tensor('int64', ids, [rows, len]), attention_mask: new rt.Tensor('int64', mask, [rows, len]) };
  });
}

const asArrays = (out: ort.InferenceSession.ReturnType) => Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: Array.from(v.data as Float32Array) }]));

async function until(cond: () => boolean, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a lane runs a batch exactly as the loop thread\'s session does, and each result goes to the batch that asked', async () => {
  const rt = onnxRuntime();
  const options = { intraOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const plain = await rt.InferenceSession.create(modelFile, options);
  const bs = batches(12);
  const expected = [];
  for (const f of bs) expected.push(asArrays(await plain.run(f)));
  const before = laneThreadCounts();
  const pool = new LanePool(modelFile, options, 2);
  try {
    // Not open yet: the loop thread's session runs the batch.
    let here = 0;
    const first = await pool.run(bs[0], () => (here++, plain.run(bs[0])));
    assert.equal(here, 1);
    assert.deepEqual(asArrays(first), expected[0]);
    assert.equal(await pool.opened, 2);
    // Open: all twelve at once go to the lanes (two run, the rest wait their turn) and come back to their own batch.
    const got = await Promise.all(bs.map((f) => pool.run(f, () => (here++, plain.run(f)))));
    assert.equal(here, 1, 'no batch ran in the loop thread once the lanes were open');
    assert.deepEqual(got.map(asArrays), expected);
    assert.equal(laneThreadCounts().started, before.started + 2);
  } finally {
    await pool.close();
    await plain.release();
  }
  await until(() => laneThreadCounts().live === before.live);
});

test('a batch a lane cannot run fails with onnxruntime\'s reason and the lane goes on; a lane that cannot open leaves the batches to the loop thread', async () => {
  const rt = onnxRuntime();
  const options = { intraOpNumThreads: 1 };
  const plain = await rt.InferenceSession.create(modelFile, options);
  const pool = new LanePool(modelFile, options, 1);
  const before = laneThreadCounts();
  try {
    assert.equal(await pool.opened, 1);
    const [ok] = batches(1);
    await assert.rejects(pool.run({ input_ids: ok.input_ids }, () => plain.run(ok)), /attention_mask/);
    assert.deepEqual(asArrays(await pool.run(ok, () => Promise.reject(new Error('ran here')))), asArrays(await plain.run(ok)));
  } finally {
    await pool.close();
  }
  const notOnnx = path.join(root, 'not-a-model.onnx');
  fs.writeFileSync(notOnnx, 'not a model');
  const broken = new LanePool(notOnnx, options, 2);
  try {
    const [b] = batches(1);
    // The lanes report that they could not open; the batches run in the loop thread.
    assert.equal(await broken.opened, 0);
    let here = 0;
    await broken.run(b, () => (here++, plain.run(b)));
    assert.equal(broken.ready, 0);
    assert.equal(here, 1);
  } finally {
    await broken.close();
    await plain.release();
  }
  await until(() => laneThreadCounts().live === before.live - 1);
});

test('EVALPRED_LANES=2: the loop runs its batches in two lanes, with predictions, labels and loss equal to one session\'s', async () => {
  const saved = process.env.EVALPRED_LANES;
  try {
    const settings = withDefaults({ model: ws.modelDir, dataset: ws.dataset, batchSize: 8 });
    process.env.EVALPRED_LANES = '1';
    const started = laneThreadCounts().started;
    const one = await runLoop(settings);
    assert.equal(laneThreadCounts().started, started, 'EVALPRED_LANES=1: no lane');
    process.env.EVALPRED_LANES = '2';
    const session = await openModel(ws.modelDir, { lanes: false });
    assert.equal(session.lanes, 2);
    await session.close();
    const two = await runLoop(settings);
    assert.equal(laneThreadCounts().started, started + 4, 'two lanes for the session above, two for the run');
    assert.deepEqual((two.evalPred.predictions as Tensor).toArray(), (one.evalPred.predictions as Tensor).toArray());
    assert.deepEqual((two.evalPred.labelIds as Tensor).toArray(), (one.evalPred.labelIds as Tensor).toArray());
    assert.equal(two.evalLoss, one.evalLoss);
    assert.equal(two.numSteps, one.numSteps);
    await until(() => laneThreadCounts().live === 0);
  } finally {
    if (saved === undefined) delete process.env.EVALPRED_LANES;
    else process.env.EVALPRED_LANES = saved;
  }
});
