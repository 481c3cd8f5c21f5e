// Finds a Python 3 with NumPy for cross-checks (CI installs Debian's python3-numpy/python3-sklearn,
// which land in /usr/bin/python3, while PATH may point at another interpreter). Never skips: a test
// that needs NumPy fails with a message saying how to install it.
import { execFileSync, spawnSync } from 'node:child_process';

let cached: string | undefined;

export function pythonWith(modules: string[] = ['numpy']): string {
  if (cached && modules.length <= 1) return cached;
  const candidates = [process.env.EVALPRED_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'], { encoding: 'utf8' });
    if (r.status === 0) {
      if (modules.length <= 1) cached = py;
      return py;
    }
  }
  throw new Error(
    `no Python with ${modules.join(', ')} found (tried ${candidates.join(', ')}); ` +
      `install Debian's python3-numpy python3-sklearn or set EVALPRED_PYTHON`,
  );
}

/** Run a Python snippet with the interpreter above; returns stdout. */
export function runPython(code: string, modules: string[] = ['numpy'], cwd?: string): string {
  return execFileSync(pythonWith(modules), ['-c', code], { encoding: 'utf8', cwd, maxBuffer: 64 << 20 });
}
