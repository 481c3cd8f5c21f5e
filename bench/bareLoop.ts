// The baseline the loop benchmarks measure against: a bare `session.run` loop over batches tokenized beforehand.
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../src/core/tensor/tensor';
import { timeIt } from './util';

/**
 * Milliseconds of one pass of `session.run` over `batches` (their input_ids and attention_mask), on a fresh session
 * opened outside the timing with `options` (default: onnxruntime's), as the loop opens one per run: the first pass
 * over new sequence lengths grows onnxruntime's memory arena in both.
 */
export async function timeBareLoop(modelFile: string, batches: Record<string, Tensor>[], options: ort.InferenceSession.SessionOptions = {}): Promise<number> {
  const session = await ort.InferenceSession.create(modelFile, options);
  try {
    return await timeIt(async () => {
      for (const f of batches) {
        await session.run({
          input_ids: new ort.Tensor('int64', f.input_ids.data as BigInt64Array, [...f.input_ids.shape]),
          attention_mask: new ort.Tensor('int64', f.attention_mask.data as BigInt64Array, [...f.attention_mask.shape]),
        });
      }
    });
  } finally {
    await session.release();
  }
}
