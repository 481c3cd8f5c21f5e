// Shared by the benchmarks: timing and a printed table (ratios are measured side by side in one run).
export async function timeIt(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** rows: [label, milliseconds or a number, ratio, verdict] */
export function printTable(title: string, rows: [string, number, string, string][], unit = 'ms'): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n${title}\n`);
  for (const [label, v, ratio, verdict] of rows) {
    process.stdout.write(`  ${label.padEnd(w)}  ${v.toFixed(1).padStart(9)} ${unit}  ${ratio.padStart(6)}  ${verdict}\n`);
  }
}
