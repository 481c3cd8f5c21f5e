// Inference lanes (docs/architecture.md#inference-lanes): besides the loop thread's own session, worker threads
// that each hold a session of the same model, so that consecutive batches run side by side (the loop keeps one
// more in flight than lanes: driver.ts, inOrder.ts). Once a lane is open, the lanes run every batch. On a small
// number of cores, two sessions of one thread each get more done than one session whose operators are split
// across two threads: a batch of 32 short sentences gives each operator too little work to share. The batches,
// their order and padding are unchanged; each lane computes exactly what the loop thread's session would
// (test/unit/lanes.test.ts).
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { distFile } from '../../paths';
import { FromLane, ToLane, fromWire, toWire } from './protocol';

/** A run needs at least this many rows before lanes pay for their start (a thread, onnxruntime, the model: ~0.2 s
 *  on 2 cores, while the loop thread's session runs the first batches beside them). */
export const LANES_MIN_ROWS = 8192;

interface Lane {
  worker: Worker;
  state: 'opening' | 'idle' | 'busy' | 'gone';
  /** The batch it runs (one at a time, so a reply is always this batch's). */
  pending: { resolve: (out: ort.InferenceSession.ReturnType) => void; reject: (e: Error) => void } | null;
  /** Resolved once the lane opened the model or failed to. */
  settled: Promise<void>;
}

const counts = { started: 0, live: 0 };
/** Lane threads started so far, and those not yet exited (tests check that a run stops what it started). */
export function laneThreadCounts(): { started: number; live: number } {
  return { ...counts };
}

export class LanePool {
  private readonly lanes: Lane[] = [];
  private readonly waiters: (() => void)[] = [];
  /** How many lanes opened the model, once each one did or failed to. */
  readonly opened: Promise<number>;

  /** `count` lane threads, each opening `file` with `options`; they take batches once open (until then the loop thread's session does). */
  constructor(file: string, options: ort.InferenceSession.SessionOptions, count: number) {
    for (let i = 0; i < count; i++) this.lanes.push(this.start(file, options));
    this.opened = Promise.all(this.lanes.map((l) => l.settled)).then(() => this.ready);
  }

  private start(file: string, options: ort.InferenceSession.SessionOptions): Lane {
    const worker = new Worker(distFile('laneWorker.js'));
    counts.started++;
    counts.live++;
    let settled!: () => void;
    const lane: Lane = { worker, state: 'opening', pending: null, settled: new Promise<void>((r) => (settled = r)) };
    const fail = (why: string) => {
      const p = lane.pending;
      lane.pending = null;
      lane.state = 'gone';
      p?.reject(new Error(why));
      settled();
      // Every waiting run looks again: with no lane left, each runs in the loop thread.
      this.waiters.splice(0).forEach((w) => w());
    };
    worker.on('message', (m: FromLane) => {
      if (m.type === 'ready') {
        if (lane.state === 'opening') lane.state = 'idle';
        settled();
        this.wakeOne();
      }
      // A lane that cannot open the model (memory, most likely) is left out; the loop thread's session runs its batches.
      else if (m.type === 'openFailed') fail(m.message);
      else {
        const p = lane.pending;
        if (!p) return;
        lane.pending = null;
        if (lane.state === 'busy') lane.state = 'idle';
        this.wakeOne();
        if (m.type === 'ran') p.resolve(fromWire(m.outputs));
        else p.reject(new Error(m.message));
      }
    });
    worker.on('error', (e) => fail(`the inference lane thread failed: ${e.message}`));
    worker.on('exit', () => {
      counts.live--;
      fail('the inference lane thread stopped');
    });
    worker.postMessage({ type: 'open', file, options } satisfies ToLane);
    return lane;
  }

  /** Lanes started (whether or not they opened the model). */
  get size(): number {
    return this.lanes.length;
  }

  /** Lanes open and running, or ready to. */
  get ready(): number {
    return this.lanes.filter((l) => l.state === 'idle' || l.state === 'busy').length;
  }

  /**
   * Run `feeds` on a lane: an idle one, else the next to finish. While no lane is open yet (they open beside the
   * loop thread's session) or every lane failed, `here` runs them (the loop thread's own session).
   */
  async run(feeds: Record<string, ort.Tensor>, here: () => Promise<ort.InferenceSession.ReturnType>): Promise<ort.InferenceSession.ReturnType> {
    for (;;) {
      const lane = this.lanes.find((l) => l.state === 'idle');
      if (lane) return this.send(lane, feeds);
      if (!this.lanes.some((l) => l.state === 'busy')) return here();
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private send(lane: Lane, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    lane.state = 'busy';
    return new Promise((resolve, reject) => {
      lane.pending = { resolve, reject };
      // Copied, not moved: a feed's array can be a view of the features file's buffer (docs/cache-format.md#tokenized-features).
      lane.worker.postMessage({ type: 'run', feeds: toWire(feeds) } satisfies ToLane);
    });
  }

  /** A lane became idle or gone: the oldest waiting run looks again. */
  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  /** Stop every lane (after the runs handed to them have settled: the loop waits for its batches in flight). */
  async close(): Promise<void> {
    await Promise.all(
      this.lanes.map(async (l) => {
        l.state = 'gone';
        await l.worker.terminate();
      }),
    );
  }
}
