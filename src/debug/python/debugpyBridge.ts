// Line-level debugging of a Python compute_metrics (README "Debugging your metric"): the Python metric
// worker runs with debugpy listening on 127.0.0.1, and this bridge attaches to it as a DAP client. evalpred's
// adapter stays the one adapter a client talks to: breakpoints in .py files, exception filters, and — while
// the metric's thread is stopped in Python — threads, stack, scopes, variables, evaluate and stepping are
// forwarded to debugpy, with the worker's own frames hidden and a label frame for the Trainer call.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { samePath } from '../../core/paths';
import { DapSocket } from './dapSocket';

/** Frame id of the label frame under the user's frames (debugpy's ids are small integers). */
export const LABEL_FRAME_ID = 1_000_000_000;

/** Our exception filters, as debugpy calls them: our worker catches the metric's exception, so the
 *  "uncaught" a user means is debugpy's userUnhandled (an exception leaving their code). */
export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  // The same two filters drive the Node inspector for a TS/JS metric (../node/inspectorBridge.ts).
  { filter: 'raised', label: 'Raised Exceptions', default: false, description: 'Stop where any exception is raised (thrown) in your metric code.' },
  { filter: 'uncaught', label: 'Uncaught Exceptions', default: false, description: 'Stop where an exception leaves your compute_metrics.' },
];
const DEBUGPY_FILTER: Record<string, string> = { raised: 'raised', uncaught: 'userUnhandled' };

interface BridgeEvents {
  /** debugpy stopped the metric's thread (a breakpoint, a step, an exception). */
  stopped: [DebugProtocol.StoppedEvent['body']];
  continued: [];
  /** A breakpoint's verification changed (bound once the worker's debugpy is attached). */
  breakpoint: [DebugProtocol.Breakpoint];
  output: [string, string];
}

interface FileBreakpoints {
  /** Our ids, one per breakpoint as the client sent them (stable across worker restarts). */
  ids: number[];
  /** As the client sent them, except that a line without code moves to the next line with code. */
  breakpoints: DebugProtocol.SourceBreakpoint[];
  /** Why a breakpoint can never bind (a line past the end, no code after it); undefined for the others. */
  problems: (string | undefined)[];
  /** debugpy's answer for each breakpoint without a problem, from the last bind. */
  bound?: DebugProtocol.Breakpoint[];
}

/**
 * Move a breakpoint on a blank or comment-only line to the next line with code, as debugpy's own adapter and
 * js-debug do (pydevd alone would move it to the line before, or not stop at all); a line past the end of the
 * file, or with no code after it, gets the reason instead.
 */
export function placeBreakpoint(lines: string[] | undefined, line: number, file: string): { line: number; problem?: string } {
  if (!lines) return { line };
  const name = path.basename(file);
  if (line > lines.length) return { line, problem: `line ${line} is past the end of ${name} (${lines.length} lines)` };
  for (let k = line; k <= lines.length; k++) {
    const text = lines[k - 1].trim();
    if (text && !text.startsWith('#')) return { line: k };
  }
  return { line, problem: `no code at or after line ${line} in ${name}` };
}

function sourceLines(file: string): string[] | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split(/\r?\n/);
    if (lines.length && lines[lines.length - 1] === '') lines.pop(); // the final newline ends the last line
    return lines;
  } catch {
    return undefined; // not readable here: debugpy decides
  }
}

export class DebugpyBridge extends EventEmitter<BridgeEvents> {
  private socket?: DapSocket;
  private attaching?: Promise<void>;
  private files = new Map<string, FileBreakpoints>();
  /** Breakpoint files the current worker has imported, and those its last finished run did not. */
  private imported = new Set<string>();
  private unreached = new Set<string>();
  private exceptionFilters: string[] = [];
  private nextId = 1;
  /** The debugpy thread stopped in the metric, while it is. */
  stoppedThread?: number;
  /** Why line debugging is not available (no debugpy in the interpreter), once known. */
  unavailable?: string;

  /**
   * @param hidden folders and files whose frames the user never sees (the worker, the evalpred package).
   * @param mark notes a start-up step (../startupTimeline.ts).
   * @param metricFile the session's metric file: every run imports it first, so its breakpoints are bound (as
   *   debugpy answers) from the boundary on, not only once a run has reported the import.
   */
  constructor(
    private readonly hidden: string[],
    private readonly mark: (name: string) => void = () => undefined,
    private readonly metricFile: () => string | undefined = () => undefined,
  ) {
    super();
  }

