// The feeder thread's body (dist/feederWorker.js, feederWorker.ts; feeder.ts starts it):
// tokenize the job's rows chunk by chunk, never more than `aheadChunks` chunks past the row the loop is at,
// and send each chunk's arrays without copying (transferred). Stops at the first error, after the chunks before it.
import type { MessagePort } from 'node:worker_threads';
import { isEvalpredError } from '../errors';
import type { LoadedTokenizer } from '../text';
import { loadTokenizerSync } from '../text/tokenizer';
import { FeederJob, FromFeeder, ToFeeder, tokenizeRows } from './feederProtocol';
import { packEncodings } from './tokenFeatures';

export function runFeederThread(port: MessagePort): void {
  let consumed = 0;
  let wake: (() => void) | null = null;
  // The tokenizer loaded by 'warm' (before the job came); a failure is left for 'start' to report.
  let warm: { dir: string; tok: LoadedTokenizer } | null = null;
  port.on('message', (m: ToFeeder) => {
    if (m.type === 'warm') {
      try {
        warm = { dir: m.tokenizerDir, tok: loadTokenizerSync(m.tokenizerDir) };
      } catch {
        warm = null;
      }
    } else if (m.type === 'consumed') {
      consumed = Math.max(consumed, m.row);
      const w = wake;
      wake = null;
      w?.();
    } else void produce(m.job, m.aheadChunks);
  });
  const post = (m: FromFeeder, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

  async function produce(job: FeederJob, aheadChunks: number): Promise<void> {
    let row = 0;
    try {
      const tok = warm?.dir === job.tokenizerDir ? warm.tok : loadTokenizerSync(job.tokenizerDir);
      for (; row < job.texts.length; row += job.chunkRows) {
        while (row >= consumed + aheadChunks * job.chunkRows) await new Promise<void>((r) => (wake = r));
        const chunk = packEncodings(row, tokenizeRows(tok, job, row, Math.min(job.texts.length, row + job.chunkRows)));
        post({ type: 'chunk', chunk }, [chunk.starts.buffer as ArrayBuffer, chunk.ids.buffer as ArrayBuffer, chunk.typeIds.buffer as ArrayBuffer]);
        // Let 'consumed' messages in between chunks.
        await new Promise<void>((r) => setImmediate(r));
      }
    } catch (e) {
      post({ type: 'error', row, message: e instanceof Error ? e.message : String(e), userError: isEvalpredError(e) });
    }
  }
}
