// onnxruntime's intra-op thread count for the loop (src/core/model/threads.ts): the default when the CPUs were
// free, the cores other programs left free when they were busy, never below 1 or above the physical cores; and
// the thread count changes only the speed, never the logits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { intraOpThreadsFor, loopThreadOptions, machineLoad } from '../../src/core/model/threads';
import { openModel } from '../../src/core/model/session';
import { Tensor } from '../../src/core/tensor/tensor';
import { writeSeqClsModel } from '../fixtures/models';
import { tempDir } from '../helpers/tempDir';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('free CPUs, or a load that is unknown, keep onnxruntime\'s default (one thread per physical core)', () => {
  assert.equal(intraOpThreadsFor({ cpus: 8, physicalCores: 4, freeCores: 8 }), undefined);
  assert.equal(intraOpThreadsFor({ cpus: 2, physicalCores: 2, freeCores: 1.6 }), undefined);
  assert.equal(intraOpThreadsFor({ cpus: 8, physicalCores: 4 }), undefined);
});

test('busy CPUs: the free cores rounded, at least 1, at most the physical cores', () => {
  assert.equal(intraOpThreadsFor({ cpus: 2, physicalCores: 2, freeCores: 1.2 }), 1);
  assert.equal(intraOpThreadsFor({ cpus: 2, physicalCores: 2, freeCores: 0.1 }), 1);
  assert.equal(intraOpThreadsFor({ cpus: 16, physicalCores: 16, freeCores: 12.6 }), 13);
  // hyperthreads: 16 logical CPUs on 8 cores, 12 free -> no more threads than cores
  assert.equal(intraOpThreadsFor({ cpus: 16, physicalCores: 8, freeCores: 12 }), 8);
  assert.equal(intraOpThreadsFor({ cpus: 4, freeCores: 3.2 }), 3);
});

test('session options: onnxruntime\'s defaults on free CPUs; on busy ones the thread count and no spinning', () => {
  const noSpin = { session: { intra_op: { allow_spinning: '0' } } };
  assert.deepEqual(loopThreadOptions(undefined, () => ({ cpus: 2, physicalCores: 2, freeCores: 1.9 })), {});
  assert.deepEqual(loopThreadOptions(undefined, () => ({ cpus: 2, physicalCores: 2 })), {});
  assert.deepEqual(loopThreadOptions(undefined, () => ({ cpus: 2, physicalCores: 2, freeCores: 0.3 })), { intraOpNumThreads: 1, extra: noSpin });
  assert.deepEqual(loopThreadOptions(3, () => ({ cpus: 2, physicalCores: 2, freeCores: 2 })), { intraOpNumThreads: 3, extra: noSpin });
});

test('machineLoad reads this machine: its CPUs, and where /proc exists (Linux) the physical cores and the free cores over a window', async () => {
  machineLoad(); // starts a window
  const t0 = performance.now();
  while (performance.now() - t0 < 80) {
    // this thread's own work counts as free: it is the loop's, not another program's
  }
  const m = machineLoad();
  assert.equal(m.cpus, os.availableParallelism());
  if (fs.existsSync('/proc/stat')) {
    assert.ok(m.physicalCores !== undefined && m.physicalCores >= 1 && m.physicalCores <= m.cpus, `physical cores ${m.physicalCores} of ${m.cpus}`);
    assert.ok(m.freeCores !== undefined && m.freeCores >= 0 && m.freeCores <= m.cpus, `free cores ${m.freeCores}`);
  } else assert.equal(m.freeCores, undefined);
});

test('one intra-op thread and the default give the same logits', async () => {
  const d = path.join(root, 'model');
  writeSeqClsModel(d, { vocabSize: 50, hidden: 16, numLabels: 3 });
  const ids = Tensor.from('int64', [4, 6], Array.from({ length: 24 }, (_, i) => (i * 7) % 50));
  const logits: Float32Array[] = [];
  for (const intraOpNumThreads of [1, undefined, 2]) {
    const s = await openModel(d, { intraOpNumThreads });
    try {
      logits.push((await s.run({ input_ids: ids })).logits.data as Float32Array);
    } finally {
      await s.close();
    }
  }
  assert.deepEqual(logits[1], logits[0]);
  assert.deepEqual(logits[2], logits[0]);
});
