// What the extension knows about one evalpred debug session, and how each message the adapter sends
// changes it. Only structured messages count: standard DAP events (stopped, continued, progress*) and our
// own events from src/shared/dapProtocol.ts. Output text is for people; a metric function that prints a
// JSON object or a path is never read as metrics or as the cache folder. No `vscode` import, so the
// whole state machine is unit-tested against a real adapter's traffic.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapEvents, MetricsRecord, asDapEvent } from '../shared/dapProtocol';

export interface Progress {
  id: string;
  title: string;
  message?: string;
  percentage?: number;
}

export interface RunState {
  paused: boolean;
  stopReason?: string;
  cacheDir?: string;
  /** Absolute path of the metric file. */
  metricsFile?: string;
  functionName?: string;
  numSamples?: number;
  lastMetrics?: MetricsRecord;
  progress?: Progress;
}

/** What a message did, so the caller knows what to tell (nothing, a change, a stop, new metrics). */
export type RunChange = 'none' | 'changed' | 'stopped' | 'metrics';

/** The state at launch, from the debug configuration (the adapter's `evalpredRunInfo` fills in the rest). */
export function initialRunState(config: Record<string, unknown>, normalize: (file: string) => string): RunState {
  return {
    paused: false,
    cacheDir: typeof config.cache === 'string' ? config.cache : undefined,
    metricsFile: typeof config.metrics === 'string' ? normalize(config.metrics) : undefined,
    functionName: typeof config.function === 'string' ? config.function : undefined,
  };
}

/** Apply one message the adapter sent (any kind: requests' responses and unknown events are ignored). */
export function applyAdapterMessage(state: RunState, message: unknown, normalize: (file: string) => string): RunChange {
  const ours = asDapEvent(message);
  if (ours?.event === DapEvents.RunInfo) {
    const b = ours.body;
    state.cacheDir = b.cacheDir;
    state.numSamples = b.numSamples;
    if (b.metricsFile) state.metricsFile = normalize(b.metricsFile);
    if (b.functionName) state.functionName = b.functionName;
    return 'changed';
  }
  if (ours?.event === DapEvents.Metrics) {
    state.lastMetrics = ours.body.metrics;
    return 'metrics';
  }
  const m = message as { type?: unknown; event?: unknown; body?: unknown };
  if (!m || m.type !== 'event') return 'none';
  switch (m.event) {
    case 'stopped': {
      const body = (m.body ?? {}) as DebugProtocol.StoppedEvent['body'];
      state.paused = true;
      state.stopReason = String(body.reason ?? '');
      state.progress = undefined;
      return 'stopped';
    }
    case 'continued':
      state.paused = false;
      return 'changed';
    case 'progressStart': {
      const body = m.body as DebugProtocol.ProgressStartEvent['body'];
      state.progress = { id: String(body.progressId), title: body.title ?? 'Evaluating', message: body.message, percentage: body.percentage };
      return 'changed';
    }
    case 'progressUpdate': {
      const body = m.body as DebugProtocol.ProgressUpdateEvent['body'];
      if (!state.progress) return 'none';
      if (body.message !== undefined) state.progress.message = String(body.message);
      if (typeof body.percentage === 'number') state.progress.percentage = body.percentage;
      return 'changed';
    }
    case 'progressEnd':
      state.progress = undefined;
      return 'changed';
    default:
      return 'none';
  }
}
