// The diff between two metric results, and (from src/core/metrics/metricFunction.ts) where the metric
// function is defined, so the paused "stack frame" opens the user's file at its definition.
import type { Metrics, MetricValue } from '../metrics/postprocess';
import { formatNumber } from '../expr/values';

export { findMetricFunction } from '../metrics/metricFunction';
export type { MetricLocation } from '../metrics/metricFunction';

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
