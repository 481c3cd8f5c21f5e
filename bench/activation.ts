// Activation cost of the extension code in plain Node (no VS Code): dist/extension.js loaded and activated
// against a stub `vscode`, each sample in a fresh process (a cold require, as in a new extension host).
// Target (issue 13): under 30 ms, with no native module loaded (test/unit/activation.test.ts checks that part).
// Also printed: what loading onnxruntime-node would add, which activation used to pay before the lazy loader.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../src/core/paths';
import { median, printTable } from './util';

export async function main(): Promise<void> {
  const root = packageRoot();
  const probe = path.join(root, 'out', 'bench', 'activationProbe.js');
  const runs = Number(process.env.BENCH_RUNS ?? 9);
  const samples = Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, [probe, root], { encoding: 'utf8' })));
  const m = (k: string) => median(samples.map((s) => s[k]));
  const total = m('total');
  const cpu = m('totalCpu');
  printTable(`activation: dist/extension.js load + activate() in a fresh Node process (median of ${runs})`, [
    ['load (require the bundle), wall', m('load'), '', ''],
    ['activate(), wall', m('activate'), '', ''],
    ['load + activate, wall', total, `${(total / 30).toFixed(2)}x`, 'wall time also counts waiting for a busy core'],
    ['load + activate, CPU time', cpu, `${(cpu / 30).toFixed(2)}x`, cpu < 30 ? 'under the 30 ms target' : 'OVER the 30 ms target'],
    ['onnxruntime-node, if it were loaded', m('ortMs'), `${(m('ortMs') / total).toFixed(1)}x`, 'not paid on activation'],
  ]);
  printTable('activation memory', [
    ['rss growth on activation', m('rssMB'), '', ''],
    ['rss growth loading onnxruntime-node', m('ortMB'), '', 'not paid on activation'],
  ], 'MB');
}
