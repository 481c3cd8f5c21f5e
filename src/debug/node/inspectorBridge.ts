// Line-level debugging of a TS/JS computeMetrics (README "Debugging your metric"): while a session debugs, the
// metric's worker process opens the Node inspector on 127.0.0.1 and this bridge speaks CDP to it. evalpred's
// adapter stays the one adapter a client talks to (any DAP client): breakpoints in the user's .ts/.js lines
// are mapped through the bundle's source map (./sourceMap.ts) to Debugger.setBreakpointByUrl; while the
// metric is paused, threads, stack, scopes, variables, evaluate and stepping are answered here from the
// paused call frames, with our worker, Node's internals, node_modules and evalpred's library hidden (and
// blackboxed, so stepping never stops in them), and a label frame for the Trainer call. The Python
// counterpart is ../python/debugpyBridge.ts.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { CdpSocket } from './cdpSocket';
import { frameCompletions } from './frameCompletions';
import { BundleMap } from './sourceMap';

/** Frame id of the label frame under the user's frames (ours are small integers). */
export const NODE_LABEL_FRAME_ID = 1_000_000_001;
/** First variables reference handed out for inspector objects (the session's own stores count from 1). */
export const NODE_REF_BASE = 2_000_000_000;
/** First breakpoint id (the Python bridge counts from 1). */
const BP_ID_BASE = 500_000;
/** Marks what our logpoints print (the metric's own console.log reaches the run's output as today). */
const LOGPOINT_TAG = '\u0000evalpred-logpoint';
/** Shown elements per page of an array or typed array when the client does not page. */
const DEFAULT_PAGE = 100;

interface BridgeEvents {
  stopped: [DebugProtocol.StoppedEvent['body']];
  continued: [];
  breakpoint: [DebugProtocol.Breakpoint];
  output: [string, string];
}

interface CdpLocation {
  scriptId: string;
  lineNumber: number;
  columnNumber?: number;
}
interface RemoteObject {
  type: string;
  subtype?: string;
  className?: string;
  value?: unknown;
  unserializableValue?: string;
  description?: string;
  objectId?: string;
  preview?: { properties?: Array<{ name: string; type: string; value?: string; subtype?: string }>; overflow?: boolean; subtype?: string };
}
interface CallFrame {
  callFrameId: string;
  functionName: string;
  location: CdpLocation;
  scopeChain: Array<{ type: string; name?: string; object: RemoteObject }>;
}
interface PausedParams {
  callFrames: CallFrame[];
  reason: string;
  data?: RemoteObject & { uncaught?: boolean };
  hitBreakpoints?: string[];
}

interface FileBreakpoints {
  ids: number[];
  breakpoints: DebugProtocol.SourceBreakpoint[];
}

/** A CDP breakpoint of ours: which user breakpoint it binds (or the one-shot entry stop), and its hit count. */
interface BoundBreakpoint {
  file: string;
  index: number;
  id: number;
  hitCondition?: string;
  hits: number;
}

interface UserFrame {
  cdp: CallFrame;
  file: string;
  line: number;
  column: number;
}

type VarRef = { objectId: string; indexed?: number; tensor?: boolean };

export class InspectorBridge extends EventEmitter<BridgeEvents> {
  private cdp?: CdpSocket;
  private files = new Map<string, FileBreakpoints>();
  private bound = new Map<string, BoundBreakpoint>();
  private entryBreak?: { line: number; cdpId?: string };
  private exceptionFilters: string[] = [];
  private nextId = BP_ID_BASE;
  /** The bundle the worker runs (or is about to load): its URL and map; scripts parsed under that URL. */
  private bundle?: { file: string; url: string; map: BundleMap };
  private scripts = new Map<string, BundleMap>();
  private pausedAt?: { params: PausedParams; frames: UserFrame[] };
  private refs = new Map<number, VarRef>();
  private nextRef = NODE_REF_BASE;
  /** A step is under way: a stop in foreign code steps on out of it instead of being shown. */
  private stepping = false;
  /** Where a line step started: V8 steps by statement, DAP's default granularity is the line. */
  private stepFrom?: { file: string; line: number; depth: number; method: string; rounds: number };
  /** Why line debugging is not available, once known. */
  unavailable?: string;

