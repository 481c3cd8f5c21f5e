// Entry of dist/feederWorker.js, the loop's tokenization feeder thread (feederThread.ts). A bundle of its own:
// it holds the tokenizer and little else, so the thread starts in a fraction of the loop worker's time.
import { parentPort } from 'node:worker_threads';
import { runFeederThread } from './feederThread';

if (!parentPort) throw new Error('feederWorker must run in a worker thread');
runFeederThread(parentPort);
