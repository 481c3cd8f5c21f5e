// When each step between F5 and the first stop inside the metric happened (bench/pythonDebug.ts prints them
// as a per-phase breakdown): the adapter's own steps, the Python worker's (spawn, NumPy, debugpy; it reports
// its clock readings with its events) and the debugpy handshake. Wall-clock milliseconds since the epoch, so
// the adapter, the worker and a bench client on the same machine read one clock. Only the first of each name
// is kept: the F5 path, not every rerun.
import type { TimelineMark } from '../shared/dapProtocol';

/** Milliseconds since the epoch, sub-millisecond. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export class StartupTimeline {
  private readonly marks = new Map<string, number>();

  constructor() {
    // performance.timeOrigin is when this process started (the adapter's Node).
    this.marks.set('adapter process started', performance.timeOrigin);
  }

  mark(name: string, at: number = epochMs()): void {
    if (!this.marks.has(name) && Number.isFinite(at)) this.marks.set(name, at);
  }

  list(): TimelineMark[] {
    return [...this.marks].map(([name, at]) => ({ name, at })).sort((a, b) => a.at - b.at);
  }
}