  /** @param hidden folders whose code the user never sees or steps into (evalpred's own sources). */
  constructor(
    private readonly hidden: string[],
    private readonly threadId: number,
  ) {
    super();
  }

  get attached(): boolean {
    return !!this.cdp && !this.cdp.closed;
  }

  get paused(): boolean {
    return this.pausedAt !== undefined;
  }

  /** Attach to the inspector of a (new) metric worker. No user code runs in it before this resolves. */
  async attach(url: string): Promise<void> {
    this.detach();
    this.unavailable = undefined;
    const cdp = await CdpSocket.connect(url);
    this.cdp = cdp;
    this.scripts.clear();
    this.bound.clear();
    cdp.on('event', (method, params) => this.onEvent(method, params));
    cdp.on('close', () => {
      if (this.cdp !== cdp) return;
      this.cdp = undefined;
      if (this.pausedAt) {
        this.clearPause();
        this.emit('continued');
      }
    });
    await cdp.send('Runtime.enable');
    await cdp.send('Debugger.enable', { maxScriptsCacheSize: 10_000_000 });
    // Our worker and Node's own modules: never a stop, never a step target.
    await cdp.send('Debugger.setBlackboxPatterns', { patterns: ['metricWorker\\.js$', '^node:', '/node_modules/'] });
    await this.applyExceptionFilters();
  }

  detach(): void {
    const cdp = this.cdp;
    this.cdp = undefined;
    // Closing the session resumes a paused metric (the inspector lets the process run once nobody debugs it).
    cdp?.close();
    this.clearPause();
  }

  markUnavailable(why: string): void {
    this.unavailable = why;
    for (const [file, fb] of this.files) {
      fb.breakpoints.forEach((bp, k) => this.emit('breakpoint', { id: fb.ids[k], verified: false, line: bp.line, message: why, source: source(file) }));
    }
  }

  /** A new bundle is about to load in the worker: bind every breakpoint in it (and announce where each landed). */
  async beforeLoad(b: { file: string; filename: string; code: string }): Promise<void> {
    let map: BundleMap | undefined;
    try {
      map = BundleMap.fromBundle(b.code, b.filename);
    } catch {
      map = undefined;
    }
    if (!map) {
      this.markUnavailable('the metric bundle has no source map, so breakpoints cannot be placed');
      return;
    }
    this.bundle = { file: b.file, url: pathToFileURL(b.filename).href, map };
    if (!this.attached) return;
    for (const id of this.bound.keys()) await this.cdp!.send('Debugger.removeBreakpoint', { breakpointId: id }).catch(() => undefined);
    this.bound.clear();
    if (this.entryBreak) this.entryBreak.cdpId = undefined;
    for (const [file, fb] of this.files) for (const b of await this.bind(file, fb)) this.emit('breakpoint', b);
    await this.bindEntry();
  }

  /** Breakpoints of one .ts/.js file: bound at once when a bundle is known, else when the metric first runs. */
  async setBreakpoints(file: string, breakpoints: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const old = this.files.get(file);
    const fb: FileBreakpoints = { ids: breakpoints.map(() => this.nextId++), breakpoints };
    if (breakpoints.length) this.files.set(file, fb);
    else this.files.delete(file);
    if (old && this.attached) {
      for (const [id, b] of [...this.bound]) {
        if (b.file !== file) continue;
        this.bound.delete(id);
        await this.cdp!.send('Debugger.removeBreakpoint', { breakpointId: id }).catch(() => undefined);
      }
    }
    return this.bind(file, fb);
  }

