// Two evaluations of the same dataset side by side (checkpoints, exports, settings, metric versions): the
// metrics of each with the difference, and the samples whose correctness changed. Correctness is the
// prediction view's, per task (src/core/view/samples/), so `evalpred compare` and the view agree.
import fs from 'node:fs';
import path from 'node:path';
import { readCache } from '../cache/store';
import { EvalpredError, messageOf } from '../errors';
import { Evaluation, loopRecordOf } from '../evaluate';
import type { RunSettings } from '../loop/settings';
import { MetricsOutcome, metricsForEvaluation, metricsFromCache } from '../metrics/forEvaluation';
import type { Metrics } from '../metrics/postprocess';
import type { MetricRunners } from '../metrics/runMetrics';
import type { ChangedSample, CompareOverview, MetricDelta } from '../../shared/compareProtocol';
import type { RowView } from '../../shared/protocol';

export type { ChangedSample, MetricDelta } from '../../shared/compareProtocol';
import { SampleTable } from '../view/samples';
import { viewInputFor } from '../view/viewModel';

/** The overview the compare view shows (src/shared/compareProtocol.ts), with the changed samples in place of their counts. */
export interface Comparison extends Omit<CompareOverview, 'fixed' | 'broken'> {
  changed: ChangedSample[];
}

interface Side {
  dir: string;
  evaluation: Evaluation;
  table: SampleTable;
}

async function openSide(dir: string, name: 'A' | 'B'): Promise<Side> {
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new EvalpredError(`CACHE_${name} ${dir} is not a prediction cache: it holds no manifest.json (make one with \`evalpred run --out ${dir}\`).`, { file: dir });
  }
  const { manifest, evalPred } = readCache(dir);
  const loop = loopRecordOf(manifest, dir);
  const evaluation = { cacheDir: path.resolve(dir), fromCache: true, manifest, evalPred, loop } as Evaluation;
  const input = await viewInputFor(evaluation, {});
  return { dir, evaluation, table: new SampleTable(input) };
}

function datasetOf(e: Evaluation): { path?: string; split?: string | null; files?: unknown } | undefined {
  return (e.manifest.producer as { dataset?: { path?: string; split?: string | null; files?: unknown } }).dataset;
}

/** Refuses two caches that do not evaluate the same samples, with the reason. */
function checkComparable(a: Side, b: Side, notes: string[]): void {
  const na = a.table.n;
  const nb = b.table.n;
  if (na !== nb) {
    throw new EvalpredError(
      `cannot compare ${a.dir} (${na} samples) with ${b.dir} (${nb} samples): the caches must hold the same samples in the same order. ` +
        `Evaluate both on the same dataset and split without --max-samples differences.`,
      { file: b.dir },
    );
  }
  const ta = a.evaluation.loop?.task;
  const tb = b.evaluation.loop?.task;
  if (ta && tb && ta !== tb) {
    throw new EvalpredError(`cannot compare ${a.dir} (task ${ta}) with ${b.dir} (task ${tb}): correctness means different things for different tasks.`, { file: b.dir });
  }
  const da = datasetOf(a.evaluation);
  const db = datasetOf(b.evaluation);
  if (!da?.files || !db?.files) {
    notes.push(`${!da?.files ? a.dir : b.dir} does not record which dataset it evaluated (an imported dump?): the samples are matched by position only.`);
    return;
  }
  const same = JSON.stringify(da.files) === JSON.stringify(db.files) && (da.split ?? null) === (db.split ?? null);
  if (!same) {
    const what = (d: typeof da) => `${d.path ?? '?'}${d.split ? ` (split ${d.split})` : ''}`;
    throw new EvalpredError(
      `cannot compare ${a.dir} with ${b.dir}: they evaluated different datasets — ${what(da)} and ${what(db)} ` +
        `${da.path === db.path ? 'whose content changed between the runs' : 'differ in content'} (the manifests' dataset hashes differ). ` +
        `A comparison of per-sample correctness needs the same samples; rerun one of them on the other's dataset.`,
      { file: b.dir },
    );
  }
}

