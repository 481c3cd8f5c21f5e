// Where the user's metric function is defined, so the paused "stack frame" opens their file at the
// `def compute_metrics` / `function computeMetrics` line, and the diff between two metric results.
import path from 'node:path';
import type { Metrics, MetricValue } from '../metrics/postprocess';
import { formatNumber } from '../expr/values';

export interface MetricLocation {
  file: string;
  line: number;
  /** Function name as it appears in the file. */
  name: string;
}

const DEFAULT_NAMES = ['compute_metrics', 'computeMetrics'];

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The definition line of the metric function (1-based), or line 1 when it cannot be found. */
export function findMetricFunction(file: string, source: string, functionName?: string): MetricLocation {
  const names = functionName ? [functionName] : DEFAULT_NAMES;
  const lines = source.split(/\r?\n/);
  const py = path.extname(file).toLowerCase() === '.py';
  for (const name of names) {
    const n = escape(name);
    const patterns = py
      ? [new RegExp(`^\\s*(async\\s+)?def\\s+${n}\\s*\\(`)]
      : [
          new RegExp(`\\bfunction\\s*\\*?\\s+${n}\\s*[(<]`),
          new RegExp(`\\b(const|let|var)\\s+${n}\\s*(:[^=]+)?=`),
          new RegExp(`^\\s*(export\\s+)?(async\\s+)?${n}\\s*\\(`),
          new RegExp(`\\bexports\\.${n}\\s*=`),
        ];
    for (const re of patterns) {
      const i = lines.findIndex((l) => re.test(l));
      if (i >= 0) return { file, line: i + 1, name };
    }
  }
  if (!py && !functionName) {
    const i = lines.findIndex((l) => /\bexport\s+default\b/.test(l));
    if (i >= 0) return { file, line: i + 1, name: 'default export' };
  }
  return { file, line: 1, name: functionName ?? (py ? 'compute_metrics' : 'computeMetrics') };
}

function flat(m: Metrics, prefix = '', out = new Map<string, MetricValue>()): Map<string, MetricValue> {
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'object' && v !== null) flat(v as Metrics, `${prefix}${k}.`, out);
    else out.set(prefix + k, v);
  }
  return out;
}

const show = (v: MetricValue) => (typeof v === 'number' ? formatNumber(v) : String(v));

/** Lines describing what changed between two metric results ("eval_accuracy: 0.5 -> 0.75 (+0.25)"). */
export function diffMetrics(before: Metrics, after: Metrics): string[] {
  const a = flat(before);
  const b = flat(after);
  const out: string[] = [];
  for (const [k, v] of b) {
    if (!a.has(k)) out.push(`+ ${k}: ${show(v)}`);
    else {
      const old = a.get(k)!;
      const same = old === v || (typeof old === 'number' && typeof v === 'number' && Number.isNaN(old) && Number.isNaN(v));
      if (same) continue;
      const delta = typeof old === 'number' && typeof v === 'number' && Number.isFinite(v - old) ? ` (${v - old >= 0 ? '+' : ''}${formatNumber(Number((v - old).toPrecision(12)))})` : '';
      out.push(`~ ${k}: ${show(old)} -> ${show(v)}${delta}`);
    }
  }
  for (const [k, v] of a) if (!b.has(k)) out.push(`- ${k}: ${show(v)}`);
  return out;
}
