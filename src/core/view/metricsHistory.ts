// Metrics over the reruns of one session, newest last, each with its change from the run before, so
// the view can show "accuracy 0.81 (+0.03)" after an edit to compute_metrics.
import type { MetricsEntry } from '../../shared/protocol';

export class MetricsHistory {
  private readonly entries: MetricsEntry[] = [];

  constructor(private readonly limit = 50) {}

  /** Record a metrics result; non-numeric values are dropped (the view shows numbers). */
  add(metrics: Record<string, unknown>, time = new Date()): MetricsEntry {
    const clean: Record<string, number> = {};
    for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number') clean[k] = v;
    const prev = this.entries[this.entries.length - 1];
    const deltas: Record<string, number> = {};
    if (prev) for (const [k, v] of Object.entries(clean)) if (k in prev.metrics) deltas[k] = v - prev.metrics[k];
    const e: MetricsEntry = { time: time.toISOString(), metrics: clean, deltas };
    this.entries.push(e);
    if (this.entries.length > this.limit) this.entries.shift();
    return e;
  }

  all(): MetricsEntry[] {
    return [...this.entries];
  }
}