async function metricsOf(runners: MetricRunners, side: Side, file: string | undefined): Promise<MetricsOutcome> {
  const ev = side.evaluation;
  try {
    if (file) return await metricsFromCache(runners, ev.cacheDir, ev.loop, file, { rerun: true });
    if (!ev.loop) {
      throw new EvalpredError(`${side.dir} has no record of the loop that made it, so there are no built-in metrics for it: pass --metrics FILE.`, { file: side.dir });
    }
    const producer = ev.manifest.producer as { settings?: Omit<RunSettings, 'model' | 'dataset'>; model?: { path?: string }; dataset?: { path?: string } };
    if (!producer.settings) throw new EvalpredError(`${side.dir}'s manifest records no run settings, so its built-in metrics are unknown: pass --metrics FILE.`, { file: side.dir });
    // The key settings leave out the model and dataset paths; the manifest records them beside (seq2seq ROUGE decodes with the model's tokenizer).
    const settings = { ...producer.settings, model: producer.model?.path ?? '', dataset: producer.dataset?.path ?? '' } as RunSettings;
    return await metricsForEvaluation(runners, ev, settings, { rerun: true });
  } catch (e) {
    const msg = messageOf(e);
    throw new EvalpredError(`the metrics of ${side.dir} could not be computed: ${msg}`, { file: side.dir }, { cause: e });
  }
}

function deltas(a: Metrics, b: Metrics): MetricDelta[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const scalar = (v: unknown): number | string | undefined => (typeof v === 'number' || typeof v === 'string' ? v : v === undefined ? undefined : JSON.stringify(v));
  return keys.map((key) => {
    const x = scalar(a[key]);
    const y = scalar(b[key]);
    return { key, a: x, b: y, ...(typeof x === 'number' && typeof y === 'number' ? { delta: y - x } : {}) };
  });
}

function changedSample(i: number, ra: RowView, rb: RowView): ChangedSample {
  return {
    index: i,
    change: rb.correct ? 'fixed' : 'broken',
    text: ra.text || rb.text,
    ...(ra.label !== undefined || rb.label !== undefined ? { label: ra.label ?? rb.label } : {}),
    prediction_a: ra.prediction,
    prediction_b: rb.prediction,
    ...(ra.sequences ? { sequences_a: ra.sequences.map((s) => s.prediction) } : {}),
    ...(rb.sequences ? { sequences_b: rb.sequences.map((s) => s.prediction) } : {}),
    correct_a: !!ra.correct,
    correct_b: !!rb.correct,
    ...(ra.loss !== undefined ? { loss_a: ra.loss } : {}),
    ...(rb.loss !== undefined ? { loss_b: rb.loss } : {}),
  };
}

/** Compare two caches: refuses caches of different datasets, tasks or sample counts. `runners` run a metric file (the caller closes them). */
export async function compareCaches(runners: MetricRunners, dirA: string, dirB: string, opts: { metrics?: string } = {}): Promise<Comparison> {
  const a = await openSide(dirA, 'A');
  const b = await openSide(dirB, 'B');
  const notes: string[] = [...a.table.notes.map((n) => `A: ${n}`), ...b.table.notes.map((n) => `B: ${n}`)];
  checkComparable(a, b, notes);
  const ma = await metricsOf(runners, a, opts.metrics);
  const mb = await metricsOf(runners, b, opts.metrics);
  for (const w of ma.warnings) notes.push(`A: ${w}`);
  for (const w of mb.warnings) notes.push(`B: ${w}`);
  const changed: ChangedSample[] = [];
  let ca = 0;
  let cb = 0;
  let known = 0;
  for (let i = 0; i < a.table.n; i++) {
    const x = a.table.correct[i];
    const y = b.table.correct[i];
    if (x === -1 || y === -1) continue;
    known++;
    ca += x;
    cb += y;
    if (x !== y) changed.push(changedSample(i, a.table.row(i), b.table.row(i)));
  }
  if (known === 0) notes.push('no sample has a known correctness in both caches (no labels?): only the metrics are compared.');
  return {
    a: dirA,
    b: dirB,
    task: a.evaluation.loop?.task ?? b.evaluation.loop?.task ?? a.table.task,
    numSamples: a.table.n,
    metrics: deltas(ma.metrics, mb.metrics),
    correct: { a: ca, b: cb, known },
    changed,
    notes,
  };
}
