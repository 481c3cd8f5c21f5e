// Numbers for people, defined once for the CLI, the extension and the webview (no Node, no `vscode`: media/
// bundles it for the browser). The Debug Console's NumPy-style element text is a different job: it lives
// with the expression language (src/core/expr/values.ts).

/**
 * A metric or statistic: integers as they are, else 4 decimals for magnitudes in [1e-3, fixedBelow) and a
 * 3-digit exponent outside. NaN and infinities as JavaScript writes them.
 */
export function formatDecimal(v: number, fixedBelow = 1e6): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < fixedBelow ? v.toFixed(4) : v.toExponential(3);
}

/** A number in a narrow cell: integers as they are, else 4 significant digits, or a 2-digit exponent outside [1e-3, 1e5); "—" for nothing. */
export function formatCompact(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return String(+x.toPrecision(4));
}

/** A change between two values: "+0.03", "-1.2e-4", "±0". */
export function formatDelta(x: number): string {
  if (x === 0) return '±0';
  return (x > 0 ? '+' : '') + formatCompact(x);
}
