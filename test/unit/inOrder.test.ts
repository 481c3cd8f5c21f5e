// The driver's batches in flight (src/core/loop/inOrder.ts): at most `depth` steps run at once, their results come
// out in order whatever order they finish in, a failure comes out in its turn, and leaving early waits for what runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inOrder } from '../../src/core/loop/inOrder';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('steps finishing out of order are yielded in order, with at most `depth` running at once', async () => {
  for (const depth of [1, 2, 3]) {
    let running = 0, most = 0;
    const started: number[] = [];
    const delays = [30, 5, 20, 1, 15, 2, 8, 0, 12, 3];
    const got: number[] = [];
    for await (const v of inOrder(delays.length, depth, async (i) => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await sleep(delays[i]);
      running--;
      return i * 10;
    })) got.push(v);
    assert.deepEqual(got, delays.map((_, i) => i * 10), `depth ${depth}`);
    assert.deepEqual(started, delays.map((_, i) => i), 'started in order');
    assert.equal(most, depth, `depth ${depth}: that many at once, no more`);
  }
});

test('a failing step is reported after every step before it, even when it fails first', async () => {
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const v of inOrder(6, 3, async (i) => {
        if (i === 2) throw new Error('batch 2 failed');
        await sleep(20);
        return i;
      })) got.push(v);
    })(),
    /batch 2 failed/,
  );
  assert.deepEqual(got, [0, 1]);
});

test('leaving the loop early starts nothing more and returns only once the steps still running have finished', async () => {
  const finished = new Set<number>();
  const started: number[] = [];
  for await (const v of inOrder(10, 3, async (i) => {
    started.push(i);
    await sleep(i === 0 ? 1 : 25);
    finished.add(i);
    return i;
  })) {
    if (v === 0) break;
  }
  assert.deepEqual(started, [0, 1, 2], 'nothing started after the break');
  assert.deepEqual([...finished].sort(), [0, 1, 2], 'the steps in flight finished before the loop returned');
});
