// onnxruntime's intra-op thread count for the loop (src/core/model/threads.ts): the default on an idle machine,
// the cores other programs leave free on a busy one, never below 1 or above the physical cores; and the thread
// count changes only the speed, never the logits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { intraOpThreadsFor, machineLoad } from '../../src/core/model/threads';
import { openModel } from '../../src/core/model/session';
import { Tensor } from '../../src/core/tensor/tensor';
import { writeSeqClsModel } from '../fixtures/models';
import { tempDir } from '../helpers/tempDir';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('an idle machine, or one whose load is unknown, keeps onnxruntime\'s default (one thread per physical core)', () => {
  assert.equal(intraOpThreadsFor({ cpus: 8, physicalCores: 4, othersRunnable: 0 }), undefined);
  assert.equal(intraOpThreadsFor({ cpus: 8, physicalCores: 4 }), undefined);
});

test('a busy machine: the cores others leave free, at least 1, at most the physical cores', () => {
  assert.equal(intraOpThreadsFor({ cpus: 2, physicalCores: 2, othersRunnable: 1 }), 1);
  assert.equal(intraOpThreadsFor({ cpus: 2, physicalCores: 2, othersRunnable: 13 }), 1);
  assert.equal(intraOpThreadsFor({ cpus: 16, physicalCores: 16, othersRunnable: 3 }), 13);
  // hyperthreads: 16 logical CPUs on 8 cores, 2 busy -> 14 free logical CPUs, but no more threads than cores
  assert.equal(intraOpThreadsFor({ cpus: 16, physicalCores: 8, othersRunnable: 2 }), 8);
  assert.equal(intraOpThreadsFor({ cpus: 4, othersRunnable: 1 }), 3);
});

test('machineLoad reads this machine: its CPUs, and where /proc exists (Linux) the physical cores and the others\' runnable threads', () => {
  const m = machineLoad();
  assert.equal(m.cpus, os.availableParallelism());
  if (fs.existsSync('/proc/stat')) {
    assert.ok(m.physicalCores !== undefined && m.physicalCores >= 1 && m.physicalCores <= m.cpus, `physical cores ${m.physicalCores} of ${m.cpus}`);
    assert.ok(Number.isInteger(m.othersRunnable) && m.othersRunnable! >= 0, `others runnable ${m.othersRunnable}`);
  } else assert.equal(m.othersRunnable, undefined);
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
