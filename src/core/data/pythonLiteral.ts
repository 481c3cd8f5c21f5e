// pandas' to_csv writes list and dict cells with Python's repr (['EU', 'rejects'], {'text': ['a']}), not JSON.
// This turns such a literal into JSON text (quotes, True/False/None) so it can be parsed back.

/** JSON text for a Python list/dict literal of strings, numbers, booleans and None; undefined if it is not one. */
export function pythonLiteralToJson(s: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === "'" || c === '"') {
      // A Python string: read to the matching unescaped quote, decode the common escapes, emit as JSON.
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= s.length) return undefined;
        const d = s[j];
        if (d === c) break;
        if (d === '\\') {
          const e = s[j + 1];
          const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
          if (e !== undefined && e in simple) {
            value += simple[e];
            j += 2;
          } else if (e === 'x' || e === 'u') {
            const len = e === 'x' ? 2 : 4;
            const hex = s.slice(j + 2, j + 2 + len);
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return undefined;
            value += String.fromCharCode(parseInt(hex, 16));
            j += 2 + len;
          } else return undefined;
          continue;
        }
        value += d;
        j++;
      }
      out += JSON.stringify(value);
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))![0];
      const json = { True: 'true', False: 'false', None: 'null' }[word];
      if (json === undefined) return undefined; // nan, array(...), or anything else we cannot represent safely
      out += json;
      i += word.length;
    } else if (c === '(' || c === ')') {
      return undefined; // tuples/calls: not a plain list literal
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
