// The host side of the compare view, pure Node: it answers the webview's requests from a Comparison
// (compare.ts) — the overview with each run's metrics and their difference, then windows of the changed
// samples filtered by fixed / broken and a search text. The extension's panel and the browser tests drive
// this same class.
import { isEvalpredError, messageOf } from '../errors';
import { Handlers, answer } from '../../shared/messaging';
import { ChangeFilter, ChangedSample, CompareOverview, CompareRequests, ToCompareView, isFromCompareView } from '../../shared/compareProtocol';
import { MAX_WINDOW } from '../../shared/protocol';
import type { Comparison } from './compare';

export function compareOverview(c: Comparison): CompareOverview {
  const fixed = c.changed.filter((s) => s.change === 'fixed').length;
  return { a: c.a, b: c.b, task: c.task, numSamples: c.numSamples, metrics: c.metrics, correct: c.correct, fixed, broken: c.changed.length - fixed, notes: c.notes };
}

/**
 * The changed samples under a filter: fixed, broken or both, and a case-insensitive substring of the text, label or
 * either prediction (every sequence of a num_return_sequences run).
 */
export function filterChanged(changed: readonly ChangedSample[], change: ChangeFilter, search = ''): ChangedSample[] {
  const needle = search.trim().toLowerCase();
  const predictions = (s: ChangedSample) => [...(s.sequences_a ?? [s.prediction_a]), ...(s.sequences_b ?? [s.prediction_b])].join('\n');
  return changed.filter((s) => (change === 'all' || s.change === change) && (!needle || `${s.text}\n${s.label ?? ''}\n${predictions(s)}`.toLowerCase().includes(needle)));
}

export class CompareViewModel {
  private last: { key: string; rows: ChangedSample[] } | undefined;

  constructor(
    readonly comparison: Comparison,
    private readonly post: (m: ToCompareView) => void,
  ) {}

  /** Handle one message from the webview; malformed ones are ignored (the webview is untrusted). */
  receive(m: unknown): void {
    if (!isFromCompareView(m)) return;
    if (m.type === 'ready') {
      this.post({ type: 'init', overview: compareOverview(this.comparison) });
      return;
    }
    answer(m, this.handlers, (r) => this.post(r), (e) => (isEvalpredError(e) ? e.message : `internal error: ${messageOf(e)}`));
  }

  private readonly handlers: Handlers<CompareRequests> = {
    getChanged: ({ change, search, start, count }) => {
      const key = JSON.stringify([change, (search ?? '').trim().toLowerCase()]);
      if (this.last?.key !== key) this.last = { key, rows: filterChanged(this.comparison.changed, change, search) };
      const rows = this.last.rows;
      return { start, total: rows.length, rows: rows.slice(start, start + Math.min(count, MAX_WINDOW)) };
    },
  };
}
