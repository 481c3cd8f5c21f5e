// Peak resident memory of a child Node process (the built CLI), measured inside it: a --require'd probe
// writes the process's peak (kilobytes) to a file when it exits.
//
// The peak is /proc/self/status's VmHWM, the high-water mark of the memory the process has had since its exec.
// Not process.resourceUsage().maxRSS: on Linux that keeps the pre-exec image's peak, and a spawned child starts
// as a fork of its parent, so a child of a 1 GB parent reports at least 1 GB (a bench that ran a big model first
// measured `evalpred --version` at 958 MB). Elsewhere (no /proc) maxRSS is what there is.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MeasuredRun {
  code: number | null;
  stderr: string;
  /** Peak RSS in megabytes (MiB). */
  peakMb: number;
  /** The processes it started (a Python metric runner, esbuild's service), polled every 20 ms from /proc while the
   *  run lasts; undefined where there is no /proc. */
  children?: ChildPeak[];
}

export interface ChildPeak {
  /** The process's name (/proc/PID/comm: python3, esbuild, ...). */
  name: string;
  /** Its peak resident memory (VmHWM), MiB: memory-mapped file pages it read count too. */
  peakMb: number;
  /** The largest anonymous resident memory seen in the samples (RssAnon), MiB: what it allocated itself. */
  anonPeakMb: number;
}

export function runMeasured(script: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<MeasuredRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-rss-'));
  const probe = path.join(dir, 'probe.js');
  const out = path.join(dir, 'rss');
  fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, String(${PEAK_RSS_KB_JS})));\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', probe, script, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const children = fs.existsSync('/proc/self/status') && child.pid !== undefined ? new DescendantPeaks(child.pid) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children?.stop();
      const kb = fs.existsSync(out) ? Number(fs.readFileSync(out, 'utf8')) : NaN;
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, stderr, peakMb: kb / 1024, children: children?.peaks() });
    });
  });
}

/** JavaScript for the process's peak resident memory in kilobytes since its exec (see the note at the top): the
 *  probe's text, self-contained, and peakRssKb's. */
const PEAK_RSS_KB_JS =
  "(() => { try { const m = /^VmHWM:\\s*(\\d+) kB/m.exec(require('fs').readFileSync('/proc/self/status', 'latin1')); if (m) return Number(m[1]); } catch {} return process.resourceUsage().maxRSS; })()";

/** This process's peak resident memory in kilobytes, since its exec. */
export function peakRssKb(): number {
  return new Function('require', `return ${PEAK_RSS_KB_JS}`)(require) as number;
}

/** The peaks of a process's descendants, polled: each one's own peak (VmHWM) is read while it lives. */
class DescendantPeaks {
  private readonly seen = new Map<number, ChildPeak>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly root: number) {
    this.timer = setInterval(() => this.sample(), 20);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  peaks(): ChildPeak[] {
    return [...this.seen.values()];
  }

  private sample(): void {
    const parentOf = new Map<number, number>();
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after its last ')'
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
        parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // gone since the listing
      }
    }
    for (const [pid] of parentOf) {
      let p = parentOf.get(pid);
      while (p !== undefined && p !== this.root && p > 1) p = parentOf.get(p);
      if (p !== this.root) continue;
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
        const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
        const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? String(pid);
        const prev = this.seen.get(pid);
        this.seen.set(pid, { name, peakMb: Math.max(prev?.peakMb ?? 0, kb('VmHWM')), anonPeakMb: Math.max(prev?.anonPeakMb ?? 0, kb('RssAnon')) });
      } catch {
        // exited between the two reads
      }
    }
  }
}
