// Running an evaluation in slices (docs/architecture.md, "The debug adapter"): the evaluator is a generator
// that yields inside its loops; this runs it for up to `sliceMs`, then gives the event loop a turn
// (setImmediate), so the adapter keeps answering threads, stackTrace, pause and disconnect while a long
// reduction runs. An aborted signal ends the evaluation at its next yield.
import { EvalpredError } from '../errors';
import { ExprContext, evaluationOf } from './evaluate';
import { Gen } from './tensorOps';
import { Value } from './values';

/** An evaluation stopped because a newer one started, the run went on or the session ended. */
export class EvaluationCancelled extends EvalpredError {
  constructor(why: string) {
    super(`evaluation cancelled: ${why}`);
    this.name = 'EvalpredError';
  }
}

/** Milliseconds of work between two turns of the event loop. */
export const SLICE_MS = 10;

/** Drive `g` to its end, handing the event loop a turn every `sliceMs`; stops at the next yield once `signal` aborts. */
export async function runSliced<T>(g: Gen<T>, signal?: AbortSignal, sliceMs = SLICE_MS): Promise<T> {
  const why = () => (typeof signal?.reason === 'string' ? signal.reason : 'stopped');
  let sliceStart = performance.now();
  for (;;) {
    if (signal?.aborted) {
      g.return(undefined as T); // runs the generator's finally blocks; its intermediate arrays become garbage
      throw new EvaluationCancelled(why());
    }
    const r = g.next();
    if (r.done) return r.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** evaluateExpression in slices (see runSliced). */
export function evaluateSliced(src: string, ctx: ExprContext, signal?: AbortSignal): Promise<Value> {
  return runSliced(evaluationOf(src, ctx), signal);
}
