// Shared by the benchmarks: timing and a printed table (ratios are measured side by side in one run).
import { peakRssKb } from '../test/helpers/peakRss';
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

/** The process's peak RSS so far (MB), since its exec (test/helpers/peakRss.ts says why not resourceUsage's maxRSS). */
export function processPeakRssMb(): number {
  return peakRssKb() / 1024;
}

/**
 * A per-phase breakdown of several runs of one start-up: each step's median time since the run's t0, and the
 * step since the previous one (marks are { name, at } with `at` in ms since the epoch; src/debug/startupTimeline.ts).
 */
export function printTimeline(title: string, runs: { t0: number; marks: { name: string; at: number }[] }[]): void {
  const offsets = new Map<string, number[]>();
  for (const { t0, marks } of runs) for (const m of marks) offsets.set(m.name, [...(offsets.get(m.name) ?? []), m.at - t0]);
  const rows = [...offsets].map(([name, xs]) => ({ name, at: median(xs), n: xs.length })).sort((a, b) => a.at - b.at);
  const w = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`\n${title}\n  ${'step'.padEnd(w)}  ${'since t0'.padStart(11)}  ${'since previous'.padStart(14)}\n`);
  let prev = 0;
  for (const r of rows) {
    const seen = r.n < runs.length ? `  (${r.n} of ${runs.length} runs)` : '';
    process.stdout.write(`  ${r.name.padEnd(w)}  ${r.at.toFixed(1).padStart(8)} ms  ${(r.at - prev).toFixed(1).padStart(11)} ms${seen}\n`);
    prev = r.at;
  }
}
