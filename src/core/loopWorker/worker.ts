// Entry of dist/loopWorker.js: runs the loop off the host's thread (onnxruntime's native run blocks the
// thread that calls it). Cancellation is checked between batches; the host terminates us if a batch hangs.
// The metric file's preprocess_logits_for_metrics runs in this thread's runners: we start them and close them.
import { parentPort } from 'node:worker_threads';
import { isEvalpredError } from '../errors';
import { runLoop } from '../loop/driver';
import { CancelledError } from '../loop/types';
import { MetricRunners } from '../metrics/runMetrics';
import { evalPredToWire } from '../tensor/transfer';
import { FromWorker, ToWorker } from './protocol';

const port = parentPort;
if (!port) throw new Error('loopWorker must run in a worker thread');
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
let cancelled = false;
let resume: (() => void) | undefined;

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') {
    cancelled = true;
    resume?.();
  } else if (m.type === 'resume') resume?.();
  else if (m.type === 'start') void start(m.settings, new Set(m.pauseAfterBatches), new MetricRunners(m.runners ?? {}), m.spoolDir);
});

async function start(settings: ToWorker & { type: 'start' } extends { settings: infer S } ? S : never, pauseAt: Set<number>, runners: MetricRunners, spoolDir?: string) {
  let reply: FromWorker;
  const transfer = new Set<ArrayBuffer>();
  try {
    try {
      const result = await runLoop(settings, {
        preprocess: settings.metrics ? await runners.preprocessHook(settings.metrics) : null,
        log: (line) => post({ type: 'log', line }),
        progress: (progress) => post({ type: 'progress', progress }),
        cancelled: () => cancelled,
        spoolDir,
        afterBatch: pauseAt.size
          ? (progress) => {
              if (!pauseAt.has(progress.batch) || cancelled) return;
              post({ type: 'paused', progress });
              return new Promise<void>((r) => (resume = r));
            }
          : undefined,
      });
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
