// The Debug Console's expression grammar: a small NumPy-flavoured subset, parsed by recursive descent.
//   expr    := or (('==' | '!=' | '<' | '<=' | '>' | '>=') or)?
//   or      := and ('|' and)*          (Python precedence: & and | bind tighter than comparisons)
//   and     := sum ('&' sum)*
//   sum     := term (('+' | '-') term)*
//   term    := unary (('*' | '/' | '%') unary)*
//   unary   := ('-' | '+' | '~') unary | postfix
//   postfix := primary ('[' item (',' item)* ']' | '.' IDENT | '(' args ')')*
//   item    := expr | expr? ':' expr? (':' expr?)?
//   primary := NUMBER | STRING | IDENT | '(' expr ')'
import { ExprError } from './errors';
import { Token, tokenize } from './lexer';

export type Node =
  | { type: 'num'; value: number; pos: number; isInt: boolean }
  | { type: 'str'; value: string; pos: number }
  | { type: 'name'; name: string; pos: number }
  | { type: 'attr'; obj: Node; name: string; pos: number }
  | { type: 'index'; obj: Node; items: IndexItem[]; pos: number }
  | { type: 'call'; callee: Node; args: Node[]; pos: number }
  | { type: 'unary'; op: string; arg: Node; pos: number }
  | { type: 'binary'; op: string; left: Node; right: Node; pos: number };

export type IndexItem = Node | { type: 'slice'; start?: Node; stop?: Node; step?: Node; pos: number };

const COMPARE = new Set(['==', '!=', '<', '<=', '>', '>=']);

export function parse(src: string): Node {
  const toks = tokenize(src);
  let k = 0;
  const peek = (): Token => toks[k];
  const isOp = (t: Token, op: string) => t.kind === 'op' && t.text === op;
  const fail = (t: Token, what: string): never => {
    const got = t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`;
    throw new ExprError(`expected ${what} at column ${t.pos + 1}, found ${got}`, src, t.pos);
  };
  const expect = (op: string) => {
    const t = peek();
    if (!isOp(t, op)) fail(t, `'${op}'`);
    k++;
  };

  function expr(): Node {
    const left = or();
    const t = peek();
    if (t.kind === 'op' && COMPARE.has(t.text)) {
      k++;
      return { type: 'binary', op: t.text, left, right: or(), pos: t.pos };
    }
    return left;
  }
  function leftAssoc(ops: string[], next: () => Node): () => Node {
    return () => {
      let left = next();
      for (;;) {
        const t = peek();
        if (t.kind !== 'op' || !ops.includes(t.text)) return left;
        k++;
        left = { type: 'binary', op: t.text, left, right: next(), pos: t.pos };
      }
    };
  }
  const unaryRef = () => unary();
  const term = leftAssoc(['*', '/', '%'], unaryRef);
  const sum = leftAssoc(['+', '-'], term);
  const and = leftAssoc(['&'], sum);
  const or = leftAssoc(['|'], and);

  function unary(): Node {
    const t = peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      k++;
      return { type: 'unary', op: t.text, arg: unary(), pos: t.pos };
    }
    if (t.kind === 'ident' && t.text === 'not') {
      k++;
      return { type: 'unary', op: '~', arg: unary(), pos: t.pos };
    }
    return postfix();
  }

  function postfix(): Node {
    let node = primary();
    for (;;) {
      const t = peek();
      if (isOp(t, '[')) {
        k++;
        const items: IndexItem[] = [item()];
        while (isOp(peek(), ',')) {
          k++;
          items.push(item());
        }
        expect(']');
        node = { type: 'index', obj: node, items, pos: t.pos };
      } else if (isOp(t, '.')) {
        k++;
        const name = peek();
        if (name.kind !== 'ident') fail(name, 'an attribute name after "."');
        k++;
        node = { type: 'attr', obj: node, name: name.text, pos: name.pos };
      } else if (isOp(t, '(')) {
        k++;
        const args: Node[] = [];
        if (!isOp(peek(), ')')) {
          args.push(expr());
          while (isOp(peek(), ',')) {
            k++;
            args.push(expr());
          }
        }
        expect(')');
        node = { type: 'call', callee: node, args, pos: t.pos };
      } else return node;
    }
  }

  function item(): IndexItem {
    const pos = peek().pos;
    const bound = (): Node | undefined => (isOp(peek(), ':') || isOp(peek(), ']') || isOp(peek(), ',') ? undefined : expr());
    const start = bound();
    if (!isOp(peek(), ':')) {
      if (!start) fail(peek(), 'an index');
      return start!;
    }
    k++;
    const stop = bound();
    let step: Node | undefined;
    if (isOp(peek(), ':')) {
      k++;
      step = bound();
    }
    return { type: 'slice', start, stop, step, pos };
  }

  function primary(): Node {
    const t = peek();
    if (t.kind === 'num') {
      k++;
      return { type: 'num', value: t.value as number, pos: t.pos, isInt: /^\d+$/.test(t.text) };
    }
    if (t.kind === 'str') {
      k++;
      return { type: 'str', value: t.value as string, pos: t.pos };
    }
    if (t.kind === 'ident') {
      k++;
      return { type: 'name', name: t.text, pos: t.pos };
    }
    if (isOp(t, '(')) {
      k++;
      const e = expr();
      expect(')');
      return e;
    }
    return fail(t, 'a number, a name or "("');
  }

  const root = expr();
  if (peek().kind !== 'end') fail(peek(), 'the end of the expression (or an operator)');
  return root;
}
