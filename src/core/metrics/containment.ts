// What keeps a user's metric inside its box (issue 9 item 3; docs in README "Trust"): the memory limit
// both runners apply through the OS, the output cap, and ending every process a metric run left behind.
// A metric worker is spawned detached, so it leads its own process group (and session); after each run
// everything in that group, and every process descending from the worker, is killed. Processes that
// leave both (setsid, then their parent exits) are caught for Python (the worker is a child subreaper
// on Linux) but not for TS/JS: Node has no prctl.
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

/** Output a metric run may print before the rest is dropped (counted, not kept). */
export const OUTPUT_CAP_BYTES = 1024 * 1024;

/** Default memory limit for a metric process: half of physical memory. */
export function defaultMemoryLimitMb(): number {
  return Math.max(256, Math.floor(os.totalmem() / 1024 / 1024 / 2));
}

/** The limit to apply: the caller's (validated), else the default. */
export function memoryLimitMb(requested: number | undefined): number {
  if (requested === undefined) return defaultMemoryLimitMb();
  if (!Number.isInteger(requested) || requested < 64) {
    throw new RangeError(`memory limit must be an integer number of MB >= 64, got ${requested}`);
  }
  return requested;
}

/** The one sentence every "out of memory" report starts with. */
export function overMemoryMessage(shownFile: string, limitMb: number): string {
  return (
    `${shownFile}: your metric used more than ${limitMb} MB of memory and was stopped. Raise the limit ` +
    `(--memory-limit-mb / launch attribute metricMemoryLimitMb), or avoid materialising large arrays; the next run starts clean.`
  );
}

/**
 * Text as printed, at most `cap` bytes of it, then how much was left out. The workers cap what they capture
 * themselves (and add that line); the hosts apply this as a backstop, so text that already ends with the
 * line is left as it is.
 */
export function capOutput(text: string, cap = OUTPUT_CAP_BYTES): string {
  if (/\n… \d+ bytes more not shown\n$/.test(text.slice(-80)) && Buffer.byteLength(text, 'utf8') <= cap + 80) return text;
  if (text.length <= cap / 4) return text; // cheap exit: even 4-byte characters fit
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= cap) return text;
  const kept = Buffer.from(text, 'utf8').subarray(0, cap).toString('utf8').replace(/\uFFFD$/, '');
  return `${kept}\n… ${bytes - Buffer.byteLength(kept, 'utf8')} bytes more not shown\n`;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  zombie: boolean;
}

function listProcesses(): ProcInfo[] {
  if (process.platform === 'linux') {
    const out: ProcInfo[] = [];
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(name), ppid: Number(f[1]), pgid: Number(f[2]), sid: Number(f[3]), zombie: f[0] === 'Z' });
    }
    return out;
  }
  if (process.platform === 'win32') return [];
  try {
    const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8', timeout: 5000 });
    return text
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 4)
      .map((f) => ({ pid: Number(f[0]), ppid: Number(f[1]), pgid: Number(f[2]), sid: Number.NaN, zombie: f[3].startsWith('Z') }));
  } catch {
    return [];
  }
}

/** Processes of a worker's box: its process group and session, and everything descending from it. */
export function leftoverProcesses(worker: number): number[] {
  const procs = listProcesses();
  const inBox = new Set<number>();
  for (const p of procs) if (p.pid !== worker && !p.zombie && (p.pgid === worker || p.sid === worker)) inBox.add(p.pid);
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const zombies = new Set(procs.filter((p) => p.zombie).map((p) => p.pid));
  const stack = [...(children.get(worker) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    if (!zombies.has(pid)) inBox.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...inBox];
}

/** Linux: does the process have any child right now (zombies included)? Cheap: a few small reads. */
function hasChildren(pid: number): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return fs.readdirSync(`/proc/${pid}/task`).some((tid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    });
  } catch {
    return undefined;
  }
}

/**
 * Kill what a metric run left running beside its worker (the worker itself stays warm). A few rounds,
 * because a dying parent's children can be reparented while we look. `orphansPossible: false` (the worker
 * is a subreaper, or started nothing) lets a worker without children skip the scan of every process.
 */
export function endLeftovers(worker: number, orphansPossible = true): number {
  if (!orphansPossible && hasChildren(worker) === false) return 0;
  let killed = 0;
  for (let round = 0; round < 5; round++) {
    const pids = leftoverProcesses(worker);
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        /* already gone */
      }
    }
  }
  return killed;
}

/** Kill a worker with its whole box: the process group it leads, then any descendant outside it. */
export function endWorkerBox(worker: number | undefined): void {
  if (!worker) return;
  const rest = process.platform === 'win32' ? [] : leftoverProcesses(worker);
  try {
    process.kill(process.platform === 'win32' ? worker : -worker, 'SIGKILL');
  } catch {
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const pid of rest) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * The command line that starts `argv` under an address-space limit (RLIMIT_AS, `ulimit -v` in KiB).
 * POSIX shells only; on Windows the limit is the runtime's own (heap size), not the OS's.
 */
export function underAddressSpaceLimit(argv: string[], limitMb: number): { command: string; args: string[] } {
  if (process.platform === 'win32') return { command: argv[0], args: argv.slice(1) };
  return { command: '/bin/sh', args: ['-c', `ulimit -v ${Math.floor(limitMb * 1024)} && exec "$0" "$@"`, ...argv] };
}
