// Which values reach a tokenizer decode still holding -100, followed through the metric source by data flow
// rather than by variable names (docs/trainer-semantics.md#the-decode-trap): a value is clean once any form
// removes -100 from it (np.where(x != -100, x, pad), x[x == -100] = pad, np.maximum(x, 0), clip, a TS
// `.map(v => v === -100 ? pad : v)`, a filter `if t != -100`), and assignments, loops and zips carry that along.
// Line-based over statements (brackets joined), which is what metric files look like; no parser needed.

/** The EvalPrediction fields a variable can come from. */
export type EvalField = 'predictions' | 'label_ids' | 'inputs';

export interface DecodeSite {
  /** 1-based line of the decode call. */
  line: number;
  /** The variable (or expression) handed to decode, as written. */
  variable: string;
  /** -100 was removed from that value before the decode. */
  clean: boolean;
  /** The EvalPrediction field it comes from, when the source shows it. */
  field?: EvalField;
}

interface VarState {
  clean: boolean;
  field?: EvalField;
}

const IDENT = /[A-Za-z_$][\w$]*/g;
const KEYWORDS = new Set(['for', 'in', 'if', 'else', 'not', 'and', 'or', 'is', 'None', 'True', 'False', 'lambda', 'return', 'const', 'let', 'var', 'new', 'of', 'await', 'def', 'function', 'np', 'numpy', 'tokenizer', 'torch', 'Math', 'Array', 'true', 'false', 'null', 'undefined']);