  /** Map a file's breakpoints through the bundle's source map and set them in the inspector. */
  private async bind(file: string, fb: FileBreakpoints): Promise<DebugProtocol.Breakpoint[]> {
    const b = this.bundle;
    const out: DebugProtocol.Breakpoint[] = [];
    for (const [k, bp] of fb.breakpoints.entries()) {
      const id = fb.ids[k];
      const unverified = (message: string) => out.push({ id, verified: false, line: bp.line, message, source: source(file) });
      if (this.unavailable) {
        unverified(this.unavailable);
        continue;
      }
      if (!b) {
        unverified('bound when your metric runs (its Node process starts at the first run)');
        continue;
      }
      const index = b.map.sourceIndex(file);
      if (index < 0) {
        unverified(`${path.basename(file)} is not part of ${path.basename(b.file)}'s bundle (the metric never imports it), so this line never runs`);
        continue;
      }
      const at = b.map.generatedFor(index, bp.line - 1);
      if (!at) {
        unverified(`no code at or after line ${bp.line} of ${path.basename(file)}`);
        continue;
      }
      let line = at.line + 1;
      if (this.attached) {
        try {
          const r = await this.cdp!.send<{ breakpointId: string; locations: CdpLocation[] }>('Debugger.setBreakpointByUrl', {
            url: b.url,
            lineNumber: at.genLine,
            columnNumber: at.genColumn,
            condition: conditionOf(bp),
          });
          this.bound.set(r.breakpointId, { file, index: k, id, hitCondition: bp.hitCondition, hits: 0 });
          // Already loaded: the inspector says where it landed (a line without a pause position moves down).
          const landed = r.locations[0] && this.originalLine(r.locations[0]);
          if (landed && landed.file === file) line = landed.line;
        } catch (e) {
          unverified(`the Node inspector refused this breakpoint: ${(e as Error).message}`);
          continue;
        }
      }
      const moved = line !== bp.line ? `moved to line ${line}, the next line with code` : undefined;
      out.push({ id, verified: this.attached, line, source: source(file), ...(moved ? { message: moved } : this.attached ? {} : { message: 'bound when your metric runs' }) });
    }
    return out;
  }

  /** Stop at the next entry into the metric function (Step Into at the boundary): a one-shot breakpoint on its line. */
  async breakOnEntry(line: number): Promise<void> {
    this.entryBreak = { line };
    if (this.attached && this.bundle) await this.bindEntry();
  }

  private async bindEntry(): Promise<void> {
    const e = this.entryBreak;
    const b = this.bundle;
    if (!e || e.cdpId || !b || !this.attached) return;
    const index = b.map.sourceIndex(b.file);
    const at = index >= 0 ? b.map.generatedFor(index, e.line - 1) : undefined;
    if (!at) return;
    const r = await this.cdp!.send<{ breakpointId: string }>('Debugger.setBreakpointByUrl', { url: b.url, lineNumber: at.genLine, columnNumber: at.genColumn });
    e.cdpId = r.breakpointId;
  }

  async setExceptionFilters(filters: string[]): Promise<void> {
    this.exceptionFilters = filters;
    if (this.attached) await this.applyExceptionFilters();
  }

  /** raised -> every exception; uncaught -> one that leaves computeMetrics (the worker calls it outside any try). */
  private async applyExceptionFilters(): Promise<void> {
    const f = this.exceptionFilters;
    const state = f.includes('raised') ? 'all' : f.includes('uncaught') ? 'uncaught' : 'none';
    await this.cdp!.send('Debugger.setPauseOnExceptions', { state });
  }

  // ------------------------------------------------------------------------------------------ events

