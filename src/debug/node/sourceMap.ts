// The inline source map esbuild writes into a TS/JS metric bundle (src/core/metrics/jsRunner.ts), decoded
// both ways: a line of the user's .ts file -> the bundle position a breakpoint goes to, and a paused bundle
// position -> the user's file and line. Node's own module.SourceMap only answers the second question (it
// has no original -> generated lookup), so the mappings are decoded here, once per bundle (Source Map v3:
// base64 VLQ segments, lines separated by ';').
import path from 'node:path';

/** One mapping segment, 0-based lines and columns. */
export interface Mapping {
  genLine: number;
  genColumn: number;
  /** Index into `sources`, or -1 for generated code with no origin (esbuild's module wrappers). */
  source: number;
  line: number;
  column: number;
}

const B64 = new Map([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]));

/** The VLQ numbers of one segment ("AAAA" -> [0, 0, 0, 0]). */
function decodeSegment(seg: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of seg) {
    const digit = B64.get(ch);
    if (digit === undefined) throw new Error(`bad source map character '${ch}'`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = shift = 0;
    }
  }
  return out;
}

export function decodeMappings(mappings: string): Mapping[] {
  const out: Mapping[] = [];
  let source = 0;
  let line = 0;
  let column = 0;
  mappings.split(';').forEach((text, genLine) => {
    let genColumn = 0;
    for (const seg of text.split(',')) {
      if (!seg) continue;
      const v = decodeSegment(seg);
      genColumn += v[0];
      if (v.length >= 4) {
        source += v[1];
        line += v[2];
        column += v[3];
        out.push({ genLine, genColumn, source, line, column });
      } else out.push({ genLine, genColumn, source: -1, line: -1, column: -1 });
    }
  });
  return out;
}

export class BundleMap {
  /** Absolute paths of the bundle's sources. */
  readonly sources: string[];
  /** Every mapping, in generated order. */
  private readonly mappings: Mapping[];
  /** Per source: its mappings sorted by original line, then generated position. */
  private readonly bySource: Mapping[][];
  private readonly lineCount: number;

  constructor(payload: { sources: string[]; mappings: string; sourceRoot?: string }, bundleFile: string) {
    const base = path.resolve(path.dirname(bundleFile), payload.sourceRoot ?? '');
    this.sources = payload.sources.map((s) => (s.startsWith('file://') ? new URL(s).pathname : path.resolve(base, s)));
    this.mappings = decodeMappings(payload.mappings);
    this.lineCount = payload.mappings.split(';').length;
    this.bySource = this.sources.map(() => []);
    for (const m of this.mappings) if (m.source >= 0) this.bySource[m.source].push(m);
    for (const list of this.bySource) list.sort((a, b) => a.line - b.line || a.genLine - b.genLine || a.genColumn - b.genColumn);
  }

  /** The map of a bundle's inline `//# sourceMappingURL=data:...;base64,...` comment, or undefined. */
  static fromBundle(code: string, bundleFile: string): BundleMap | undefined {
    const m = /\/\/[#@] sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
    if (!m) return undefined;
    return new BundleMap(JSON.parse(Buffer.from(m[1], 'base64').toString('utf8')), bundleFile);
  }

  sourceIndex(file: string): number {
    const abs = path.resolve(file);
    return this.sources.findIndex((s) => s === abs || (process.platform !== 'linux' && s.toLowerCase() === abs.toLowerCase()));
  }

  /**
   * Where a breakpoint on 0-based `line` of source `source` goes: the first line at or after it that has code
   * (a blank or comment line has no mapping: the breakpoint moves down, as in js-debug), at that line's first
   * generated position. Undefined when no code follows.
   */
  generatedFor(source: number, line: number): { line: number; genLine: number; genColumn: number } | undefined {
    const list = this.bySource[source];
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].line < line) lo = mid + 1;
      else hi = mid;
    }
    const m = list[lo];
    return m && { line: m.line, genLine: m.genLine, genColumn: m.genColumn };
  }

  /** The original position of a 0-based bundle position: the mapping at or before it on its line. */
  originalFor(genLine: number, genColumn: number): { source: number; line: number; column: number } | undefined {
    let lo = 0;
    let hi = this.mappings.length;
    // last mapping with (genLine, genColumn) <= the position
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.mappings[mid];
      if (m.genLine < genLine || (m.genLine === genLine && m.genColumn <= genColumn)) lo = mid + 1;
      else hi = mid;
    }
    const m = this.mappings[lo - 1];
    if (!m || m.genLine !== genLine || m.source < 0) return undefined;
    return { source: m.source, line: m.line, column: m.column };
  }

  /**
   * The bundle ranges whose code is not the user's (`isUser(source)` false, or no origin), as the alternating
   * start/end positions Debugger.setBlackboxedRanges takes: stepping never stops inside them.
   */
  foreignRanges(isUser: (source: number) => boolean): Array<{ lineNumber: number; columnNumber: number }> {
    // The bundle starts with esbuild's own prologue (no mappings): foreign until a mapping says otherwise.
    const out = [{ lineNumber: 0, columnNumber: 0 }];
    let inForeign = true;
    for (const m of this.mappings) {
      const foreign = m.source < 0 || !isUser(m.source);
      if (foreign === inForeign) continue;
      inForeign = foreign;
      const last = out[out.length - 1];
      // V8 wants strictly increasing positions: an empty range is dropped.
      if (last && last.lineNumber === m.genLine && last.columnNumber === m.genColumn) out.pop();
      else out.push({ lineNumber: m.genLine, columnNumber: m.genColumn });
    }
    if (inForeign) out.push({ lineNumber: this.lineCount + 1, columnNumber: 0 });
    return out;
  }
}
