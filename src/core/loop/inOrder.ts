// Batches in flight, results in order: the driver keeps up to `depth` batches running (the model's inference lanes
// run them side by side, docs/architecture.md#inference-lanes) and takes each one's result in batch order, so
// everything after the forward (loss, preprocess, containers, progress, pauses) sees the batches one by one.

/**
 * Start `step(0)`, `step(1)`, ... with at most `depth` unfinished at a time, and yield their results in order.
 * A step that fails is reported when its turn comes, after every step before it was yielded. Leaving the loop
 * early (an error, a cancellation) starts nothing more and waits for the steps still running before it returns.
 */
export async function* inOrder<T>(count: number, depth: number, step: (i: number) => Promise<T>): AsyncGenerator<T> {
  const inFlight: Promise<T>[] = [];
  let next = 0;
  try {
    for (let i = 0; i < count; i++) {
      while (next < count && inFlight.length < Math.max(1, depth)) {
        const p = step(next++);
        p.catch(() => {}); // handled when its turn comes
        inFlight.push(p);
      }
      yield await inFlight.shift()!;
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
}
