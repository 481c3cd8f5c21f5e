// Entry of dist/laneWorker.js: one inference lane, a thread that holds its own onnxruntime session of the loop's
// model and runs the batches pool.ts sends it (docs/architecture.md#inference-lanes). A bundle of its own: it holds
// onnxruntime's binding and little else. The checks and the error wording stay with the dispatching session.
import { parentPort } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { messageOf } from '../../errors';
import { onnxRuntime } from '../../native';
import { FromLane, ToLane, WireTensor, fromWire, toWire } from './protocol';

const port = parentPort;
if (!port) throw new Error('laneWorker must run in a worker thread');

let session: ort.InferenceSession | null = null;
const post = (m: FromLane, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (m: ToLane) => {
  if (m.type === 'open') void open(m.file, m.options);
  else void run(m.feeds);
});

async function open(file: string, options: ort.InferenceSession.SessionOptions): Promise<void> {
  try {
    const rt = onnxRuntime();
    rt.env.logLevel = 'fatal';
    session = await rt.InferenceSession.create(file, options);
    post({ type: 'ready' });
  } catch (e) {
    post({ type: 'openFailed', message: messageOf(e) });
  }
}

async function run(feeds: Record<string, WireTensor>): Promise<void> {
  try {
    if (!session) throw new Error('the lane has no session');
    const outputs = toWire((await session.run(fromWire(feeds), { logSeverityLevel: 4 })) as Record<string, ort.Tensor>);
    const buffers = new Set<ArrayBuffer>();
    for (const t of Object.values(outputs)) {
      const buf = (t.data as ArrayBufferView).buffer;
      if (buf instanceof ArrayBuffer) buffers.add(buf);
    }
    // Moved, not copied (full logits can be hundreds of MB a batch); a buffer that cannot move is copied.
    try {
      post({ type: 'ran', outputs }, [...buffers]);
    } catch {
      post({ type: 'ran', outputs });
    }
  } catch (e) {
    post({ type: 'failed', message: messageOf(e) });
  }
}
