// Peak resident memory of a child Node process (the built CLI), measured inside it: a --require'd probe
// writes process.resourceUsage().maxRSS (kilobytes, the whole process lifetime) to a file when it exits.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MeasuredRun {
  code: number | null;
  stderr: string;
  /** Peak RSS in megabytes (MiB). */
  peakMb: number;
}

export function runMeasured(script: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<MeasuredRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-rss-'));
  const probe = path.join(dir, 'probe.js');
  const out = path.join(dir, 'rss');
  fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', probe, script, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const kb = fs.existsSync(out) ? Number(fs.readFileSync(out, 'utf8')) : NaN;
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, stderr, peakMb: kb / 1024 });
    });
  });
}
