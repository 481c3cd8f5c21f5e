// The host side of the training-series view (pure Node, like viewModel.ts for the prediction view): the
// VS Code custom editor (src/extension/seriesView.ts) and the headless browser test drive this same class.
// It reruns the chosen metric file on every step with core/series (the code behind `evalpred metrics
// --series`), in the caller's warm metric runners, and sends the whole state to the webview after each run.
import path from 'node:path';
import { messageOf } from '../errors';
import type { MetricRunners } from '../metrics/runMetrics';
import { SeriesRow, rerunSeries, seriesRows } from '../series/series';
import type { FromSeriesView, SeriesStepView, SeriesViewState, ToSeriesView } from '../../shared/seriesProtocol';

export interface SeriesMetric {
  file: string;
  function?: string;
  python?: string;
  timeoutMs?: number;
}

const numbers = (m: Record<string, unknown> | null): Record<string, number> | null =>
  m ? Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number')) : null;

export function stepView(r: SeriesRow): SeriesStepView {
  return {
    dir: r.dir,
    x: r.step ?? r.call,
    label: r.step !== null ? `step ${r.step}` : `call ${r.call}`,
    epoch: r.epoch,
    numSamples: r.numSamples,
    logged: r.logged,
    recomputed: numbers(r.recomputed),
    error: r.error,
    errorAt: r.errorAt,
    flags: r.flags,
  };
}

/**
 * The debug session for one step: the launch a cache opens with (no model run, a stop at the compute_metrics
 * boundary, as "Debug on This Cache" after an import), with the series' metric file when one is chosen.
 */
export function stepLaunch(seriesDir: string, step: Pick<SeriesStepView, 'dir' | 'label'>, metric?: Pick<SeriesMetric, 'file' | 'function'>): Record<string, unknown> {
  return {
    type: 'evalpred',
    request: 'launch',
    name: `EvalPred: ${step.label} of ${path.basename(path.resolve(seriesDir))}`,
    cache: path.join(path.resolve(seriesDir), step.dir),
    ...(metric ? { metrics: path.resolve(metric.file), ...(metric.function ? { function: metric.function } : {}) } : {}),
  };
}

const MESSAGES = new Set(['ready', 'step', 'pickMetric', 'rerun', 'openFile']);

function isFromView(m: unknown): m is FromSeriesView {
  return typeof m === 'object' && m !== null && MESSAGES.has((m as { type?: unknown }).type as string);
}

export class SeriesViewModel {
  private st: SeriesViewState;
  private metric: SeriesMetric | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  /** Throws (an EvalpredError naming series.json) when `dir` is not a readable series. */
  constructor(
    readonly dir: string,
    private readonly post: (m: ToSeriesView) => void,
    private readonly runners: MetricRunners,
    /** What the webview asks of the host beyond 'ready': a step clicked, a rerun, a metric file to choose, a file to open. */
    private readonly onAction: (m: Exclude<FromSeriesView, { type: 'ready' }>) => void = () => {},
  ) {
    const rows = seriesRows(dir);
    this.st = {
      title: path.basename(path.resolve(dir)),
      xLabel: rows.every((r) => r.step !== null) ? 'step' : 'call',
      steps: rows.map(stepView),
      metricFile: null,
      status: 'no-metric',
      message: `${rows.length} evaluation${rows.length === 1 ? '' : 's'} logged; choose a metric file to recompute them.`,
    };
  }

  get state(): SeriesViewState {
    return this.st;
  }

  receive(m: unknown): void {
    if (!isFromView(m)) return;
    // 'rerun' goes to the host too: it decides whether metric code may run (Workspace Trust).
    if (m.type === 'ready') this.send();
    else this.onAction(m);
  }

  private send(): void {
    this.post({ type: 'state', state: this.st });
  }

  /** The metric file that recomputes the curve; rerun with recompute(). */
  setMetric(metric: SeriesMetric): void {
    this.metric = metric;
    this.st = { ...this.st, metricFile: path.resolve(metric.file) };
  }

  /**
   * Rerun the metric on every step. A call while a rerun is under way (a quick second save) schedules one
   * more run after it, so the last saved version is always the one shown; the returned promise settles then.
   */
  recompute(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.runOnce();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    const metric = this.metric;
    if (!metric) return;
    this.st = { ...this.st, status: 'running' };
    this.send();
    const t0 = performance.now();
    try {
      const rows = await rerunSeries(this.runners, this.dir, metric.file, { function: metric.function, python: metric.python, timeoutMs: metric.timeoutMs });
      const failed = rows.filter((r) => r.error).length;
      const ms = performance.now() - t0;
      this.st = {
        ...this.st,
        steps: rows.map(stepView),
        status: failed ? 'failed' : 'done',
        message: `${rows.length - failed} of ${rows.length} steps recomputed with ${path.basename(metric.file)} in ${ms.toFixed(0)} ms${failed ? `; ${failed} failed (see the steps below)` : ''}.`,
      };
    } catch (e) {
      // The series itself became unreadable (series.json removed or damaged): keep the last curve, say why.
      this.st = { ...this.st, status: 'failed', message: messageOf(e) };
    }
    this.send();
  }
}
