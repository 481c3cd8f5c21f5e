// One cold activation, run in its own Node process by bench/activation.ts: loads dist/extension.js against the
// stub `vscode` (test/helpers/vscodeStub.ts), calls activate(), and prints what it cost as one JSON line; then
// loads onnxruntime-node, to show what activation no longer pays for (docs/packaging.md).
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { fakeContext, vscodeStub, withVscodeStub } from '../test/helpers/vscodeStub';

const root = process.argv[2];
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const stub = vscodeStub(root, []);
const req = Module.createRequire(path.join(root, 'package.json'));
const rss0 = process.memoryUsage().rss;
const cpu = (since?: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const t0 = performance.now();
const c0 = process.cpuUsage();
const t = withVscodeStub(stub, () => {
  const ext = req('./dist/extension.js');
  const t1 = performance.now();
  const loadCpu = cpu(c0);
  ext.activate(fakeContext(root, pkg));
  // CPU time as well as wall time: on a busy machine the wall clock also counts waiting for a core.
  return { load: t1 - t0, activate: performance.now() - t1, loadCpu, totalCpu: cpu(c0) };
});
const rss1 = process.memoryUsage().rss;
const t2 = performance.now();
req('onnxruntime-node');
const ortMs = performance.now() - t2;
const rss2 = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ ...t, total: t.load + t.activate, rssMB: (rss1 - rss0) / 2 ** 20, ortMs, ortMB: (rss2 - rss1) / 2 ** 20 }) + '\n');
