// How many threads onnxruntime may use for one operator in the evaluation loop, and whether they spin
// (docs/architecture.md#onnxruntime-threads). onnxruntime's default is one thread per physical core, each
// spinning between operators. That is right on an idle machine and badly wrong on a busy one: a spinning
// thread burns a core another program needs, and a pool thread that is descheduled makes every operator wait
// for it (issue 12: 2.4x slower than one thread with 13 runnable threads on 2 cores). So when other programs
// kept the cores busy while the loop worker started (from its start to the model's opening), the loop's
// session takes the cores they left free, and its threads do not spin; on a free machine it keeps the defaults.
import fs from 'node:fs';
import os from 'node:os';
import type * as ort from 'onnxruntime-node';

const NO_SPIN = { session: { intra_op: { allow_spinning: '0' } } };

/** EVALPRED_LANES: a lane count that overrides the machine's (1 turns lanes off); undefined when unset or not a whole number. */
export function lanesFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const n = Number(env.EVALPRED_LANES);
  return env.EVALPRED_LANES && Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * The session options for the loop's threads: onnxruntime's defaults when the CPUs are free, else the thread
 * count for `load` and no spinning (also when a count is given).
 */
export function loopThreadOptions(intraOpNumThreads?: number, load: () => MachineLoad = runLoad): ort.InferenceSession.SessionOptions {
  const threads = intraOpNumThreads ?? intraOpThreadsFor(load());
  if (threads === undefined) return {};
  return { intraOpNumThreads: threads, extra: NO_SPIN };
}

/**
 * What a run's model sessions look like: the loop thread's own session, and how many lanes run batches side by
 * side beside it with which thread options (docs/architecture.md#inference-lanes).
 */
export interface LanePlan {
  /** The loop thread's session: the options it would have without lanes (it runs the batches until a lane is open). */
  options: ort.InferenceSession.SessionOptions;
  /** 1: no lanes. */
  lanes: number;
  laneOptions?: ort.InferenceSession.SessionOptions;
}

/** Lanes at most: the memory of the model's weights is paid once per lane. */
const MAX_LANES = 2;

/**
 * Lanes for a loop session. The threads the machine gives the loop (its physical cores when free, the cores others
 * left free when busy) are split between MAX_LANES sessions, when there are two or more of them, the run asked for
 * lanes (`wanted`: long enough, on the CPU), no thread count was given, and the model's weights fit in the free
 * memory twice for each session (the lanes' and the loop thread's own; onnxruntime prepacks some weights).
 */
export function loopLanePlan(
  o: { wanted: boolean; forced?: number; intraOpNumThreads?: number; modelBytes: number; freeMemoryBytes: number },
  load: () => MachineLoad = runLoad,
): LanePlan {
  const options = loopThreadOptions(o.intraOpNumThreads, load);
  // EVALPRED_LANES (lanesFromEnv): that many lanes of one thread each (or of the threads given); 1: none.
  if (o.forced !== undefined) return o.forced > 1 ? { options, lanes: o.forced, laneOptions: loopThreadOptions(o.intraOpNumThreads ?? 1, load) } : { options, lanes: 1 };
  if (!o.wanted || o.intraOpNumThreads !== undefined || o.modelBytes * (MAX_LANES + 1) * 2 > o.freeMemoryBytes) return { options, lanes: 1 };
  const m = load();
  const busy = intraOpThreadsFor(m);
  const threads = busy ?? m.physicalCores ?? m.cpus;
  if (threads < 2) return { options, lanes: 1 };
  const perLane = Math.floor(threads / MAX_LANES);
  // Spinning (onnxruntime's default) only where the machine was free, as for one session; one thread has no pool to spin.
  return { options, lanes: MAX_LANES, laneOptions: busy === undefined || perLane === 1 ? { intraOpNumThreads: perLane } : { intraOpNumThreads: perLane, extra: NO_SPIN } };
}

let firstLoad: MachineLoad | undefined;
/**
 * The machine as the run's first session found it. A run opens up to three sessions one after another (a seq2seq
 * export's encoder, decoder and decoder with past); a new window per session would judge the second and third by
 * a few milliseconds, too short to tell, so they would keep the spinning defaults on a busy machine.
 */
const runLoad = (): MachineLoad => (firstLoad ??= machineLoad());

export interface MachineLoad {
  /** Logical CPUs this process may use (os.availableParallelism()). */
  cpus: number;
  /** Physical cores among them (onnxruntime's default thread count), when known. */
  physicalCores?: number;
  /** CPUs' worth of time other programs left free over the last window (idle, or used by this process), when known. */
  freeCores?: number;
}

/**
 * The intra-op thread count for `load`: undefined (onnxruntime's default, one per physical core) when the
 * CPUs were free or nothing is known; else the free cores rounded, at least 1 and at most the physical cores.
 */
export function intraOpThreadsFor(load: MachineLoad): number | undefined {
  const free = load.freeCores;
  if (free === undefined || free >= load.cpus - 0.5) return undefined;
  return Math.max(1, Math.min(load.physicalCores ?? load.cpus, Math.round(free)));
}

/** A reading of the machine's CPU time (/proc/stat, in clock ticks) and this process's own (all its threads). */
interface CpuReading {
  atMs: number;
  idleTicks: number;
  totalTicks: number;
  onlineCpus: number;
  ownMicros: number;
}

/** Windows shorter than this say too little (the kernel counts in 10 ms ticks). */
const MIN_WINDOW_MS = 50;

// The first window starts when this module loads: in the loop worker, at the worker's start.
let windowStart: CpuReading | undefined = readCpu();

/**
 * The machine over the window since the previous call (or since this module loaded). Free cores are known on
 * Linux only (/proc/stat); elsewhere, or after a window too short to tell, undefined (onnxruntime's default).
 */
export function machineLoad(): MachineLoad {
  const now = readCpu();
  const from = windowStart;
  windowStart = now;
  let freeCores: number | undefined;
  if (now && from && now.atMs - from.atMs >= MIN_WINDOW_MS && now.totalTicks > from.totalTicks) {
    const idle = ((now.idleTicks - from.idleTicks) / (now.totalTicks - from.totalTicks)) * now.onlineCpus;
    const own = (now.ownMicros - from.ownMicros) / 1000 / (now.atMs - from.atMs);
    freeCores = Math.min(now.onlineCpus, idle + own);
  }
  return { cpus: os.availableParallelism(), physicalCores: physicalCores(), freeCores };
}

function readCpu(): CpuReading | undefined {
  try {
    const stat = fs.readFileSync('/proc/stat', 'latin1');
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
    const m = /^cpu\s+(.+)$/m.exec(stat);
    if (!m) return undefined;
    const t = m[1].trim().split(/\s+/).map(Number);
    const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
    const usage = process.cpuUsage();
    return { atMs: performance.now(), idleTicks: t[3] + (t[4] ?? 0), totalTicks: total, onlineCpus: (stat.match(/^cpu\d+ /gm) ?? []).length || 1, ownMicros: usage.user + usage.system };
  } catch {
    return undefined;
  }
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
