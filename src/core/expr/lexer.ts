// Tokens of the Debug Console expression language (see parser.ts for the grammar). Hand-written so that
// nothing a user types is ever handed to JavaScript's eval; every token keeps its column for errors.
import { ExprError } from './errors';

export type TokenKind = 'num' | 'str' | 'ident' | 'op' | 'end';

export interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based offset in the expression. */
  pos: number;
  value?: number | string;
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', ':', '.', '&', '|', '~'];

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // A number: 12, 1.5, .5, 1e-3 (a leading '.' only when a digit follows, else it is attribute access).
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))!;
      out.push({ kind: 'num', text: m[0], pos: i, value: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ kind: 'ident', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw new ExprError(`unterminated string starting at column ${i + 1}`, src, i);
      out.push({ kind: 'str', text: src.slice(i, j + 1), pos: i, value: s });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(`unexpected character '${c}' at column ${i + 1}`, src, i);
    out.push({ kind: 'op', text: op, pos: i });
    i += op.length;
  }
  out.push({ kind: 'end', text: '', pos: src.length });
  return out;
}