/** An expression that removes -100 (or every negative id) from the value it computes. */
export function removesMinus100(expr: string): boolean {
  return (
    /(?:[!=]==?|<>)\s*\(?\s*-\s*100\b|-\s*100\s*\)?\s*(?:[!=]==?|<>)/.test(expr) || // x != -100, x == -100 (masks, where, ternaries, filters)
    /\b(?:np\.|numpy\.|torch\.)?maximum\s*\((?:[^()]|\([^()]*\))*,\s*0\s*\)|\bmaximum\s*\(\s*0\s*,/.test(expr) || // np.maximum(x, 0)
    /\bMath\.max\s*\(\s*(?:0\s*,|[^,()]+,\s*0\s*\))/.test(expr) || // Math.max(v, 0)
    /\.clip\s*\(\s*(?:min\s*=\s*)?0\b|\bclip\s*\([^,()]+,\s*0\b|\.clamp\s*\(\s*(?:min\s*=\s*)?0\b/.test(expr) || // x.clip(0), np.clip(x, 0, n), clamp(min=0)
    /[<>]=?\s*0\b/.test(expr) && /\bwhere\b|\?|\bif\b/.test(expr) // np.where(x < 0, pad, x), v < 0 ? pad : v
  );
}

const FIELD_ATTR: [RegExp, EvalField][] = [
  [/\.(?:predictions)\b/, 'predictions'],
  [/\.(?:label_ids|labelIds)\b/, 'label_ids'],
  [/\.(?:inputs)\b/, 'inputs'],
];

/** Source statements with the 1-based line each starts on; bracketed continuations are joined. */
function statements(src: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let cur = '';
  let start = 0;
  let depth = 0;
  src.split('\n').forEach((raw, i) => {
    const l = raw.replace(/(^|\s)(#|\/\/).*$/, '');
    if (!cur) start = i + 1;
    cur += (cur ? ' ' : '') + l.trim();
    // braces are left out: a TS function body is not one statement
    for (const ch of l) depth += '(['.includes(ch) ? 1 : ')]'.includes(ch) ? -1 : 0;
    if (depth <= 0) {
      if (cur.trim()) out.push({ line: start, text: cur.replace(/;\s*$/, '') });
      cur = '';
      depth = 0;
    }
  });
  if (cur.trim()) out.push({ line: start, text: cur });
  return out;
}

/** Splits `a, b` at top-level commas. */
function topLevelParts(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if ('([{'.includes(ch)) depth++;
    if (')]}'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

/** The text inside the brackets opened just before `from` (s[from - 1] === '('). */
function bracketed(s: string, from: number): string {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '(') depth++;
    if (s[i] === ')' && --depth === 0) return s.slice(from, i);
  }
  return s.slice(from);
}

const FIELD_ORDER: EvalField[] = ['predictions', 'label_ids', 'inputs'];

export function decodeSites(src: string): DecodeSite[] {
  const vars = new Map<string, VarState>();
  const sites: DecodeSite[] = [];
  /** Variables assigned from a -100 comparison (`mask = labels == -100`), so that `x[mask] = pad` is understood. */
  const maskDefs = new Set<string>();
  const stateOf = (expr: string): VarState => {
    const field = FIELD_ATTR.find(([re]) => re.test(expr))?.[1];
    const names = (expr.match(IDENT) ?? []).filter((n) => !KEYWORDS.has(n) && vars.has(n));
    const known = names.map((n) => vars.get(n)!);
    return {
      clean: removesMinus100(expr) || (known.length > 0 && known.some((k) => k.clean) && !known.some((k) => !k.clean && k.field)),
      field: field ?? known.find((k) => k.field)?.field,
    };
  };
  /** `for a, b in zip(x, y)` / `for a in x` (statements and comprehensions) and TS `.map((row) =>` callbacks. */
  const bindLoops = (text: string) => {
    for (const m of text.matchAll(/\bfor\s+\(?([\w\s,]+?)\)?\s+in\s+(zip\s*\(|[\w.$]+(?:\[[^\]]*\])?)/g)) {
      const targets = m[1].split(',').map((t) => t.trim()).filter(Boolean);
      if (m[2].startsWith('zip')) {
        const sources = topLevelParts(bracketed(text, m.index! + m[0].length));
        targets.forEach((t, i) => sources[i] !== undefined && vars.set(t, stateOf(sources[i])));
      } else if (targets.length === 1) vars.set(targets[0], stateOf(m[2]));
    }
    for (const m of text.matchAll(/([\w$.]+(?:\[[^\]]*\])?)\s*\.\s*map\s*\(\s*\(?\s*([\w$]+)/g)) vars.set(m[2], stateOf(m[1]));
  };

  for (const { line, text } of statements(src)) {
    bindLoops(text);
    // decode calls in this statement, judged before its own assignment takes effect
    for (const m of text.matchAll(/\b(?:batch_)?decode\s*\(/g)) {
      const arg = topLevelParts(bracketed(text, m.index! + m[0].length))[0] ?? '';
      const s = stateOf(arg);
      sites.push({ line, variable: arg.replace(/\.tolist\(\)$/, ''), clean: s.clean, field: s.field });
    }
    const destructure = text.match(/^(?:const|let|var)?\s*\{\s*([^}]*)\}\s*=\s*(.+)$/);
    if (destructure) {
      for (const part of destructure[1].split(',')) {
        const [key, alias] = part.split(':').map((x) => x.trim());
        if (key) vars.set(alias || key, { clean: false, field: FIELD_ATTR.find(([re]) => re.test('.' + key))?.[1] });
      }
      continue;
    }
    const assign = text.match(/^(?:const|let|var)?\s*\(?\s*([\w$]+(?:\s*,\s*[\w$*]+)*)\s*\)?\s*(?::\s*[^=]+)?=(?!=)\s*(.+)$/);
    if (assign) {
      const targets = assign[1].split(',').map((t) => t.trim().replace(/^\*/, ''));
      const rhs = assign[2];
      if (targets.length === 1 && removesMinus100(rhs)) maskDefs.add(targets[0]);
      if (targets.length > 1 && /^[\w$.]+$/.test(rhs.trim()) && !vars.has(rhs.trim())) {
        // preds, labels = eval_pred (EvalPrediction unpacks in field order)
        targets.forEach((t, i) => vars.set(t, { clean: false, field: FIELD_ORDER[i] }));
      } else if (targets.length > 1) {
        const parts = topLevelParts(rhs.replace(/^\(|\)$/g, ''));
        targets.forEach((t, i) => vars.set(t, stateOf(parts[i] ?? rhs)));
      } else vars.set(targets[0], stateOf(rhs));
      continue;
    }
    // in-place: x[x == -100] = pad, x[mask] = pad, np.putmask(x, x == -100, pad), np.place, masked_fill_
    const subAssign = text.match(/^([\w$]+)\s*\[(.+)\]\s*=(?!=)/);
    if (subAssign && vars.has(subAssign[1])) {
      const idx = subAssign[2];
      const maskNames = (idx.match(IDENT) ?? []).filter((n) => n !== subAssign[1]);
      const maskRemoves = removesMinus100(idx) || maskNames.some((n) => maskDefs.has(n));
      if (maskRemoves) vars.get(subAssign[1])!.clean = true;
    }
    const inPlace = text.match(/\b(?:np\.)?(?:putmask|place|copyto)\s*\(\s*([\w$]+)\s*,(.*)$/) ?? text.match(/\b([\w$]+)\.masked_fill_\s*\((.*)$/);
    if (inPlace && vars.has(inPlace[1]) && (removesMinus100(inPlace[2]) || (inPlace[2].match(IDENT) ?? []).some((n) => maskDefs.has(n)))) vars.get(inPlace[1])!.clean = true;
  }
  return sites;
}
