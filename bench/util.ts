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

/** Peak resident set size (MB) while `fn` runs, sampled every 10 ms (worker threads share the process's RSS). */
export async function peakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** The process's peak RSS so far (MB), as the kernel counts it. */
export function processPeakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
