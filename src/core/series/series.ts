// A series: every evaluation of one training run, captured by the Python helper (`capture` during
// trainer.train()) as `step-<N>/` caches listed in series.json (docs/cache-format.md, "Series"). Rerunning a
// fixed metric over all of them recomputes the training curve without training again.
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, isEvalpredError, messageOf } from '../errors';
import { importDump } from '../cache/import';
import { readCacheManifest } from '../cache/store';
import { whyNotReplaceable } from '../cache/outputFolder';
import { metricsFromCache } from '../metrics/forEvaluation';
import type { MetricRunners } from '../metrics/runMetrics';
import type { Metrics } from '../metrics/postprocess';

import { SERIES_FILE, SERIES_FORMAT } from './format';

export interface SeriesStep {
  /** The step's folder name inside the series (step-100, call-2, ...). */
  dir: string;
  path: string;
  call: number;
  /** Trainer's global_step at that evaluation; null for plain calls (numbered instead). */
  step: number | null;
  epoch: number | null;
  /** What the original compute_metrics returned, as logged (keys with Trainer's eval_ prefix). */
  logged: Record<string, number> | null;
  /** Set when the capture or the import could not keep this step. */
  error?: string;
}

export interface Series {
  dir: string;
  steps: SeriesStep[];
  trainerArgs: Record<string, unknown>;
}

export function isSeries(dir: string): boolean {
  return fs.existsSync(path.join(dir, SERIES_FILE));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Trainer's log keys: numbers only, `eval_` prefixed as Trainer.evaluate prefixes them. */
function asLogged(v: unknown): Record<string, number> | null {
  if (!isObject(v)) return null;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'number') out[k.startsWith('eval_') ? k : `eval_${k}`] = x;
  return out;
}

/** series.json, checked: every step names a folder of its own inside the series. */
export function readSeries(dir: string): Series {
  const file = path.join(dir, SERIES_FILE);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `it has no ${SERIES_FILE}` : `${SERIES_FILE} cannot be read: ${messageOf(e)}`;
    throw new EvalpredError(`${dir} is not an evalpred series: ${why}`, { file });
  }
  if (!isObject(json) || json.format !== SERIES_FORMAT || !Array.isArray(json.steps)) {
    throw new EvalpredError(`${file} is not an evalpred series index (expected {"format": "${SERIES_FORMAT}", "steps": [...]})`, { file });
  }
  const steps = json.steps.map((s, i): SeriesStep => {
    const name = isObject(s) ? s.dir : undefined;
    if (typeof name !== 'string' || !name || name !== path.basename(name) || name === '.' || name === '..') {
      throw new EvalpredError(`${file}: steps[${i}] names no folder of its own (${JSON.stringify(name)})`, { file });
    }
    const st = s as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    return {
      dir: name,
      path: path.join(dir, name),
      call: num(st.call) ?? i + 1,
      step: num(st.step),
      epoch: num(st.epoch),
      logged: asLogged(st.metrics),
      ...(typeof st.error === 'string' ? { error: st.error } : {}),
    };
  });
  return { dir, steps, trainerArgs: isObject(json.trainer_args) ? json.trainer_args : {} };
}

/** Why `out` may not receive an imported series (null: absent, empty, or a series evalpred wrote). */
function whyNotSeriesTarget(out: string): string | null {
  if (!fs.existsSync(out)) return null;
  if (!fs.statSync(out).isDirectory()) return 'it exists and is not a folder';
  const names = fs.readdirSync(out);
  if (!names.length) return null;
  let series: Series;
  try {
    series = readSeries(out);
  } catch {
    return `the folder holds ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''} and is not an evalpred series`;
  }
  const ours = new Set([SERIES_FILE, ...series.steps.map((s) => s.dir)]);
  const foreign = names.filter((n) => !ours.has(n));
  if (foreign.length) return `it is an evalpred series but also holds ${foreign.slice(0, 3).join(', ')}, which evalpred did not write`;
  for (const s of series.steps) {
    const why = whyNotReplaceable(s.path, s.path);
    if (why) return `its step ${s.dir}: ${why}`;
  }
  return null;
}

export interface ImportedSeries {
  steps: number;
  /** Steps that could not be imported: reported, kept in series.json with their error, the rest imported. */
  failed: { dir: string; error: string }[];
}

/** `evalpred import SERIES --out DIR`: each step becomes a checked cache, series.json lists them. */
export async function importSeries(src: string, out: string): Promise<ImportedSeries> {
  const series = readSeries(src);
  const why = whyNotSeriesTarget(out);
  if (why) throw new EvalpredError(`cannot import the series into ${out}: ${why}. Choose another folder; evalpred never replaces files it did not write.`, { file: out });
  fs.mkdirSync(out, { recursive: true });
  const failed: ImportedSeries['failed'] = [];
  const index = JSON.parse(fs.readFileSync(path.join(src, SERIES_FILE), 'utf8')) as { steps: Record<string, unknown>[] };
  for (const [i, s] of series.steps.entries()) {
    try {
      if (s.error) throw new Error(s.error);
      await importDump(s.path, path.join(out, s.dir));
    } catch (e) {
      const error = messageOf(e);
      failed.push({ dir: s.dir, error });
      index.steps[i] = { ...index.steps[i], error };
    }
  }
  const tmp = path.join(out, `.${SERIES_FILE}.${process.pid}.partial`);
  fs.writeFileSync(tmp, JSON.stringify({ ...index, imported_from: path.resolve(src) }, null, 2) + '\n');
  fs.renameSync(tmp, path.join(out, SERIES_FILE));
  return { steps: series.steps.length - failed.length, failed };
}

