// Line-level debugging of a Python compute_metrics (README "Debugging your metric"): the Python metric
// worker runs with debugpy listening on 127.0.0.1, and this bridge attaches to it as a DAP client. evalpred's
// adapter stays the one adapter a client talks to: breakpoints in .py files, exception filters, and — while
// the metric's thread is stopped in Python — threads, stack, scopes, variables, evaluate and stepping are
// forwarded to debugpy, with the worker's own frames hidden and a label frame for the Trainer call.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
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
  breakpoints: DebugProtocol.SourceBreakpoint[];
}

export class DebugpyBridge extends EventEmitter<BridgeEvents> {
  private socket?: DapSocket;
  private attaching?: Promise<void>;
  private files = new Map<string, FileBreakpoints>();
  private exceptionFilters: string[] = [];
  private nextId = 1;
  /** The debugpy thread stopped in the metric, while it is. */
  stoppedThread?: number;
  /** Why line debugging is not available (no debugpy in the interpreter), once known. */
  unavailable?: string;

  /** @param hidden folders and files whose frames the user never sees (the worker, the evalpred package). */
  constructor(private readonly hidden: string[]) {
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
    const socket = await DapSocket.connect(port);
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
      showReturnValue: true,
    });
    await initialized;
    for (const [file, fb] of this.files) await this.bind(file, fb);
    if (this.entryBreak) await socket.request('setFunctionBreakpoints', { breakpoints: [{ name: this.entryBreak }] });
    await socket.request('setExceptionBreakpoints', { filters: this.exceptionFilters.map((f) => DEBUGPY_FILTER[f]).filter(Boolean) });
    await socket.request('configurationDone');
    await attached;
  }

  detach(): void {
    this.socket?.close();
    this.socket = undefined;
    this.stoppedThread = undefined;
  }

  /** Line debugging cannot work in this interpreter: say why on every breakpoint (they stay unverified). */
  markUnavailable(why: string): void {
    this.unavailable = why;
    for (const [file, fb] of this.files) {
      fb.breakpoints.forEach((bp, k) => this.emit('breakpoint', { id: fb.ids[k], verified: false, line: bp.line, message: why, source: { path: file, name: path.basename(file) } }));
    }
  }

  /** Breakpoints of one .py file; answered at once, bound (and re-announced) when a worker is attached. */
  async setBreakpoints(file: string, breakpoints: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const fb: FileBreakpoints = { ids: breakpoints.map(() => this.nextId++), breakpoints };
    if (breakpoints.length) this.files.set(file, fb);
    else this.files.delete(file);
    if (this.attaching) await this.attaching.catch(() => undefined);
    if (this.attached) return this.bind(file, fb, false);
    const message = this.unavailable ?? 'bound when your metric runs (its Python process starts at the first run)';
    return breakpoints.map((bp, k) => ({ id: fb.ids[k], verified: false, line: bp.line, message }));
  }

  /** Send one file's breakpoints to debugpy; returns them with our ids (and announces them when asked). */
  private async bind(file: string, fb: FileBreakpoints, announce = true): Promise<DebugProtocol.Breakpoint[]> {
    const r = await this.socket!.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
      source: { path: file, name: path.basename(file) },
      breakpoints: fb.breakpoints,
    });
    const out = r.body.breakpoints.map((b, k) => ({ ...b, id: fb.ids[k], source: { path: file, name: path.basename(file) } }));
    if (announce) for (const b of out) this.emit('breakpoint', b);
    return out;
  }

  async setExceptionFilters(filters: string[]): Promise<void> {
    this.exceptionFilters = filters.filter((f) => f in DEBUGPY_FILTER);
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