  private onEvent(method: string, params: Record<string, unknown>): void {
    switch (method) {
      case 'Debugger.scriptParsed': {
        const b = this.bundle;
        if (b && params.url === b.url) {
          this.scripts.set(params.scriptId as string, b.map);
          // esbuild's wrappers, node_modules and evalpred's library inside the bundle: stepping passes through them.
          const ranges = b.map.foreignRanges((s) => this.isUserFile(b.map.sources[s]));
          void this.cdp?.send('Debugger.setBlackboxedRanges', { scriptId: params.scriptId, positions: ranges }).catch(() => undefined);
        }
        break;
      }
      case 'Debugger.breakpointResolved': {
        const bb = this.bound.get(params.breakpointId as string);
        const fb = bb && this.files.get(bb.file);
        const at = this.originalLine(params.location as CdpLocation);
        if (bb && fb && fb.ids[bb.index] === bb.id && at && at.file === bb.file) {
          const asked = fb.breakpoints[bb.index].line;
          this.emit('breakpoint', { id: bb.id, verified: true, line: at.line, source: source(bb.file), ...(at.line !== asked ? { message: `moved to line ${at.line}, the next line with code` } : {}) });
        }
        break;
      }
      case 'Debugger.paused':
        void this.onPaused(params as unknown as PausedParams);
        break;
      case 'Debugger.resumed':
        if (this.pausedAt) {
          this.clearPause();
          this.emit('continued');
        }
        break;
      case 'Runtime.consoleAPICalled': {
        const args = params.args as RemoteObject[];
        if (args?.[0]?.value === LOGPOINT_TAG) this.emit('output', `${args.slice(1).map((a) => (a.type === 'string' ? String(a.value) : shown(a))).join(' ')}\n`, 'console');
        break;
      }
      default:
        break;
    }
  }

  private async onPaused(params: PausedParams): Promise<void> {
    const cdp = this.cdp;
    if (!cdp) return;
    const frames = this.userFrames(params.callFrames);
    const top = params.callFrames[0] && this.userFrame(params.callFrames[0]);
    const wasStepping = this.stepping;
    this.stepping = false;
    if (!top) {
      // Not the user's code: a step that left it (on out, or on to the end), an exception inside our worker or a
      // library, a `debugger;` in a dependency. Never shown, never left hanging.
      if (wasStepping && frames.length) {
        this.stepping = true;
        await cdp.send('Debugger.stepOut').catch(() => undefined);
      } else await cdp.send('Debugger.resume').catch(() => undefined);
      return;
    }
    const hits = (params.hitBreakpoints ?? []).map((id) => [id, this.bound.get(id)] as const);
    let entry = false;
    if (this.entryBreak?.cdpId && params.hitBreakpoints?.includes(this.entryBreak.cdpId)) {
      entry = true;
      const id = this.entryBreak.cdpId;
      this.entryBreak = undefined;
      await cdp.send('Debugger.removeBreakpoint', { breakpointId: id }).catch(() => undefined);
    }
    const ours = hits.filter(([, b]) => b);
    const from = this.stepFrom;
    this.stepFrom = undefined;
    if (wasStepping && from && !ours.length && params.reason !== 'exception' && params.reason !== 'promiseRejection' && from.rounds < 10_000) {
      // Still on the line the step started from, in the same call: step on (a for loop's parts, `a(); b();`).
      if (top.file === from.file && top.line === from.line && frames.length === from.depth) {
        this.stepping = true;
        this.stepFrom = { ...from, rounds: from.rounds + 1 };
        await cdp.send(from.method).catch(() => undefined);
        return;
      }
    }
    if (!entry && params.reason !== 'exception' && params.reason !== 'promiseRejection' && ours.length) {
      // Hit counts: the stop is shown only when one of the breakpoints it hit says so.
      let show = false;
      for (const [, b] of ours) {
        b!.hits++;
        if (hitConditionMet(b!.hitCondition, b!.hits)) show = true;
      }
      if (!show) {
        await cdp.send('Debugger.resume').catch(() => undefined);
        return;
      }
    }
    this.pausedAt = { params, frames };
    const exception = params.reason === 'exception' || params.reason === 'promiseRejection';
    const body: DebugProtocol.StoppedEvent['body'] = {
      reason: exception ? 'exception' : entry || (wasStepping && !ours.length) ? 'step' : ours.length ? 'breakpoint' : params.reason === 'debugCommand' ? 'pause' : 'breakpoint',
      threadId: this.threadId,
      allThreadsStopped: true,
    };
    if (exception) body.text = firstLine(params.data?.description ?? String(params.data?.value ?? 'exception'));
    else if (!ours.length && !entry && !wasStepping && params.reason !== 'debugCommand') body.description = 'Paused on a debugger statement';
    if (ours.length) body.hitBreakpointIds = ours.map(([, b]) => b!.id);
    this.emit('stopped', body);
  }

