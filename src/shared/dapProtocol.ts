// Every evalpred-specific DAP message between the debug adapter (src/debug/session.ts) and the extension
// host, defined once: the wire names, the arguments and the bodies. Both sides import this module, so a
// renamed field fails tsc on both sides at once. The extension learns the adapter's state from these
// events, never by reading the text the adapter prints (that text is for people, and a user's metric can
// print anything). No `vscode` and no Node imports, like ./protocol.ts.
import type { LintView } from './protocol';

/** Custom requests the adapter answers (sent with `session.customRequest(name, args)`). */
export const DapRequests = {
  /** Run the metric function again on the cached EvalPrediction (after an edit) and stay paused. */
  RerunMetrics: 'rerunMetrics',
  /** Show another row of the evaluation set in the `sample` scope. */
  SelectSample: 'selectSample',
  /** What the paused run is: cache folder, sample count, metric file (as the `evalpredRunInfo` event). */
  RunInfo: 'evalpredRunInfo',
  /** The pitfall checks over the cached EvalPrediction and the metric source. */
  Lints: 'evalpredLints',
  /** The adapter process's own memory and its start-up timeline, for bench/debugPaging.ts and bench/pythonDebug.ts. */
  Stats: 'evalpredStats',
  /** Run Python metrics with another interpreter from now on (the user selected one in the Python extension). */
  SetPython: 'evalpredSetPython',
} as const;

/** Custom events the adapter sends. */
export const DapEvents = {
  /** The evaluation is ready (run or loaded from the cache); sent before its first stop. */
  RunInfo: 'evalpredRunInfo',
  /** A metric run finished: the metrics as Trainer would return them. */
  Metrics: 'evalpredMetrics',
} as const;

export type DapRequestName = (typeof DapRequests)[keyof typeof DapRequests];
export type DapEventName = (typeof DapEvents)[keyof typeof DapEvents];

/** Metric values as the metric function (plus Trainer's eval_ prefix and speed metrics) returned them. */
export type MetricsRecord = Record<string, unknown>;

export interface RunInfoBody {
  /** The cache folder holding the EvalPrediction (any characters, spaces included). */
  cacheDir: string;
  cacheKey: string;
  numSamples: number;
  /** True when the predictions were loaded from an earlier run's cache. */
  fromCache: boolean;
  /** The metric file the run calls (absolute), when it has one. */
  metricsFile?: string;
  /** The configured metric function name, when one is set. */
  functionName?: string;
  /** The loop's task (e.g. "sequence-classification"), unknown for a cache without a loop record. */
  task?: string;
}

export interface MetricsBody {
  metrics: MetricsRecord;
  /** The metrics as the JSON the CLI prints. */
  json: string;
  durationMs: number;
  /** What changed since the previous run in this session ("~ eval_accuracy: 0.5 -> 0.75 (+0.25)"); [] on the first. */
  diff: string[];
}

export type RerunMetricsResponse =
  | { metrics: MetricsRecord; json: string; durationMs: number; error?: undefined }
  /** The run failed (the adapter stopped on the exception) or there is nothing to run yet. */
  | { error: string; metrics?: undefined };

export interface SelectSampleArguments {
  /** 0-based row of the evaluation set. */
  index: number;
}

export interface StatsArguments {
  /** Collect garbage first (only when the adapter runs with --expose-gc). */
  gc?: boolean;
}

export interface StatsResponse {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  /** The first time each start-up step happened (src/debug/startupTimeline.ts), in time order. */
  timeline: TimelineMark[];
}

/** One step of a debug session's start-up, at `at` milliseconds since the epoch. */
export interface TimelineMark {
  name: string;
  at: number;
}

export interface SetPythonArguments {
  /** The interpreter; undefined: the runner's default (EVALPRED_PYTHON, then python3 on PATH with NumPy). */
  python?: string;
}

export interface SetPythonResponse {
  /** True when the interpreter changed and the session's warm Python worker was ended (the next run starts one). */
  restarted: boolean;
}

export interface LintsResponse {
  lints: LintView[];
}

/** Arguments and response body of each custom request. */
export interface DapRequestTypes {
  [DapRequests.RerunMetrics]: { args: undefined; body: RerunMetricsResponse };
  [DapRequests.SelectSample]: { args: SelectSampleArguments; body: undefined };
  [DapRequests.RunInfo]: { args: undefined; body: RunInfoBody | undefined };
  [DapRequests.Lints]: { args: undefined; body: LintsResponse };
  [DapRequests.Stats]: { args: StatsArguments | undefined; body: StatsResponse };
  [DapRequests.SetPython]: { args: SetPythonArguments; body: SetPythonResponse };
}

/** The body of each custom event. */
export interface DapEventTypes {
  [DapEvents.RunInfo]: RunInfoBody;
  [DapEvents.Metrics]: MetricsBody;
}

export type DapEventMessage = { [E in DapEventName]: { event: E; body: DapEventTypes[E] } }[DapEventName];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One of our custom events out of any message the adapter sent (a DebugAdapterTracker sees them all), or
 * undefined. The body is checked for the fields the extension relies on, so a malformed message is ignored
 * rather than half-read.
 */
export function asDapEvent(message: unknown): DapEventMessage | undefined {
  if (!isRecord(message) || message.type !== 'event' || !isRecord(message.body)) return undefined;
  const b = message.body;
  switch (message.event) {
    case DapEvents.RunInfo:
      return typeof b.cacheDir === 'string' && typeof b.numSamples === 'number' ? { event: DapEvents.RunInfo, body: b as unknown as RunInfoBody } : undefined;
    case DapEvents.Metrics:
      return isRecord(b.metrics) && Array.isArray(b.diff) ? { event: DapEvents.Metrics, body: b as unknown as MetricsBody } : undefined;
    default:
      return undefined;
  }
}
