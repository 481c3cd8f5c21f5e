// Entry of dist/loopWorker.js: runs the loop off the host's thread (onnxruntime's native run blocks the
// thread that calls it). Cancellation is checked between batches; the host terminates us if a batch hangs.
import { parentPort } from 'node:worker_threads';
import { isEvalpredError } from '../errors';
import { evalPredToWire } from '../tensor/transfer';
import { CancelledError, runLoop } from './evaluationLoop';
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
  else if (m.type === 'start') void start(m.settings, new Set(m.pauseAfterBatches));
});

async function start(settings: ToWorker & { type: 'start' } extends { settings: infer S } ? S : never, pauseAt: Set<number>) {
  try {
    const result = await runLoop(settings, {
      log: (line) => post({ type: 'log', line }),
      progress: (progress) => post({ type: 'progress', progress }),
      cancelled: () => cancelled,
      afterBatch: pauseAt.size
        ? (progress) => {
            if (!pauseAt.has(progress.batch) || cancelled) return;
            post({ type: 'paused', progress });
            return new Promise<void>((r) => (resume = r));
          }
        : undefined,
    });
    const transfer = new Set<ArrayBuffer>();
    const { evalPred, ...rest } = result;
    post({ type: 'done', result: rest, evalPred: evalPredToWire(evalPred, transfer) }, [...transfer]);
  } catch (e) {
    if (e instanceof CancelledError) post({ type: 'cancelled' });
    else post({ type: 'error', message: e instanceof Error ? e.message : String(e), userError: isEvalpredError(e), stack: e instanceof Error ? e.stack : undefined });
  }
}