  /**
   * The metric's run is over (the runtime reports its result): whatever the inspector's `resumed` event has not
   * said yet, nothing is paused. Its socket and the run's IPC reply race, so the reply can come first.
   */
  released(): void {
    this.stepping = false;
    this.stepFrom = undefined;
    this.clearPause();
  }

  private clearPause(): void {
    this.pausedAt = undefined;
    this.refs.clear();
    this.nextRef = NODE_REF_BASE;
  }

  // ------------------------------------------------------------------------------------------ frames

  private isUserFile(file: string): boolean {
    if (file.includes(`${path.sep}node_modules${path.sep}`)) return false;
    return !this.hidden.some((h) => file === h || file.startsWith(h + path.sep));
  }

  private originalLine(loc: CdpLocation): { file: string; line: number; column: number } | undefined {
    const map = this.scripts.get(loc.scriptId);
    const o = map?.originalFor(loc.lineNumber, loc.columnNumber ?? 0);
    return o && map ? { file: map.sources[o.source], line: o.line + 1, column: o.column + 1 } : undefined;
  }

  private userFrame(cf: CallFrame): UserFrame | undefined {
    const at = this.originalLine(cf.location);
    return at && this.isUserFile(at.file) ? { cdp: cf, ...at } : undefined;
  }

  private userFrames(callFrames: CallFrame[]): UserFrame[] {
    return callFrames.map((cf) => this.userFrame(cf)).filter((f): f is UserFrame => !!f);
  }

  private frame(frameId: number | undefined): UserFrame {
    const p = this.pausedAt;
    if (!p) throw new Error('the TS/JS metric is not paused');
    // The label frame (or none) means the innermost frame of the user's.
    return p.frames[frameId && frameId !== NODE_LABEL_FRAME_ID ? frameId - 1 : 0] ?? p.frames[0];
  }

  // ------------------------------------------------------------------------------------------ requests

