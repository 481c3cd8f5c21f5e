// Tensors as DAP variables, lazily and in pages (js-debug's ArrayVariable): a tensor shows as
// `float32[872, 2]` with `indexedVariables` = its row count, and rows are made only for the window the
// client asks for (`filter: 'indexed', start, count`) from views on the cached data (Tensor.row shares
// memory). Statistics and decoded text are lazy (`presentationHint.lazy`): computed when clicked.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EvalpredError } from '../core/errors';
import { formatNumber, formatValue, isMapping, mappingSummary, previewTensor, pyString, runSliced, statisticsText, summary, Value } from '../core/expr';
import { DTYPES } from '../core/tensor/dtype';
import { statsOf } from '../core/tensor/stats';
import type { Gen } from '../core/tensor/blocks';
import { BatchMapping, EvalPredictionData, Tensor, TensorNode } from '../core/tensor/tensor';

/** When a client asks for children without a filter, rows beyond this are left to paging. */
export const UNFILTERED_ROW_LIMIT = 100;
/** Most children one `variables` response carries (a client asking for count 1e12 gets this many). */
export const MAX_VARIABLES_PAGE = 1000;
/** Debug Console results kept expandable; older ones are released (their tensors can be collected). */
export const KEPT_EVALUATIONS = 10;

/**
 * `start` and `count` of a variables request, checked as DAP defines them: whole numbers >= 0, count 0 or
 * absent meaning "all" (which we clamp, like any count, to MAX_VARIABLES_PAGE).
 */
