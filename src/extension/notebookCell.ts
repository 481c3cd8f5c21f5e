// A compute_metrics defined in a Jupyter notebook cell, as a module evalpred's Python worker can load
// (README "Notebooks"): the imports of the cells above it (top-level `import` / `from … import` lines, so
// `np` and `accuracy_score` from an earlier cell resolve), then the cell itself. IPython's `%magic` and
// `!shell` lines are commented out (same line count): they are not Python. Nothing else of the earlier
// cells runs: their data loading or training must not run again to compute a metric. Each line of the
// module remembers where it came from, so an error is reported at the cell and line it is on.
// No `vscode` import: test/unit/notebookCell.test.ts drives it in plain Node.

export interface CellOrigin {
  /** 0-based index of the cell in the notebook. */
  cell: number;
  /** 1-based line in that cell. */
  line: number;
}

export interface CellModule {
  text: string;
  /** origins[k] is where line k + 1 of `text` came from. */
  origins: CellOrigin[];
}

const MAGIC = /^\s*[%!]/;

/** The module for the cell at index `cellIndex`, given the source of every code cell before it (index, text). */
export function cellModule(preceding: { index: number; text: string }[], cellIndex: number, cellText: string): CellModule {
  const lines: string[] = [];
  const origins: CellOrigin[] = [];
  for (const { index, text } of preceding) {
    const src = text.split(/\r?\n/);
    for (let i = 0; i < src.length; i++) {
      if (!/^(import\s+\S|from\s+\S+\s+import\s)/.test(src[i])) continue;
      // A parenthesised import runs to its closing parenthesis; a backslash continues onto the next line.
      let j = i;
      if (/\(\s*(#.*)?$/.test(src[i]) && !src[i].includes(')')) while (j + 1 < src.length && !src[j].includes(')')) j++;
      while (/\\\s*$/.test(src[j]) && j + 1 < src.length) j++;
      for (let k = i; k <= j; k++) {
        lines.push(src[k]);
        origins.push({ cell: index, line: k + 1 });
      }
      i = j;
    }
  }
  cellText.split(/\r?\n/).forEach((l, i) => {
    lines.push(MAGIC.test(l) ? `# ${l}` : l);
    origins.push({ cell: cellIndex, line: i + 1 });
  });
  return { text: lines.join('\n') + '\n', origins };
}

/** Where line `line` (1-based) of the module came from; undefined outside it. */
export function originOf(m: CellModule, line: number): CellOrigin | undefined {
  return m.origins[line - 1];
}

/**
 * An error message from running the module (it starts "<module file>:<line>: …", src/core/metrics/pyRunner.ts)
 * in the notebook's terms: "<notebook> cell N, line M: …".
 */
export function atCell(message: string, moduleFile: string, line: number, origin: CellOrigin, notebook: string): string {
  const at = `${notebook} cell ${origin.cell + 1}, line ${origin.line}`;
  const base = moduleFile.split(/[\\/]/).pop()!;
  const prefix = `${base}:${line}`;
  return message.startsWith(prefix) ? at + message.slice(prefix.length) : `${at}: ${message}`;
}