  get attached(): boolean {
    return !!this.socket && !this.socket.closed;
  }

  get paused(): boolean {
    return this.stoppedThread !== undefined;
  }

  /** Attach to the debugpy of a (new) worker process and bind every breakpoint there. */
  attach(port: number): Promise<void> {
    this.detach();
    this.unavailable = undefined;
    this.attaching = this.doAttach(port).finally(() => (this.attaching = undefined));
    return this.attaching;
  }

  private async doAttach(port: number): Promise<void> {
    this.imported.clear(); // a new worker process has imported nothing yet
    this.unreached.clear();
    const socket = await DapSocket.connect(port);
    this.mark('debugpy connected');
    this.socket = socket;
    socket.on('event', (e) => this.onEvent(e));
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = undefined;
        if (this.stoppedThread !== undefined) {
          this.stoppedThread = undefined;
          this.emit('continued');
        }
      }
    });
    await socket.request('initialize', { clientID: 'evalpred', adapterID: 'debugpy', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsVariableType: true });
    const initialized = new Promise<void>((resolve) => {
      const on = (e: DebugProtocol.Event) => {
        if (e.event === 'initialized') {
          socket.off('event', on);
          resolve();
        }
      };
      socket.on('event', on);
    });
    const attached = socket.request('attach', {
      justMyCode: true,
      // The worker and our package call the user's function; stepping never enters them, frames never show them.
      rules: this.hidden.map((p) => ({ path: p, include: false })),
      redirectOutput: false,
      // A Python the metric starts (subprocess, multiprocessing) is its own program, not debugged through ours.
      subProcess: false,
      showReturnValue: true,
    });
    await initialized;
    this.mark('debugpy initialized');
    for (const [file, fb] of this.files) await this.bind(file, fb);
    if (this.entryBreak) await socket.request('setFunctionBreakpoints', { breakpoints: [{ name: this.entryBreak }] });
    await socket.request('setExceptionBreakpoints', { filters: this.exceptionFilters.map((f) => DEBUGPY_FILTER[f]).filter(Boolean) });
    this.mark('breakpoints bound in debugpy');
    await socket.request('configurationDone');
    await attached;
    this.mark('debugpy attached');
  }

  detach(): void {
    this.socket?.close();
    this.socket = undefined;
    this.stoppedThread = undefined;
  }

  /** Line debugging cannot work in this interpreter: say why on every breakpoint (they stay unverified). */
  markUnavailable(why: string): void {
    this.unavailable = why;
    for (const [file, fb] of this.files) for (const b of this.states(file, fb)) this.emit('breakpoint', b);
  }

  /** Breakpoints of one .py file; answered at once, bound (and re-announced) when a worker is attached. */
  async setBreakpoints(file: string, breakpoints: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const lines = sourceLines(file);
    const placed = breakpoints.map((bp) => placeBreakpoint(lines, bp.line, file));
    const fb: FileBreakpoints = {
      ids: breakpoints.map(() => this.nextId++),
      breakpoints: breakpoints.map((bp, k) => ({ ...bp, line: placed[k].line })),
      problems: placed.map((p) => p.problem),
    };
    if (breakpoints.length) this.files.set(file, fb);
    else this.files.delete(file);
    if (this.attaching) await this.attaching.catch(() => undefined);
    if (this.attached) await this.bind(file, fb, false);
    return this.states(file, fb);
  }

  /** Send one file's breakpoints to debugpy (those that can bind); announces the resulting states when asked. */
  private async bind(file: string, fb: FileBreakpoints, announce = true): Promise<void> {
    const r = await this.socket!.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
      source: { path: file, name: path.basename(file) },
      breakpoints: fb.breakpoints.filter((_, k) => !fb.problems[k]),
    });
    fb.bound = r.body.breakpoints;
    if (announce) for (const b of this.states(file, fb)) this.emit('breakpoint', b);
  }

  /** The .py files holding breakpoints (the worker reports which of them each run imports). */
  breakpointFiles(): string[] {
    return [...this.files.keys()];
  }

  /**
   * The worker imported `files` (of breakpointFiles) by now; `done`: the metric function has returned, so a
   * breakpoint file it did not import was not reached by this run. Changed states are announced.
   */
  reached(files: string[], done: boolean): void {
    const before = new Map([...this.files].map(([file, fb]) => [file, JSON.stringify(this.states(file, fb))]));
    for (const f of files) this.imported.add(f);
    for (const [file, fb] of this.files) {
      if (done && !this.imported.has(file)) this.unreached.add(file);
      else this.unreached.delete(file);
      const after = this.states(file, fb);
      if (JSON.stringify(after) !== before.get(file)) for (const b of after) this.emit('breakpoint', b);
    }
  }

  /** What a client is told about one file's breakpoints now. */
  private states(file: string, fb: FileBreakpoints): DebugProtocol.Breakpoint[] {
    const source = { path: file, name: path.basename(file) };
    const name = path.basename(file);
    let bound = 0;
    return fb.breakpoints.map((bp, k) => {
      const id = fb.ids[k];
      const problem = fb.problems[k];
      if (problem) return { id, verified: false, line: bp.line, message: problem, source };
      const answer = fb.bound?.[bound++];
      if (this.unavailable) return { id, verified: false, line: bp.line, message: this.unavailable, source };
      if (!this.attached || !answer) return { id, verified: false, line: bp.line, message: 'bound when your metric runs (its Python process starts at the first run)', source };
      if (!this.imported.has(file) && !this.isMetricFile(file)) {
        const message = this.unreached.has(file)
          ? `not reached: the last run of your metric did not import ${name}`
          : `bound when your metric imports ${name}`;
        return { id, verified: false, line: answer.line ?? bp.line, message, source };
      }
      return { ...answer, id, line: answer.line ?? bp.line, source };
    });
  }

  async setExceptionFilters(filters: string[]): Promise<void> {
    this.exceptionFilters = filters.filter((f) => f in DEBUGPY_FILTER);
    // The worker starts at the launch request: an attach under way sends the filters it started with.
    if (this.attaching) await this.attaching.catch(() => undefined);
    if (this.attached) await this.socket!.request('setExceptionBreakpoints', { filters: this.exceptionFilters.map((f) => DEBUGPY_FILTER[f]) });
  }

  /** Forward a request to debugpy (only while attached); returns its response body. */
  async forward<B = unknown>(command: string, args: unknown): Promise<B> {
    if (!this.attached) throw new Error('the Python metric is not running under the debugger');
    const r = await this.socket!.request(command, args);
    return r.body as B;
  }

  /** The user's frames (debugpy already hides the worker's), and a label frame for the Trainer call under them. */
  async stackTrace(args: DebugProtocol.StackTraceArguments, label: string): Promise<DebugProtocol.StackTraceResponse['body']> {
    const body = await this.forward<DebugProtocol.StackTraceResponse['body']>('stackTrace', { ...args, startFrame: 0, levels: 1000 });
    const frames = body.stackFrames.filter((f) => !f.source?.path || !this.isHidden(f.source.path));
    frames.push({ id: LABEL_FRAME_ID, name: label, line: 0, column: 0, presentationHint: 'label' });
    const start = args.startFrame ?? 0;
    const levels = args.levels || frames.length;
    return { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
  }

  private isMetricFile(file: string): boolean {
    const m = this.metricFile();
    return !!m && samePath(file, m);
  }

  private isHidden(file: string): boolean {
    return this.hidden.some((h) => file === h || file.startsWith(h + path.sep));
  }

  /**
   * Stop on entry to `functionName` at its next call (Step Into from the boundary). Before the worker's
   * first run there is no debugpy yet: the one-shot breakpoint is then set when it attaches.
   */
  async breakOnEntry(functionName: string): Promise<void> {
    this.entryBreak = functionName;
    if (this.attached) await this.forward('setFunctionBreakpoints', { breakpoints: [{ name: functionName }] });
  }

  private entryBreak: string | undefined;

  private onEvent(e: DebugProtocol.Event): void {
    switch (e.event) {
      case 'stopped': {
        const body = e.body as DebugProtocol.StoppedEvent['body'];
        this.stoppedThread = body.threadId;
        if (this.entryBreak) {
          // one-shot: later runs stop only where the user asked
          this.entryBreak = undefined;
          if (body.reason === 'function breakpoint') body.reason = 'step';
          void this.forward('setFunctionBreakpoints', { breakpoints: [] }).catch(() => undefined);
        }
        this.emit('stopped', body);
        break;
      }
      case 'continued':
        if (this.stoppedThread !== undefined) {
          this.stoppedThread = undefined;
          this.emit('continued');
        }
        break;
      case 'output': {
        const body = e.body as DebugProtocol.OutputEvent['body'];
        if (body.category !== 'telemetry') this.emit('output', body.output, body.category ?? 'console');
        break;
      }
      default:
        // thread/module/process/debugpyWaitingForServer: the worker's business, not the user's.
        break;
    }
  }
}
