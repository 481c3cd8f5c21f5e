// Golden text snapshots of what the Variables view shows (after js-debug's src/test/goldenText.ts and
// src/test/variables/*.txt): a variables tree rendered to plain text, one variable per line, with every
// variablesReference replaced by a stable id (@1, @2, … in order of first appearance) so a snapshot does
// not depend on how many handles were made before. The point is review: a person reads the .txt file and
// sees the tree as VS Code would show it.
//
// Line format:   > name: value  // type=… indexed=N named=M hint=lazy,virtual ref=@3 eval=expr menu=ctx
// `>` marks an expandable variable (as the Variables view's twistie); children are indented by 4.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { packageRoot } from '../../src/core/paths';

export type VariablesFetch = (args: DebugProtocol.VariablesArguments) => Promise<DebugProtocol.Variable[]>;

export interface RenderOptions {
  /** How many levels below the starting reference to expand (default 1: its children only). */
  depth?: number;
  /** Rows fetched per indexed container, like VS Code's first chunk (default 100). */
  pageSize?: number;
  /** Whether to expand a variable that is within `depth`; default: all of them. */
  expand?: (v: DebugProtocol.Variable, level: number) => boolean;
}

export class GoldenText {
  private readonly lines: string[] = [];
  private readonly ids = new Map<number, string>();

  /** `sanitize` rewrites unstable text (temp paths, timings) in names and values. */
  constructor(
    private readonly fetch: VariablesFetch,
    private readonly sanitize: (s: string) => string = (s) => s,
  ) {}

  /** Stable id of a reference: the order in which the snapshot first met it. */
  id(ref: number): string {
    let id = this.ids.get(ref);
    if (!id) this.ids.set(ref, (id = `@${this.ids.size + 1}`));
    return id;
  }

  /** A free text line (titles, notes on what was clicked). */
  log(text: string): void {
    this.lines.push(this.sanitize(text));
  }

  scopes(scopes: DebugProtocol.Scope[]): void {
    for (const s of scopes) {
      const attrs = [`ref=${this.id(s.variablesReference)}`];
      if (s.expensive) attrs.push('expensive');
      if (s.indexedVariables !== undefined) attrs.push(`indexed=${s.indexedVariables}`);
      if (s.namedVariables !== undefined) attrs.push(`named=${s.namedVariables}`);
      if (s.presentationHint) attrs.push(`hint=${s.presentationHint}`);
      this.lines.push(`scope ${s.name}  // ${attrs.join(' ')}`);
    }
  }

  /** The children of `ref`, expanded `opts.depth` levels, starting at `indent`. */
  async children(ref: number, opts: RenderOptions = {}, indent = ''): Promise<void> {
    await this.expandInto({ variablesReference: ref }, opts, 1, indent);
  }

  /** One variable and (within depth) its children. */
  async variable(v: DebugProtocol.Variable, opts: RenderOptions = {}, indent = ''): Promise<void> {
    this.lines.push(indent + this.describe(v));
    if (v.variablesReference > 0) await this.expandInto(v, opts, 1, indent + '    ');
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }

  describe(v: DebugProtocol.Variable): string {
    const attrs: string[] = [];
    if (v.type) attrs.push(`type=${v.type}`);
    if (v.indexedVariables !== undefined) attrs.push(`indexed=${v.indexedVariables}`);
    if (v.namedVariables !== undefined) attrs.push(`named=${v.namedVariables}`);
    const hint = v.presentationHint;
    if (hint) {
      const parts = [...(hint.kind ? [hint.kind] : []), ...(hint.attributes ?? []), ...(hint.visibility ? [hint.visibility] : []), ...(hint.lazy ? ['lazy'] : [])];
      if (parts.length) attrs.push(`hint=${parts.join(',')}`);
    }
    if (v.variablesReference > 0) attrs.push(`ref=${this.id(v.variablesReference)}`);
    if (v.evaluateName !== undefined) attrs.push(`eval=${v.evaluateName}`);
    const menu = (v as { __vscodeVariableMenuContext?: string }).__vscodeVariableMenuContext;
    if (menu) attrs.push(`menu=${menu}`);
    const head = `${v.variablesReference > 0 ? '> ' : '  '}${v.name}: ${v.value.replace(/\n/g, '\\n')}`;
    return this.sanitize(attrs.length ? `${head}  // ${attrs.join(' ')}` : head);
  }

  /** Fetch children the way VS Code does: named first, then the first page of indexed ones. */
  private async expandInto(v: Pick<DebugProtocol.Variable, 'variablesReference' | 'indexedVariables'>, opts: RenderOptions, level: number, indent: string): Promise<void> {
    const depth = opts.depth ?? 1;
    if (level > depth) return;
    const page = opts.pageSize ?? 100;
    const ref = v.variablesReference;
    let kids: DebugProtocol.Variable[];
    let more = 0;
    if (v.indexedVariables !== undefined) {
      const named = await this.fetch({ variablesReference: ref, filter: 'named' });
      const count = Math.min(v.indexedVariables, page);
      const indexed = count > 0 ? await this.fetch({ variablesReference: ref, filter: 'indexed', start: 0, count }) : [];
      kids = [...named, ...indexed];
      more = v.indexedVariables - count;
    } else {
      kids = await this.fetch({ variablesReference: ref });
    }
    for (const k of kids) {
      this.lines.push(indent + this.describe(k));
      if (k.variablesReference > 0 && level < depth && (opts.expand?.(k, level) ?? true)) await this.expandInto(k, opts, level + 1, indent + '    ');
    }
    if (more > 0) this.lines.push(`${indent}  … ${more} more (indexed ${v.indexedVariables! - more}..${v.indexedVariables! - 1}, paged)`);
  }
}

export const GOLDEN_DIR = path.join(packageRoot(), 'test', 'adapter', 'golden');
export const UPDATE_ENV = 'EVALPRED_UPDATE_GOLDEN';

/**
 * Compare `actual` with `<dir>/<name>.txt`. With EVALPRED_UPDATE_GOLDEN=1 the file is written instead and
 * the assertion still fails, so an update is never silent: look at `git diff`, then rerun without it.
 */
export function assertGolden(name: string, actual: string, dir = GOLDEN_DIR): void {
  const file = path.join(dir, `${name}.txt`);
  if (process.env[UPDATE_ENV] === '1') {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, actual);
    assert.fail(`${UPDATE_ENV}=1: wrote ${file}. Review it (git diff), then run the tests again without ${UPDATE_ENV}.`);
  }
  if (!fs.existsSync(file)) {
    assert.fail(`golden file ${file} does not exist. Create it with ${UPDATE_ENV}=1 and review it before committing. Actual text:\n${actual}`);
  }
  const expected = fs.readFileSync(file, 'utf8');
  try {
    assert.equal(actual, expected);
  } catch (e) {
    (e as Error).message = `the variables tree differs from ${file} (if the change is intended, rerun with ${UPDATE_ENV}=1 and review the diff)\n${(e as Error).message}`;
    throw e;
  }
}
