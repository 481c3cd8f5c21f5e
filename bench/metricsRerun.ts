// Rerun latency of an argmax-accuracy compute_metrics on a 100,000 x 1,000 float32 cache, measured side by
// side in one run: our TS runner (warm), our Python runner (warm), and plain `python3 -c` NumPy reading the
// same .npy files. Also the first result after a save (the file changed: rebundle / reload).
// Targets (issue 3): TS warm <= 1.5x NumPy; Python warm <= 1.2x NumPy + 50 ms; first result after save < 1 s.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeCache } from '../src/core/cache/store';
import { MetricRunners } from '../src/core/metrics/runMetrics';
import { Tensor } from '../src/core/tensor/tensor';
import { pythonWith } from '../test/helpers/python';
import { median, printTable, timeIt } from './util';

const N = Number(process.env.BENCH_ROWS ?? 100_000);
const C = Number(process.env.BENCH_COLS ?? 1_000);

const TS_METRIC = `export function computeMetrics(p) {
  const pred = p.predictions.argmax(-1);
  const labels = p.labelIds.data;
  const ids = pred.data;
  let correct = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] === labels[i]) correct++;
  return { accuracy: correct / ids.length };
}
`;
const PY_METRIC = `import numpy as np
def compute_metrics(eval_pred):
    preds, labels = eval_pred
    return {"accuracy": float((np.argmax(preds, axis=-1) == labels).mean())}
`;

export async function main(): Promise<void> {
  const runners = new MetricRunners();
  const runMetricFile = (cache: string, file: string, opts: { python?: string } = {}) => runners.run(cache, file, opts);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-'));
  try {
    process.stderr.write(`building a ${N} x ${C} float32 cache (${((N * C * 4) / 1024 ** 2).toFixed(0)} MiB)...\n`);
    const logits = new Float32Array(N * C);
    let x = 2463534242;
    for (let i = 0; i < logits.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      logits[i] = (x >>> 0) / 4294967296;
    }
    const labels = new BigInt64Array(N);
    for (let i = 0; i < N; i++) labels[i] = BigInt(i % C);
    const cache = path.join(dir, 'cache');
    writeCache(cache, { predictions: new Tensor('float32', [N, C], logits), labelIds: new Tensor('int64', [N], labels), inputs: null, losses: null }, { numSamples: N, key: 'bench', producer: {} });
    const tsFile = path.join(dir, 'metrics.ts');
    const pyFile = path.join(dir, 'metrics.py');
    fs.writeFileSync(tsFile, TS_METRIC);
    fs.writeFileSync(pyFile, PY_METRIC);
    const py = pythonWith(['numpy']);
    const reps = 5;

    const firstTs = await timeIt(() => runMetricFile(cache, tsFile));
    const tsTimes: number[] = [];
    for (let i = 0; i < reps; i++) tsTimes.push(await timeIt(() => runMetricFile(cache, tsFile)));
    const tsWarm = median(tsTimes);
    fs.appendFileSync(tsFile, '// saved\n');
    const tsAfterSave = await timeIt(() => runMetricFile(cache, tsFile));

    const firstPy = await timeIt(() => runMetricFile(cache, pyFile, { python: py }));
    const pyTimes: number[] = [];
    for (let i = 0; i < reps; i++) pyTimes.push(await timeIt(() => runMetricFile(cache, pyFile, { python: py })));
    fs.appendFileSync(pyFile, '# saved\n');
    const pyAfterSave = await timeIt(() => runMetricFile(cache, pyFile, { python: py }));

    const m = JSON.parse(fs.readFileSync(path.join(cache, 'manifest.json'), 'utf8'));
    const plainCode =
      `import numpy as np\np=np.load(${JSON.stringify(path.join(cache, m.eval_prediction.predictions.npy))})\n` +
      `l=np.load(${JSON.stringify(path.join(cache, m.eval_prediction.label_ids.npy))})\nprint(float((np.argmax(p, axis=-1)==l).mean()))`;
    const npTimes: number[] = [];
    for (let i = 0; i < reps; i++) npTimes.push(await timeIt(async () => execFileSync(py, ['-c', plainCode])));
    const numpy = median(npTimes);
    const pyWarm = median(pyTimes);
    printTable(`metric rerun, argmax accuracy on ${N} x ${C} float32 (median of ${reps})`, [
      ['plain python3 -c NumPy (baseline)', numpy, '1.00x', ''],
      ['TS runner, warm', tsWarm, `${(tsWarm / numpy).toFixed(2)}x`, `target <= 1.5x: ${tsWarm <= 1.5 * numpy ? 'met' : 'NOT met'}`],
      ['Python runner, warm', pyWarm, `${(pyWarm / numpy).toFixed(2)}x`, `target <= 1.2x + 50 ms: ${pyWarm <= 1.2 * numpy + 50 ? 'met' : 'NOT met'}`],
      ['TS first run (cold worker)', firstTs, '', ''],
      ['Python first run (cold process)', firstPy, '', ''],
      ['TS first result after a save', tsAfterSave, '', `target < 1000 ms: ${tsAfterSave < 1000 ? 'met' : 'NOT met'}`],
      ['Python first result after a save', pyAfterSave, '', `target < 1000 ms: ${pyAfterSave < 1000 ? 'met' : 'NOT met'}`],
    ]);
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