export interface SeriesRow {
  dir: string;
  call: number;
  step: number | null;
  epoch: number | null;
  numSamples: number | null;
  logged: Record<string, number> | null;
  recomputed: Metrics | null;
  /** The step's error (damaged cache, or the metric failing at the user's line); the other rows still complete. */
  error: string | null;
  /** Where the error points (the user's metric file and line, or the damaged file), when it names a place. */
  errorAt: { file: string; line: number | null } | null;
  /** Differences worth a look: another sample count than the first step's. */
  flags: string[];
}

export interface RerunSeriesOptions {
  function?: string;
  python?: string;
  timeoutMs?: number;
}

/**
 * The series' steps as rows before any rerun: the logged values, each step's sample count read from its
 * manifest, the steps that cannot be read (their error) and the flags. The view shows these until a metric
 * file is chosen; rerunSeries fills in `recomputed`.
 */
export function seriesRows(dir: string): SeriesRow[] {
  const series = readSeries(dir);
  let firstCount: { n: number; label: string } | undefined;
  return series.steps.map((s) => {
    const row: SeriesRow = { dir: s.dir, call: s.call, step: s.step, epoch: s.epoch, numSamples: null, logged: s.logged, recomputed: null, error: null, errorAt: null, flags: [] };
    try {
      if (s.error) throw new EvalpredError(`${s.dir} was not kept: ${s.error}`);
      const manifest = readCacheManifest(s.path);
      row.numSamples = manifest.num_samples;
      const label = s.step !== null ? `step ${s.step}` : `call ${s.call}`;
      if (!firstCount) firstCount = { n: manifest.num_samples, label };
      else if (firstCount.n !== manifest.num_samples) row.flags.push(`${manifest.num_samples} samples (${firstCount.label} had ${firstCount.n}): another dataset?`);
    } catch (e) {
      failRow(row, e);
    }
    return row;
  });
}

function failRow(row: SeriesRow, e: unknown): void {
  row.error = messageOf(e);
  const place = isEvalpredError(e) ? e.place : undefined;
  if (place?.file) row.errorAt = { file: place.file, line: place.line ?? null };
}

/** Rerun `file` on every step, one at a time (memory-mapped by the runners), in one warm worker of the caller's `runners`. */
export async function rerunSeries(runners: MetricRunners, dir: string, file: string, opts: RerunSeriesOptions = {}): Promise<SeriesRow[]> {
  const rows = seriesRows(dir);
  for (const row of rows) {
    if (row.error) continue;
    try {
      // Runtime figures belong to the original evaluation: a rerun reports the metric only.
      const r = await metricsFromCache(runners, path.join(dir, row.dir), undefined, file, { function: opts.function, python: opts.python, timeoutMs: opts.timeoutMs });
      row.recomputed = r.metrics;
    } catch (e) {
      failRow(row, e);
    }
  }
  return rows;
}

/** The recomputed curve as trainer_state.json holds it (`log_history` entries with epoch and step). */
export function logHistory(rows: SeriesRow[], meta: { series: string; metrics: string }): Record<string, unknown> {
  return {
    log_history: rows
      .filter((r) => r.recomputed)
      .map((r) => ({ ...numbersOf(r.recomputed!), ...(r.epoch !== null ? { epoch: r.epoch } : {}), step: r.step ?? r.call })),
    evalpred: { tool: 'evalpred metrics --series', series: path.resolve(meta.series), metrics: path.resolve(meta.metrics), time: new Date().toISOString() },
  };
}

function numbersOf(m: Metrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

/** Write the log history, never over a file evalpred did not write (ours carry an `evalpred` record). */
export function writeLogHistory(out: string, history: Record<string, unknown>): void {
  if (fs.existsSync(out)) {
    let ours = false;
    try {
      const old = JSON.parse(fs.readFileSync(out, 'utf8'));
      ours = isObject(old) && isObject(old.evalpred) && old.evalpred.tool === 'evalpred metrics --series';
    } catch {
      ours = false;
    }
    if (!ours) throw new EvalpredError(`--log-history ${out} exists and was not written by evalpred; choose another file name`, { file: out });
  }
  const tmp = `${out}.${process.pid}.partial`;
  fs.writeFileSync(tmp, JSON.stringify(history, null, 2) + '\n');
  fs.renameSync(tmp, out);
}

/** The table `evalpred metrics --series` prints: per step and metric, logged, recomputed and the change. */
export function seriesTable(rows: SeriesRow[]): string {
  const keys: string[] = [];
  for (const r of rows) for (const k of [...Object.keys(r.logged ?? {}), ...Object.keys(r.recomputed ?? {})]) if (!keys.includes(k)) keys.push(k);
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v === undefined ? '-' : String(v));
  const lines = [['step', 'metric', 'logged', 'recomputed', 'change'].map((h, i) => (i < 2 ? h.padEnd(i ? 28 : 10) : h.padStart(12))).join(' ')];
  for (const r of rows) {
    const label = (r.step !== null ? String(r.step) : `call ${r.call}`).padEnd(10);
    if (r.error) {
      lines.push(`${label} error: ${r.error.split('\n').join('\n' + ' '.repeat(18))}`);
      continue;
    }
    for (const k of keys) {
      const a = r.logged?.[k];
      const b = r.recomputed?.[k];
      const change = typeof a === 'number' && typeof b === 'number' ? b - a : undefined;
      const sign = change !== undefined && change > 0 ? '+' : '';
      lines.push(`${label} ${k.padEnd(28)} ${fmt(a).padStart(12)} ${fmt(b).padStart(12)} ${change === undefined ? '' : (sign + fmt(change)).padStart(12)}`);
    }
    for (const f of r.flags) lines.push(`${label} note: ${f}`);
  }
  return lines.join('\n');
}
