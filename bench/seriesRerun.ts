// Rerunning a fixed metric over a captured training run (issue 14): a 20-step series of 10,000 x 1,000
// float32 caches, against one step's warm rerun, measured side by side in one run. Steps are loaded one at a
// time (memory-mapped), so the series should cost about 20 single reruns plus a constant.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeCache } from '../src/core/cache/store';
import { MetricRunners } from '../src/core/metrics/runMetrics';
import { metricsFromCache } from '../src/core/metrics/forEvaluation';
import { SERIES_FILE, SERIES_FORMAT } from '../src/core/series/format';
import { rerunSeries } from '../src/core/series/series';
import { Tensor } from '../src/core/tensor/tensor';
import { pythonWith } from '../test/helpers/python';
import { median, printTable, timeIt } from './util';

const STEPS = Number(process.env.BENCH_STEPS ?? 20);
const N = Number(process.env.BENCH_ROWS ?? 10_000);
const C = Number(process.env.BENCH_COLS ?? 1_000);
const PY_METRIC = `import numpy as np
def compute_metrics(eval_pred):
    preds, labels = eval_pred
    return {"accuracy": float((np.argmax(preds, axis=-1) == labels).mean())}
`;

export async function main(): Promise<void> {
  const runners = new MetricRunners();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-series-'));
  try {
    process.stderr.write(`building a ${STEPS}-step series of ${N} x ${C} float32 caches (${((STEPS * N * C * 4) / 1024 ** 2).toFixed(0)} MiB)...\n`);
    const series = path.join(dir, 'series');
    fs.mkdirSync(series);
    const steps = [];
    let x = 2463534242;
    for (let s = 1; s <= STEPS; s++) {
      const logits = new Float32Array(N * C);
      for (let i = 0; i < logits.length; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        logits[i] = (x >>> 0) / 4294967296;
      }
      const labels = new BigInt64Array(N);
      for (let i = 0; i < N; i++) labels[i] = BigInt((i * s) % C);
      const name = `step-${s * 100}`;
      writeCache(path.join(series, name), { predictions: new Tensor('float32', [N, C], logits), labelIds: new Tensor('int64', [N], labels), inputs: null, losses: null }, { numSamples: N, key: name, producer: {} });
      steps.push({ dir: name, call: s, step: s * 100, epoch: s, metrics: { accuracy: 0 } });
    }
    fs.writeFileSync(path.join(series, SERIES_FILE), JSON.stringify({ format: SERIES_FORMAT, steps }));
    const file = path.join(dir, 'metrics.py');
    fs.writeFileSync(file, PY_METRIC);
    const python = pythonWith(['numpy']);
    const one = path.join(series, 'step-100');
    await metricsFromCache(runners, one, undefined, file, { python }); // warm the worker
    const singles: number[] = [];
    for (let i = 0; i < 5; i++) singles.push(await timeIt(() => metricsFromCache(runners, one, undefined, file, { python })));
    const single = median(singles);
    const whole = await timeIt(async () => {
      const rows = await rerunSeries(runners, series, file, { python });
      if (rows.some((r) => r.error)) throw new Error(rows.find((r) => r.error)!.error!);
    });
    const constant = whole - STEPS * single;
    printTable(`series rerun, ${STEPS} steps of ${N} x ${C} float32, Python metric (warm worker)`, [
      ['one step (median of 5)', single, '1.00x', ''],
      [`the whole series (${STEPS} steps)`, whole, `${(whole / single).toFixed(1)}x`, `target <= ${STEPS}x + a constant: constant ${constant.toFixed(0)} ms`],
    ]);
  } finally {
    await runners.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