export function pagingOf(start: unknown, count: unknown): { start: number; count: number } {
  const check = (name: string, v: unknown): number => {
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new EvalpredError(`variables: "${name}" must be a whole number >= 0, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const s = check('start', start);
  const c = check('count', count);
  return { start: s, count: c === 0 ? MAX_VARIABLES_PAGE : Math.min(c, MAX_VARIABLES_PAGE) };
}

/** Variable references with a release: each handle remembers the evaluation result it was made under. */
class Handles<T> {
  private next = 1;
  private map = new Map<number, { value: T; root: number }>();
  /** The root new handles belong to while a container's children are built (0: the paused state itself). */
  root = 0;

  create(value: T): number {
    const id = this.next++;
    this.map.set(id, { value, root: this.root });
    return id;
  }

  get(id: number): T | undefined {
    return this.map.get(id)?.value;
  }

  rootOf(id: number): number {
    return this.map.get(id)?.root ?? 0;
  }

  /** Move handles made under root `from` to root `to`. */
  retag(from: number, to: number): void {
    for (const h of this.map.values()) if (h.root === from) h.root = to;
  }

  /** Forget a root and every handle made under it. */
  release(root: number): void {
    for (const [id, h] of this.map) if (id === root || h.root === root) this.map.delete(id);
  }

  reset(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
const PREVIEW_ELEMENTS = 16;

export type FieldName = 'predictions' | 'label_ids' | 'inputs' | 'losses';

export interface VariableContext {
  evalPred: EvalPredictionData;
  /** Token ids -> text, when a tokenizer is loaded. */
  decode?(ids: number[]): string;
  /** Whether integer tensors under this field hold token ids (inputs always; generated ids for seq2seq). */
  tokenIdField(field: FieldName): boolean;
  /** generate()'s num_return_sequences n: `predictions` holds n rows per sample, best first (absent: 1). */
  sequencesPerSample?: number;
  /** batch_eval_metrics: the call's `inputs` is the whole batch mapping, shown key by key (evalRuntime.inputsMappingAtStop). */
  inputsMapping?: BatchMapping;
}

type Container =
  | { kind: 'evalPred' }
  | { kind: 'node'; node: { tuple: TensorNode[] } | { list: TensorNode[] }; path: string; field: FieldName }
  | { kind: 'tensor'; t: Tensor; path: string; field: FieldName }
  /** Row i of a tensor: the view is made only when the row is expanded. */
  | { kind: 'row'; parent: Tensor; i: number; path: string; field: FieldName }
  /**
   * Computed when expanded, in slices (statistics read a whole array: src/core/expr/slices.ts); the result
   * builds the variable, once the slices are done, under the reference's root.
   */
  | { kind: 'lazy'; make: () => Gen<() => DebugProtocol.Variable> }
  | { kind: 'record'; make: () => DebugProtocol.Variable[] };

export class VariableStore {
  private handles = new Handles<Container>();
  /** Roots of the Debug Console results still expandable, oldest first. */
  private evaluations: number[] = [];
  /** Aborted at the next stop: a lazy value still being computed for the old one stops at its next slice. */
  private stopScope = new AbortController();

  constructor(private ctx: VariableContext) {}

  /** New stop: old references become invalid (as after any DAP stopped event). */
  reset(ctx?: VariableContext): void {
    if (ctx) this.ctx = ctx;
    this.handles.reset();
    this.evaluations = [];
    this.stopScope.abort('the debuggee went on');
    this.stopScope = new AbortController();
  }

  /** How many references are live (tests check that earlier results are released). */
  get liveReferences(): number {
    return this.handles.size;
  }

  evalPredScope(): number {
    return this.handles.create({ kind: 'evalPred' });
  }

  /** A scope (or child) whose variables are built on request from plain values. */
  record(make: () => DebugProtocol.Variable[]): number {
    return this.handles.create({ kind: 'record', make });
  }

  /** A child computed when expanded, in slices (a pass over whole arrays), then built as one variable. */
  lazy(make: () => Gen<() => DebugProtocol.Variable>): number {
    return this.handles.create({ kind: 'lazy', make });
  }

  /** A variable for an expression result (Debug Console / hover), expandable when it is an array or tuple. */
  forValue(name: string, v: Value, evaluateName: string): DebugProtocol.Variable {
    if (isMapping(v)) return this.underNewRoot(() => this.mappingVariable(name, v.mapping, evaluateName));
    if (v instanceof Tensor || (typeof v === 'object' && v !== null && ('tuple' in v || 'list' in v))) {
      const field = (/^(predictions|label_ids|inputs|losses)/.exec(evaluateName)?.[1] ?? 'predictions') as FieldName;
      // A result is a root: it and whatever is expanded under it go together when it is released.
      const variable = this.underNewRoot(() => this.nodeVariable(name, v as TensorNode, evaluateName, field));
      if (v instanceof Tensor && v.ndim > 0 && v.size <= PREVIEW_ELEMENTS * 4) variable.value = formatValue(v);
      return variable;
    }
    return { name, value: clip(formatValue(v)), variablesReference: 0, evaluateName };
  }

  private underNewRoot(make: () => DebugProtocol.Variable): DebugProtocol.Variable {
    const saved = this.handles.root;
    this.handles.root = -1; // placeholder until the root's own id is known
    try {
      const variable = make();
      const root = variable.variablesReference;
      if (root) {
        this.handles.retag(-1, root);
        this.evaluations.push(root);
        while (this.evaluations.length > KEPT_EVALUATIONS) this.handles.release(this.evaluations.shift()!);
      }
      return variable;
    } finally {
      this.handles.root = saved;
    }
  }

  /** Children of a reference, honouring DAP paging; a lazy value (statistics) is computed in slices. */
  async variables(ref: number, filter?: 'indexed' | 'named', start?: number, count?: number): Promise<DebugProtocol.Variable[]> {
    if (!Number.isInteger(ref)) throw new EvalpredError(`variables: "variablesReference" must be a whole number, got ${JSON.stringify(ref)}`);
    const page = pagingOf(start, count);
    const c = this.handles.get(ref);
    if (!c) return [];
    const build = c.kind === 'lazy' ? await runSliced(c.make(), this.stopScope.signal) : undefined;
    if (build && this.handles.get(ref) !== c) return []; // released (a new stop) while it was computed
    // Children belong to the same evaluation result as their parent (released with it).
    const saved = this.handles.root;
    this.handles.root = this.handles.rootOf(ref);
    try {
      if (build) return [build()];
      return this.children(c, filter, page.start, start === undefined && count === undefined ? undefined : page.count);
    } finally {
      this.handles.root = saved;
    }
  }

  private children(c: Container, filter: 'indexed' | 'named' | undefined, start: number, count: number | undefined): DebugProtocol.Variable[] {
    switch (c.kind) {
      case 'evalPred': {
        const ep = this.ctx.evalPred;
        const fields: [FieldName, TensorNode | null][] = [
          ['predictions', ep.predictions],
          ['label_ids', ep.labelIds],
          ['inputs', ep.inputs],
          ['losses', ep.losses],
        ];
        const mapping = this.ctx.inputsMapping;
        return fields.map(([name, node]) => {
          if (name === 'inputs' && mapping) return this.mappingVariable(name, mapping);
          return node ? this.nodeVariable(name, node, name, name) : { name, value: 'None', variablesReference: 0, evaluateName: name };
        });
      }
      case 'node': {
        const items = 'tuple' in c.node ? c.node.tuple : c.node.list;
        const from = filter === 'indexed' ? Math.min(start, items.length) : 0;
        const to = filter === 'indexed' ? Math.min(items.length, from + (count ?? MAX_VARIABLES_PAGE)) : filter === 'named' ? 0 : Math.min(items.length, UNFILTERED_ROW_LIMIT);
        const out: DebugProtocol.Variable[] = [];
        for (let i = from; i < to; i++) out.push(this.nodeVariable(`[${i}]`, items[i], `${c.path}[${i}]`, c.field));
        return out;
      }
      case 'tensor':
        return this.tensorChildren(c.t, c.path, c.field, filter, start, count);
      case 'row':
        return this.tensorChildren(c.parent.row(c.i), c.path, c.field, filter, start, count);
      case 'lazy':
        return []; // computed by variables(), in slices
      case 'record':
        return c.make();
    }
  }

  /** The batch mapping batch_eval_metrics hands over as inputs: one child per key, in its order (`inputs["attention_mask"]`). */
  private mappingVariable(name: string, entries: BatchMapping, path = name): DebugProtocol.Variable {
    return {
      name,
      value: mappingSummary(entries),
      type: 'BatchEncoding',
      variablesReference: this.record(() => entries.map(([k, n]) => this.nodeVariable(k, n, `${path}[${JSON.stringify(k)}]`, 'inputs'))),
      namedVariables: entries.length,
      evaluateName: path,
    };
  }

  private nodeVariable(name: string, node: TensorNode, path: string, field: FieldName): DebugProtocol.Variable {
    if (node instanceof Tensor) {
      if (node.ndim === 0) return { name, value: previewTensor(node), type: node.dtype, variablesReference: 0, evaluateName: path };
      const named = this.namedChildren(node, path, field, false).length;
      const per = this.blockRows(node, path);
      const v: DebugProtocol.Variable & { __vscodeVariableMenuContext?: string } = {
        name,
        // num_return_sequences: say how the N·n rows group, where the user first sees the shape
        value: per ? `${node.toString()}  (${node.shape[0] / per}·${per} rows: num_return_sequences=${per} per sample, best first; sample i is rows i*${per} to i*${per}+${per - 1})` : node.toString(),
        type: `${node.dtype} array`,
        variablesReference: this.handles.create({ kind: 'tensor', t: node, path, field }),
        indexedVariables: node.shape[0],
        namedVariables: named,
        evaluateName: path,
        // Lets the extension offer "Open in Prediction View" on arrays (debug/variables/context menu).
        __vscodeVariableMenuContext: 'evalpredTensor',
      };
      return v;
    }
    const items = 'tuple' in node ? node.tuple : node.list;
    return {
      name,
      value: summary(node),
      type: 'tuple' in node ? 'tuple' : 'list',
      variablesReference: this.handles.create({ kind: 'node', node, path, field }),
      indexedVariables: items.length,
      evaluateName: path,
    };
  }

  /** n when `t` is the predictions field itself holding n rows per sample (num_return_sequences n > 1), else 0. */
  private blockRows(t: Tensor, path: string): number {
    const per = this.ctx.sequencesPerSample ?? 1;
    return path === 'predictions' && per > 1 && t.ndim > 0 && t.shape[0] % per === 0 ? per : 0;
  }

  private isTokenIds(t: Tensor, field: FieldName): boolean {
    return !!this.ctx.decode && !DTYPES[t.dtype].isFloat && t.dtype !== 'bool' && this.ctx.tokenIdField(field);
  }

  /** shape, dtype, statistics (lazy) and — for a 1-d row of token ids — decoded (lazy). Never touches row data. */
  private namedChildren(t: Tensor, path: string, field: FieldName, build = true): DebugProtocol.Variable[] {
    const names = ['shape', 'dtype', 'statistics'];
    const decodable = t.ndim === 1 && this.isTokenIds(t, field);
    if (decodable) names.push('decoded');
    if (!build) return names.map((n) => ({ name: n, value: '', variablesReference: 0 }));
    const out: DebugProtocol.Variable[] = [
      { name: 'shape', value: t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`, variablesReference: 0, evaluateName: `${path}.shape` },
      { name: 'dtype', value: t.dtype, variablesReference: 0, evaluateName: `${path}.dtype` },
      {
        name: 'statistics',
        value: `statistics of ${t.size} values`,
        variablesReference: this.handles.create({ kind: 'lazy', make: () => this.statsVariable(t) }),
        presentationHint: { lazy: true, kind: 'virtual' },
      },
    ];
    if (decodable) {
      out.push({
        name: 'decoded',
        value: 'decode token ids',
        variablesReference: this.handles.create({
          kind: 'lazy',
          // eslint-disable-next-line require-yield
          make: function* (this: VariableStore) {
            const text = pyString(this.decodeRow(t));
            return () => ({ name: 'decoded', value: text, variablesReference: 0, evaluateName: `decode(${path})` });
          }.bind(this),
        }),
        presentationHint: { lazy: true, kind: 'virtual' },
      });
    }
    return out;
  }

  private decodeRow(t: Tensor): string {
    const ids: number[] = [];
    for (let i = 0; i < t.size; i++) {
      const x = t.at(i);
      if (x >= 0) ids.push(x); // -100 is label padding, not a token
    }
    return this.ctx.decode!(ids);
  }

  private *statsVariable(t: Tensor): Gen<() => DebugProtocol.Variable> {
    const s = yield* statsOf(t);
    const fields = Object.entries(s).map(([k, v]) => ({ name: k, value: v === null ? 'None' : formatNumber(v as number), variablesReference: 0 }));
    return () => ({ name: 'statistics', value: statisticsText(s), variablesReference: this.record(() => fields) });
  }

  private tensorChildren(t: Tensor, path: string, field: FieldName, filter?: 'indexed' | 'named', start = 0, count?: number): DebugProtocol.Variable[] {
    const n = t.shape[0];
    const named = filter === 'indexed' ? [] : this.namedChildren(t, path, field);
    if (filter === 'named') return named;
    const from = Math.min(n, start);
    const to = filter === 'indexed' ? Math.min(n, from + (count ?? MAX_VARIABLES_PAGE)) : Math.min(n, UNFILTERED_ROW_LIMIT);
    const rows: DebugProtocol.Variable[] = [];
    for (let i = from; i < to; i++) rows.push(this.rowVariable(t, i, path, field));
    return [...named, ...rows];
  }

  private rowVariable(t: Tensor, i: number, path: string, field: FieldName): DebugProtocol.Variable {
    const name = `[${i}]`;
    const evaluateName = `${path}[${i}]`;
    if (t.ndim === 1) {
      const x = t.at(i);
      return { name, value: t.dtype === 'bool' ? (x ? 'True' : 'False') : formatNumber(x, t.dtype), variablesReference: 0, evaluateName };
    }
    // Only a small handle per row: no tensor view until the row itself is expanded.
    const inner = t.shape.slice(1);
    const rowSize = inner.reduce((a, b) => a * b, 1);
    let value = `${t.dtype}[${inner.join(', ')}]`;
    if (inner.length === 1 && rowSize <= PREVIEW_ELEMENTS) {
      const parts: string[] = [];
      for (let k = 0; k < rowSize; k++) {
        const x = t.at(i * rowSize + k);
        parts.push(t.dtype === 'bool' ? (x ? 'True' : 'False') : formatNumber(x, t.dtype));
      }
      value = `[${parts.join(', ')}]`;
    }
    const named = inner.length === 1 && this.isTokenIds(t, field) ? 4 : 3;
    const per = this.blockRows(t, path);
    if (per) value += `  (sample ${Math.floor(i / per)}, #${(i % per) + 1} of ${per})`;
    return {
      name,
      value,
      type: `${t.dtype} array`,
      variablesReference: this.handles.create({ kind: 'row', parent: t, i, path: evaluateName, field }),
      indexedVariables: inner[0],
      namedVariables: named,
      evaluateName,
    };
  }
}

/** Values shown whole (strings from decode(), long tuples) stop at this many characters. */
const MAX_VALUE_CHARS = 100_000;

function clip(text: string): string {
  return text.length <= MAX_VALUE_CHARS ? text : `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length - MAX_VALUE_CHARS} characters more not shown)`;
}
