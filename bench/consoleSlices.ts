// How long a Debug Console evaluation holds the adapter's event loop (issue 9: a 100 M-element reduction
// blocked it 1-2 s). Side by side in one run: the same expression evaluated in one go and in slices
// (src/core/expr/slices.ts), with a 1 ms timer measuring the longest gap the event loop saw.
import { evaluateExpression, evaluateSliced } from '../src/core/expr';
import { Tensor } from '../src/core/tensor/tensor';
import { printTable } from './util';

const ELEMENTS = Number(process.env.BENCH_CONSOLE_ELEMENTS ?? 100_000_000);

async function longestGap(run: () => Promise<unknown> | unknown): Promise<{ gap: number; total: number }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  last = performance.now();
  const start = last;
  await run();
  const total = performance.now() - start;
  await new Promise((r) => setTimeout(r, 5)); // let the timer see the end of a blocking run
  clearInterval(timer);
  return { gap, total };
}

export async function main(): Promise<void> {
  const data = new Float32Array(ELEMENTS);
  for (let i = 0; i < data.length; i++) data[i] = (i % 7) - 3;
  const ctx = { evalPred: { predictions: new Tensor('float32', [ELEMENTS / 1000, 1000], data), labelIds: null, inputs: null, losses: null } };
  const expr = 'sum(predictions)';
  const plain = await longestGap(() => evaluateExpression(expr, ctx));
  const sliced = await longestGap(() => evaluateSliced(expr, ctx));
  printTable(`Debug Console: ${expr} over ${ELEMENTS / 1e6} M float32 elements, longest event-loop stall (total time in the label)`, [
    [`in one go (${plain.total.toFixed(0)} ms)`, plain.gap, '1.00x', 'the adapter answers nothing meanwhile'],
    [`in slices (${sliced.total.toFixed(0)} ms)`, sliced.gap, `${(sliced.gap / plain.gap).toFixed(3)}x`, `total ${(sliced.total / plain.total).toFixed(2)}x of one go`],
  ]);
}
