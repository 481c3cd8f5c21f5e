// Run by test/scale/bigArrays.scale.ts in a process of its own (its peak memory is its own): the Debug Console's
// whole-array operations, the Variables view's statistics and the prediction view's cards on a cache whose
// predictions pass 4 GiB, each in slices as the adapter and the view run them. Prints one JSON line per
// operation (milliseconds, the longest event-loop delay while it ran) and writes the array results as .npy
// files into OUT for the test to check against NumPy.
// Usage: node consoleProbe.js CACHE_DIR OUT_DIR
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readCache } from '../../src/core/cache/store';
import { evaluateSliced, runSliced } from '../../src/core/expr';
import { writeNpyFile } from '../../src/core/tensor/npy';
import { Tensor } from '../../src/core/tensor/tensor';
import { peakRssKb } from '../helpers/peakRss';
import { tensorCardsOf } from '../../src/core/view/cards';
import { VariableStore } from '../../src/debug/variables';

async function main(): Promise<void> {
  const [cache, out] = process.argv.slice(2);
  const { evalPred } = readCache(cache);
  const files: Record<string, string> = { 'argmax(predictions, -1)': 'argmax_last.npy', 'max(predictions, 0)': 'max_axis0.npy' };
  const timed = async (name: string, fn: () => Promise<unknown>): Promise<unknown> => {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const t0 = performance.now();
    const value = await fn();
    const ms = performance.now() - t0;
    delay.disable();
    const shown = value instanceof Tensor ? `${value}` : value;
    console.log(JSON.stringify({ name, ms: Math.round(ms), stallMs: Math.round(delay.max / 1e6), value: shown }));
    if (value instanceof Tensor) writeNpyFile(path.join(out, files[name]), value);
    return value;
  };
  for (const src of ['sum(predictions)', 'argmax(predictions, -1)', 'max(predictions, 0)']) await timed(src, () => evaluateSliced(src, { evalPred }));
  // The Variables view's statistics line, as a click on "statistics" computes it.
  await timed('variables statistics', async () => {
    const store = new VariableStore({ evalPred, tokenIdField: () => false });
    const preds = (await store.variables(store.evalPredScope())).find((v) => v.name === 'predictions')!;
    const stats = (await store.variables(preds.variablesReference, 'named')).find((v) => v.name === 'statistics')!;
    return (await store.variables(stats.variablesReference))[0].value;
  });
  // The prediction view's cards (statistics reused, so this is the histogram's pass).
  await timed('view cards', async () => {
    const cards = await runSliced(tensorCardsOf(evalPred));
    return cards.map((c) => ({ path: c.path, min: c.min, max: c.max, nanCount: c.nanCount, counts: c.histogram.counts, edges: c.histogram.edges }));
  });
  console.log(JSON.stringify({ name: 'process', maxRssMb: Math.round(peakRssKb() / 1024), predictionsInMemory: (evalPred.predictions as Tensor).inMemory }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
