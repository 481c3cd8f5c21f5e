// Entry of dist/loopWorker.js: runs the loop off the host's thread (onnxruntime's native run blocks the
// thread that calls it). Cancellation is checked between batches; the host terminates us if a batch hangs.
// The metric file's preprocess_logits_for_metrics runs in this thread's runners: we start them and close them.
import { parentPort } from 'node:worker_threads';
import { isEvalpredError } from '../errors';
import { runLoop } from '../loop/driver';
import { CancelledError, LoopHooks } from '../loop/types';
import { MetricRunners } from '../metrics/runMetrics';
import { evalPredToWire } from '../tensor/transfer';
import type { FeaturesCacheTarget } from '../textFeatures/featuresKey';
import { FromWorker, ToWorker } from './protocol';

const PROGRESS_INTERVAL_MS = 100;
const port = parentPort;
if (!port) throw new Error('loopWorker must run in a worker thread');
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
let cancelled = false;
let resume: (() => void) | undefined;
let go: ((yes: boolean) => void) | undefined;
/** Where the run goes, from the start message or (gated) the go message: read by the loop once ready. */
let target: { spoolDir?: string; featuresCache?: FeaturesCacheTarget } = {};

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') {
    cancelled = true;
    resume?.();
    go?.(false);
  } else if (m.type === 'resume') resume?.();
  else if (m.type === 'go') {
    target = { spoolDir: m.spoolDir, featuresCache: m.featuresCache };
    go?.(true);
  } else if (m.type === 'start') {
    // A gated start opens everything, then waits for the host's go (src/core/evaluate.ts hashes meanwhile).
    const gate = m.gated ? new Promise<boolean>((r) => (go = r)) : null;
    target = { spoolDir: m.spoolDir, featuresCache: m.featuresCache };
    void start(m.settings, new Set(m.pauseAfterBatches), new MetricRunners(m.runners ?? {}), gate);
  }
});

async function start(settings: ToWorker & { type: 'start' } extends { settings: infer S } ? S : never, pauseAt: Set<number>, runners: MetricRunners, gate: Promise<boolean> | null) {
  let reply: FromWorker;
  let lastProgress = 0;
  const transfer = new Set<ArrayBuffer>();
  try {
    try {
      const hooks: LoopHooks = {
        preprocess: settings.metrics ? await runners.preprocessHook(settings.metrics) : null,
        log: (line) => post({ type: 'log', line }),
        // Progress at most every PROGRESS_INTERVAL_MS (and always the first, the last and any pause batch): a message
        // per batch woke the host thread thousands of times and cost ~10% of the loop on a loaded 2-core machine (issue 12).
        progress: (progress) => {
          const now = performance.now();
          if (progress.batch === 1 || progress.batch === progress.numBatches || pauseAt.has(progress.batch) || now - lastProgress >= PROGRESS_INTERVAL_MS) {
            lastProgress = now;
            post({ type: 'progress', progress });
          }
        },
        cancelled: () => cancelled,
        ready: async () => {
          if (gate && !(await gate)) throw new CancelledError();
          hooks.spoolDir = target.spoolDir;
        },
        featuresCache: () => target.featuresCache,
        afterBatch: pauseAt.size
          ? (progress) => {
              if (!pauseAt.has(progress.batch) || cancelled) return;
              post({ type: 'paused', progress });
              return new Promise<void>((r) => (resume = r));
            }
          : undefined,
      };
      const result = await runLoop(settings, hooks);
      const { evalPred, ...rest } = result;
      reply = { type: 'done', result: rest, evalPred: evalPredToWire(evalPred, transfer) };
    } finally {
      // Before replying: the host terminates this thread on the reply, and a Python runner must not outlive it.
      await runners.close();
    }
  } catch (e) {
    if (e instanceof CancelledError) reply = { type: 'cancelled' };
    else reply = { type: 'error', message: e instanceof Error ? e.message : String(e), userError: isEvalpredError(e), stack: e instanceof Error ? e.stack : undefined };
  }
  post(reply, [...transfer]);
}
