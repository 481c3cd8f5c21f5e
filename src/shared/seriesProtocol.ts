// Every message between the extension host and the training-series view (media/seriesView/), typed once for
// both sides. No `vscode` and no Node imports: media/ bundles this for the browser. A series is small (one
// entry per evaluation of a training run), so the host always sends the whole state.

/** One evaluation of the training run, as the chart shows it. */
export interface SeriesStepView {
  /** The step's folder inside the series (step-200, call-3): what a click names. */
  dir: string;
  /** Trainer's global_step; for plain calls (no step known) the call number. */
  x: number;
  /** "step 200" or "call 3". */
  label: string;
  epoch: number | null;
  numSamples: number | null;
  /** What the original compute_metrics returned, as logged (eval_ prefixed). */
  logged: Record<string, number> | null;
  /** The metric file's result on this step's cache; null before a rerun, or when it failed. */
  recomputed: Record<string, number> | null;
  /** Why this step has no recomputed value (a damaged cache, the metric failing on this step). */
  error: string | null;
  /** The user's file and line the error points at. */
  errorAt: { file: string; line: number | null } | null;
  /** Differences worth a look (another sample count than the first step: another dataset?). */
  flags: string[];
}

export interface SeriesViewState {
  /** The series folder's name, for the title. */
  title: string;
  /** 'step' when Trainer's global_step is known for every step, else 'call'. */
  xLabel: 'step' | 'call';
  steps: SeriesStepView[];
  /** The metric file recomputing the curve (absolute), or null until one is chosen. */
  metricFile: string | null;
  /** 'running' while the rerun is under way (the previous curve stays shown). */
  status: 'no-metric' | 'running' | 'done' | 'failed';
  /** One line for the status bar of the view: the rerun's duration, or why nothing was recomputed. */
  message: string;
}

export type ToSeriesView = { type: 'state'; state: SeriesViewState };

export type FromSeriesView =
  | { type: 'ready' }
  /** A click on a step of a chart: the host offers the prediction view or a debug session on that step. */
  | { type: 'step'; dir: string }
  /** "Choose metric file…" */
  | { type: 'pickMetric' }
  /** "Rerun": recompute now (the host also reruns on each save of the metric file). */
  | { type: 'rerun' }
  /** A click on an error's place: open the user's file at that line. */
  | { type: 'openFile'; file: string; line: number | null };

/** The names the view hides from its charts: Trainer's speed fields describe the model run, not the metric. */
export function isSpeedMetric(key: string): boolean {
  return /_(runtime|samples_per_second|steps_per_second)$/.test(key);
}
