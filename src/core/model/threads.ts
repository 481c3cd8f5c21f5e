// How many threads onnxruntime may use for one operator in the evaluation loop, and whether they spin
// (docs/architecture.md#onnxruntime-threads). onnxruntime's default is one thread per physical core, each
// spinning between operators. That is right on an idle machine and badly wrong on a busy one: a spinning
// thread burns a core the feeder thread (tokenization ahead), the host or another program needs, and a
// pool thread that is descheduled makes every operator wait for it (issue 12: 2.4x slower than one thread
// with 13 runnable threads on 2 cores). So the loop's sessions never spin, and take fewer threads when other
// programs' threads are running at the moment the model is opened.
import fs from 'node:fs';
import os from 'node:os';
import type * as ort from 'onnxruntime-node';

/** The session options for the loop's threads: no spinning, and the thread count for `load` (or as given). */
export function loopThreadOptions(intraOpNumThreads?: number, load: () => MachineLoad = machineLoad): ort.InferenceSession.SessionOptions {
  const threads = intraOpNumThreads ?? intraOpThreadsFor(load());
  return {
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
  };
}

export interface MachineLoad {
  /** Logical CPUs this process may use (os.availableParallelism()). */
  cpus: number;
  /** Physical cores among them (onnxruntime's default thread count), when known. */
  physicalCores?: number;
  /** Threads of other processes runnable right now (median of a few samples), when known. */
  othersRunnable?: number;
}

/**
 * The intra-op thread count for `load`: undefined (onnxruntime's default, one per physical core) on an idle
 * machine or when nothing is known; else the cores other programs leave free, at least 1 and at most the
 * physical cores.
 */
export function intraOpThreadsFor(load: MachineLoad): number | undefined {
  const others = load.othersRunnable;
  if (others === undefined || others <= 0) return undefined;
  const cores = load.physicalCores ?? load.cpus;
  return Math.max(1, Math.min(cores, load.cpus - others));
}

/** The machine as it is now. Other programs' runnable threads are known on Linux only (/proc); elsewhere undefined. */
export function machineLoad(samples = 5): MachineLoad {
  const cpus = os.availableParallelism();
  return { cpus, physicalCores: physicalCores(), othersRunnable: othersRunnable(samples) };
}

/** /proc/stat's procs_running (every runnable thread on the machine) minus this process's own running threads. */
function othersRunnable(samples: number): number | undefined {
  const counts: number[] = [];
  for (let i = 0; i < samples; i++) {
    let all: number, own = 0;
    try {
      const m = /^procs_running (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'));
      if (!m) return undefined;
      all = Number(m[1]);
      for (const tid of fs.readdirSync('/proc/self/task')) {
        try {
          // "<tid> (<name>) <state> ...": the name may hold spaces or parentheses, the state follows the last ")".
          const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
          if (stat[stat.lastIndexOf(')') + 2] === 'R') own++;
        } catch {
          /* the thread ended meanwhile */
        }
      }
    } catch {
      return undefined;
    }
    counts.push(Math.max(0, all - Math.max(1, own)));
  }
  counts.sort((a, b) => a - b);
  return counts[Math.floor(counts.length / 2)];
}

/** Distinct (physical id, core id) pairs in /proc/cpuinfo; undefined where there is no such file. */
function physicalCores(): number | undefined {
  try {
    const cores = new Set<string>();
    for (const block of fs.readFileSync('/proc/cpuinfo', 'latin1').split(/\n\s*\n/)) {
      const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1] ?? '0';
      const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
      if (core !== undefined) cores.add(`${phys}/${core}`);
    }
    return cores.size || undefined;
  } catch {
    return undefined;
  }
}