  /** One DAP request while the metric is paused (or running, for pause). Returns the response body. */
  async request(command: string, args: Record<string, unknown>, label: string): Promise<unknown> {
    const cdp = this.cdp;
    if (!cdp) throw new Error('the TS/JS metric is not running under the debugger');
    switch (command) {
      case 'threads':
        return { threads: [{ id: this.threadId, name: 'compute_metrics (Node)' }] };
      case 'stackTrace': {
        const frames: DebugProtocol.StackFrame[] = (this.pausedAt?.frames ?? []).map((f, k) => ({
          id: k + 1,
          name: f.cdp.functionName || '(anonymous)',
          source: source(f.file),
          line: f.line,
          column: f.column,
        }));
        frames.push({ id: NODE_LABEL_FRAME_ID, name: label, line: 0, column: 0, presentationHint: 'label' });
        const start = (args.startFrame as number | undefined) ?? 0;
        const levels = (args.levels as number | undefined) || frames.length;
        return { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
      }
      case 'scopes': {
        if (args.frameId === NODE_LABEL_FRAME_ID) return { scopes: [] };
        const f = this.frame(args.frameId as number);
        const scopes: DebugProtocol.Scope[] = [];
        for (const s of f.cdp.scopeChain) {
          if (s.type === 'global' || !s.object.objectId) continue;
          const name = s.type === 'local' ? 'Local' : s.type === 'closure' ? 'Closure' : s.type === 'block' ? 'Block' : s.type === 'catch' ? 'Catch' : s.type === 'script' ? 'Script' : s.type;
          scopes.push({ name, variablesReference: this.ref({ objectId: s.object.objectId }), expensive: s.type === 'script' || s.type === 'closure' });
        }
        return { scopes };
      }
      case 'variables':
        return { variables: await this.variables(args as unknown as DebugProtocol.VariablesArguments) };
      case 'evaluate': {
        const f = this.frame(args.frameId as number | undefined);
        const r = await cdp.send<{ result: RemoteObject; exceptionDetails?: { text: string; exception?: RemoteObject } }>('Debugger.evaluateOnCallFrame', {
          callFrameId: f.cdp.callFrameId,
          expression: args.expression as string,
          objectGroup: 'evalpred',
          includeCommandLineAPI: true,
          silent: true,
          generatePreview: true,
          // A hover never runs code with side effects.
          throwOnSideEffect: args.context === 'hover',
        });
        if (r.exceptionDetails) throw new Error(firstLine(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text));
        const v = await this.variable('result', r.result);
        return { result: v.value, type: v.type, variablesReference: v.variablesReference, indexedVariables: v.indexedVariables };
      }
      case 'completions': {
        // Names in scope and members after a dot, from the paused frame (./frameCompletions.ts).
        const f = this.frame(args.frameId as number | undefined);
        return { targets: await frameCompletions(cdp, f.cdp, String(args.text ?? ''), Number(args.column ?? 1), Number(args.line ?? 1)) };
      }
      case 'continue':
        await cdp.send('Debugger.resume');
        return { allThreadsContinued: true };
      case 'next':
      case 'stepIn':
      case 'stepOut':
      {
        this.stepping = true;
        const method = command === 'next' ? 'Debugger.stepOver' : command === 'stepIn' ? 'Debugger.stepInto' : 'Debugger.stepOut';
        const top = this.pausedAt?.frames[0];
        if (top && command !== 'stepOut') this.stepFrom = { file: top.file, line: top.line, depth: this.pausedAt!.frames.length, method, rounds: 0 };
        await cdp.send(method);
        return {};
      }
      case 'pause':
        await cdp.send('Debugger.pause');
        return {};
      case 'exceptionInfo': {
        const d = this.pausedAt?.params.data;
        const description = d?.description ?? String(d?.value ?? '');
        return {
          exceptionId: d?.className ?? 'Error',
          description: firstLine(description),
          breakMode: d?.uncaught ? 'unhandled' : 'always',
          details: { message: firstLine(description), typeName: d?.className, stackTrace: description },
        };
      }
      default:
        throw new Error(`${command} is not available while a TS/JS metric is paused`);
    }
  }

  private ref(r: VarRef): number {
    const id = this.nextRef++;
    this.refs.set(id, r);
    return id;
  }

  /** Children of an object: its own properties, or a window of an (typed) array's elements. */
  private async variables(args: DebugProtocol.VariablesArguments): Promise<DebugProtocol.Variable[]> {
    const r = this.refs.get(args.variablesReference);
    if (!r) return [];
    const cdp = this.cdp!;
    let objectId = r.objectId;
    if (r.indexed !== undefined && args.filter !== 'named') {
      const start = args.start ?? 0;
      const count = args.count ?? Math.min(DEFAULT_PAGE, r.indexed - start);
      // A window of elements, copied into a plain object: a million-element array is never listed whole.
      const w = await cdp.send<{ result: RemoteObject }>('Runtime.callFunctionOn', {
        objectId,
        functionDeclaration: 'function (s, c) { const o = {}; for (let i = s; i < s + c && i < this.length; i++) o[i] = this[i]; return o; }',
        arguments: [{ value: start }, { value: count }],
        objectGroup: 'evalpred',
      });
      objectId = w.result.objectId!;
    } else if (r.indexed !== undefined) {
      return [{ name: 'length', value: String(r.indexed), variablesReference: 0 }];
    }
    const props = await cdp.send<{ result: Array<{ name: string; value?: RemoteObject; get?: RemoteObject; enumerable?: boolean }> }>('Runtime.getProperties', {
      objectId,
      ownProperties: true,
      generatePreview: true,
    });
    const out: DebugProtocol.Variable[] = [];
    for (const p of props.result) {
      if (p.name === '__proto__') continue;
      if (!p.value) {
        if (p.get && p.get.type !== 'undefined') out.push({ name: p.name, value: '(getter)', variablesReference: 0 });
        continue;
      }
      out.push(await this.variable(p.name, p.value));
    }
    return out;
  }

  /** A remote value as a DAP variable: text, type, and a reference when it has children. */
  private async variable(name: string, v: RemoteObject): Promise<DebugProtocol.Variable> {
    const type = (v.className ?? v.subtype ?? v.type).replace(/^_+(?=Tensor)/, ''); // esbuild's rename of a self-referencing class
    if (!v.objectId || v.type === 'function') return { name, value: shown(v), type, variablesReference: 0 };
    const length = v.subtype === 'array' || v.subtype === 'typedarray' ? lengthOf(v.description) : undefined;
    let value = shown(v);
    if (/^_*Tensor\d*$/.test(v.className ?? '')) {
      // Our tensor summary (dtype[shape] and its values, NumPy style), computed in the metric's process.
      const s = await this.cdp!.send<{ result: RemoteObject }>('Runtime.callFunctionOn', {
        objectId: v.objectId,
        functionDeclaration: 'function () { const d = globalThis.__evalpredDescribe; return d ? d(this) : undefined; }',
        returnByValue: true,
      }).catch(() => undefined);
      if (typeof s?.result.value === 'string') value = s.result.value;
    }
    const ref = this.ref({ objectId: v.objectId, indexed: length });
    return { name, value, type, variablesReference: ref, ...(length !== undefined ? { indexedVariables: length } : {}) };
  }
}

function source(file: string): DebugProtocol.Source {
  return { name: path.basename(file), path: file };
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}

function lengthOf(description: string | undefined): number | undefined {
  const m = /\((\d+)\)$/.exec(description ?? '');
  return m ? Number(m[1]) : undefined;
}

/** A remote value in one line, as a JS debugger shows it. */
function shown(v: RemoteObject): string {
  if (v.type === 'undefined') return 'undefined';
  if (v.type === 'string') return JSON.stringify(v.value);
  if (v.unserializableValue) return v.unserializableValue;
  if (v.type === 'number' || v.type === 'boolean') return String(v.value);
  if (v.type === 'bigint') return v.description ?? `${String(v.value)}n`;
  if (v.subtype === 'null') return 'null';
  if (v.type === 'function') return `ƒ ${firstLine(v.description ?? '').replace(/^(async\s+)?function\s*/, '').slice(0, 80)}`;
  const p = v.preview;
  if (p?.properties && v.subtype !== 'error') {
    const items = p.properties.map((q) => (v.subtype === 'array' || v.subtype === 'typedarray' ? q.value : `${q.name}: ${q.type === 'string' ? JSON.stringify(q.value) : q.value}`));
    const more = p.overflow ? ', …' : '';
    if (v.subtype === 'array' || v.subtype === 'typedarray') return `${v.description} [${items.join(', ')}${more}]`;
    return `${v.className && v.className !== 'Object' ? `${v.className} ` : ''}{${items.join(', ')}${more}}`;
  }
  return v.description ?? v.type;
}

/** The CDP condition for a DAP breakpoint: its condition, and for a logpoint a print that never stops. */
function conditionOf(bp: DebugProtocol.SourceBreakpoint): string | undefined {
  if (!bp.logMessage) return bp.condition || undefined;
  // "x is {x}" -> a template literal `x is ${x}`, printed through the inspector's console only.
  const template = bp.logMessage.replace(/[`\\]|\$\{/g, (c) => `\\${c}`).replace(/\{([^{}]+)\}/g, '${$1}');
  const log = `(globalThis.__evalpredLogpoint?.(${JSON.stringify(LOGPOINT_TAG)}, \`${template}\`), false)`;
  return bp.condition ? `(${bp.condition}) && ${log}` : log;
}

/** DAP hit conditions as VS Code writes them: "5" or "== 5", ">= 5", "> 5", "% 2". */
export function hitConditionMet(condition: string | undefined, hits: number): boolean {
  const c = condition?.trim();
  if (!c) return true;
  const m = /^(==|>=|>|<=|<|%)?\s*(\d+)$/.exec(c);
  if (!m) return true; // not a count: stop (the client showed it as the user typed it)
  const n = Number(m[2]);
  switch (m[1]) {
    case '>=':
      return hits >= n;
    case '>':
      return hits > n;
    case '<=':
      return hits <= n;
    case '<':
      return hits < n;
    case '%':
      return n > 0 && hits % n === 0;
    default:
      return hits === n;
  }
}
