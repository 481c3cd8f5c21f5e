// Which Python interpreters this machine offers a metric (README "Which Python runs your metric"): the candidates
// on PATH, the default among them (the first with NumPy), and, when the one that ran lacks a module the metric
// imports, another that has it, so the error can name it instead of only telling the user to install.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

let chosenDefault: Promise<string> | undefined;

/** Every python3 on PATH, in PATH order (then the system one and `python`): the candidates of defaultPython. */
export function pythonCandidates(envPath = process.env.PATH ?? ''): string[] {
  const names = process.platform === 'win32' ? ['python.exe', 'python3.exe'] : ['python3'];
  const onPath = envPath
    .split(path.delimiter)
    .filter(Boolean)
    .flatMap((d) => names.map((n) => path.join(d, n)))
    .filter((p) => {
      try {
        return fs.statSync(p).isFile();
      } catch {
        return false;
      }
    });
  return [...new Set([...onPath, '/usr/bin/python3', 'python'])];
}

/**
 * The interpreter when none is configured: $EVALPRED_PYTHON, else the first python3 on PATH that imports
 * NumPy (pyenv's python3 often lacks it while the system one has it), else python3, whose error then says
 * what to install. Probed once per process.
 */
export function defaultPython(): Promise<string> {
  if (process.env.EVALPRED_PYTHON) return Promise.resolve(process.env.EVALPRED_PYTHON);
  chosenDefault ??= (async () => {
    for (const candidate of pythonCandidates()) {
      const ok = await new Promise<boolean>((resolve) =>
        execFile(candidate, ['-c', 'import numpy'], { timeout: 30_000 }, (err) => resolve(!err)),
      );
      if (ok) return candidate;
    }
    return 'python3';
  })();
  return chosenDefault;
}

// Exits 0 when every module named after it can be found; find_spec looks without importing, so no module's code runs.
const PROBE = `import sys, importlib.util as u
def found(m):
    try:
        return u.find_spec(m) is not None
    except Exception:
        return False
sys.exit(0 if all(found(m) for m in sys.argv[1:]) else 1)`;

function hasModules(python: string, modules: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile(python, ['-c', PROBE, ...modules], { timeout: 10_000 }, (err) => resolve(!err)));
}

/**
 * The first of `candidates` (default: pythonCandidates()) other than `ran`, the interpreter that lacked one of
 * `modules`, that has them all; undefined when none has. Each is asked as the runner would start it, so a
 * pyenv shim in front of the same binary, or the same binary run without its site-packages, says no.
 */
export async function otherInterpreterWith(modules: string[], ran: string, candidates = pythonCandidates()): Promise<string | undefined> {
  for (const candidate of candidates) if (candidate !== ran && (await hasModules(candidate, modules))) return candidate;
  return undefined;
}
