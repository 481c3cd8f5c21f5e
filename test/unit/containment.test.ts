// Contained metric processes (issue 9 item 3): in both languages a metric that eats memory is stopped with
// "your metric used more than N MB" and the next run works, processes it starts (attached, detached, double-
// forked) are gone when the run ends, 100 MB of prints arrive as 1 MB plus a count, and a worker killed from
// outside mid-run gives a clear error and a fresh worker next time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { writeCache } from '../../src/core/cache/store';
import { OUTPUT_CAP_BYTES, capOutput } from '../../src/core/metrics/containment';
import { MetricRunners } from '../../src/core/metrics/runMetrics';
import { Tensor } from '../../src/core/tensor/tensor';
import { pythonWith } from '../helpers/python';

let dir: string;
let cache: string;
let workerFile: string;
let python: string;
const LIMIT_MB = 512;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-contain-'));
  workerFile = path.join(dir, 'metricWorker.js');
  await esbuild.build({ entryPoints: [path.join(__dirname, '../../../src/core/metrics/jsWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerFile, logLevel: 'silent' });
  cache = path.join(dir, 'cache');
  writeCache(cache, { predictions: Tensor.from('float32', [4, 2], [0.1, 0.9, 0.8, 0.2, 0.3, 0.7, 0.6, 0.4]), labelIds: Tensor.from('int64', [4], [1, 0, 1, 1]), inputs: null, losses: null }, {
    numSamples: 4,
    key: 'contain',
    producer: {},
  });
  python = pythonWith(['numpy']);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, body);
  return p;
}

function runners(): MetricRunners {
  return new MetricRunners({ jsWorkerFile: workerFile, python, env: { EVALPRED_NO_TRANSFORMERS: '1' }, timeoutMs: 30_000, memoryLimitMb: LIMIT_MB });
}

/** Alive means running: a zombie (exited, waiting for a parent that is not ours) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform === 'linux' ? false : true;
  }
}

async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

const OK_JS = 'exports.computeMetrics = (ep) => ({ n: ep.labelIds.size });\n';
const OK_PY = 'def compute_metrics(ep):\n    return {"n": int(ep.label_ids.size)}\n';

test('capOutput keeps the first 1 MB and counts the rest; short text is untouched', () => {
  assert.equal(capOutput('hello\n'), 'hello\n');
  const big = 'x'.repeat(OUTPUT_CAP_BYTES + 12345);
  const out = capOutput(big);
  assert.ok(out.startsWith('x'.repeat(OUTPUT_CAP_BYTES)));
  assert.match(out, /\n… 12345 bytes more not shown\n$/);
  // Multi-byte characters are never cut in half.
  const wide = capOutput('é'.repeat(OUTPUT_CAP_BYTES));
  assert.ok(!wide.includes('\uFFFD'));
  assert.match(wide, /… \d+ bytes more not shown/);
});

test('a memory limit below 64 MB is refused when the runners are made', () => {
  assert.throws(() => new MetricRunners({ memoryLimitMb: 10 }), /memory limit must be an integer number of MB >= 64, got 10/);
});

test('TS: an ArrayBuffer past the limit and an endless heap both give "used more than N MB"; the next run works', async () => {
  const r = runners();
  try {
    const buf = write('big_buffer.js', 'exports.computeMetrics = () => { const a = new Float64Array(2e8); a.fill(1); return { s: a[0] }; };\n');
    await assert.rejects(r.run(cache, buf), new RegExp(`big_buffer\\.js: your metric used more than ${LIMIT_MB} MB of memory and was stopped`));
    assert.deepEqual((await r.run(cache, write('ok1.js', OK_JS))).metrics, { eval_n: 4 });
    const heap = write('big_heap.js', 'exports.computeMetrics = () => { const xs = []; for (;;) xs.push(new Array(1e5).fill(1.5)); };\n');
    await assert.rejects(r.run(cache, heap), new RegExp(`big_heap\\.js: your metric used more than ${LIMIT_MB} MB of memory`));
    assert.deepEqual((await r.run(cache, write('ok2.js', OK_JS))).metrics, { eval_n: 4 });
  } finally {
    await r.close();
  }
});

test('Python: np.ones past the limit gives "used more than N MB"; the next run works in the same warm worker', async () => {
  const r = runners();
  try {
    assert.deepEqual((await r.run(cache, write('ok_first.py', OK_PY))).metrics, { eval_n: 4 });
    const pid = r.pyRunner().pidFor(python);
    assert.ok(pid);
    const f = write('big_ones.py', 'import numpy as np\ndef compute_metrics(ep):\n    a = np.ones((1024, 1024, 1024), dtype=np.float64)\n    return {"s": float(a.sum())}\n');
    await assert.rejects(r.run(cache, f), new RegExp(`big_ones\\.py: your metric used more than ${LIMIT_MB} MB of memory and was stopped`));
    assert.deepEqual((await r.run(cache, write('ok_after.py', OK_PY))).metrics, { eval_n: 4 });
    assert.equal(r.pyRunner().pidFor(python), pid, 'a MemoryError does not cost the warm worker');
  } finally {
    await r.close();
  }
});

test('TS: processes the metric starts (attached, detached, double-forked) are gone when the run ends', async () => {
  const r = runners();
  try {
    const f = write(
      'spawner.js',
      `const cp = require('child_process');
exports.computeMetrics = () => {
  const a = cp.spawn('sleep', ['300']);
  const b = cp.spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  b.unref();
  // A daemon: its parent exits at once, so it is nobody's child of ours any more.
  const c = cp.execSync('sh -c "sleep 300 >/dev/null 2>&1 & echo $!"').toString().trim();
  return { a: a.pid, b: b.pid, c: Number(c) };
};
`,
    );
    const m = (await r.run(cache, f)).metrics as Record<string, number>;
    for (const k of ['eval_a', 'eval_b', 'eval_c']) assert.ok(Number.isInteger(m[k]), `${k} is a pid`);
    for (const k of ['eval_a', 'eval_b', 'eval_c']) assert.ok(await eventually(() => !alive(m[k])), `${k} (${m[k]}) was ended with the run`);
    assert.deepEqual((await r.run(cache, write('ok3.js', OK_JS))).metrics, { eval_n: 4 }, 'the warm worker itself stays');
  } finally {
    await r.close();
  }
});

test('Python: subprocess.Popen children, new sessions and double forks are gone when the run ends', async () => {
  const r = runners();
  try {
    const f = write(
      'spawner.py',
      `import os, subprocess
def compute_metrics(ep):
    a = subprocess.Popen(["sleep", "300"])
    b = subprocess.Popen(["sleep", "300"], start_new_session=True)
    c = int(subprocess.check_output(["sh", "-c", "setsid sleep 300 >/dev/null 2>&1 & echo $!"]).decode().strip())
    return {"a": a.pid, "b": b.pid, "c": c}
`,
    );
    const m = (await r.run(cache, f)).metrics as Record<string, number>;
    for (const k of ['eval_a', 'eval_b', 'eval_c']) assert.ok(await eventually(() => !alive(m[k])), `${k} (${m[k]}) was ended with the run`);
    assert.deepEqual((await r.run(cache, write('ok_py2.py', OK_PY))).metrics, { eval_n: 4 });
  } finally {
    await r.close();
  }
});

test('100 MB of prints arrive as the first 1 MB and a count of the rest, in both languages', async () => {
  const r = runners();
  try {
    const js = write('loud.js', "exports.computeMetrics = () => { const line = 'y'.repeat(1024 * 1024 - 1); for (let i = 0; i < 100; i++) console.log(line); return { n: 1 }; };\n");
    const py = write('loud.py', 'def compute_metrics(ep):\n    line = "y" * (1024 * 1024 - 1)\n    for _ in range(100):\n        print(line)\n    return {"n": 1}\n');
    for (const f of [js, py]) {
      const out = await r.run(cache, f);
      assert.deepEqual(out.metrics, { eval_n: 1 });
      assert.ok(out.stdout.length < OUTPUT_CAP_BYTES + 200, `${path.basename(f)}: ${out.stdout.length} chars kept`);
      assert.ok(out.stdout.startsWith('yyyy'));
      assert.match(out.stdout, new RegExp(`\\n… ${100 * 1024 * 1024 - OUTPUT_CAP_BYTES} bytes more not shown\\n$`), path.basename(f));
    }
  } finally {
    await r.close();
  }
});

test('a metric process killed from outside mid-run: a clear error, and the next run starts a fresh one', async () => {
  const r = runners();
  try {
    for (const [slow, ok, pidOf, started] of [
      [
        write('slow.js', `exports.computeMetrics = () => { require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'started-js'))}, ''); const end = Date.now() + 20000; while (Date.now() < end) {} return {}; };\n`),
        write('ok4.js', OK_JS),
        () => r.jsRunner().pid,
        path.join(dir, 'started-js'),
      ],
      [
        write('slow.py', `import time\ndef compute_metrics(ep):\n    open(${JSON.stringify(path.join(dir, 'started-py'))}, "w").close()\n    time.sleep(20)\n    return {}\n`),
        write('ok5.py', OK_PY),
        () => r.pyRunner().pidFor(python),
        path.join(dir, 'started-py'),
      ],
    ] as const) {
      const running = r.run(cache, slow);
      assert.ok(await eventually(() => fs.existsSync(started), 15_000), 'the metric started');
      process.kill(pidOf()!, 'SIGKILL');
      await assert.rejects(running, (e: Error) => {
        assert.match(e.message, /ended by SIGKILL|exited \(SIGKILL\)/);
        assert.doesNotMatch(e.message, /\n\s+at /, 'no stack');
        return true;
      });
      assert.deepEqual((await r.run(cache, ok)).metrics, { eval_n: 4 }, `${path.basename(ok)} after the kill`);
    }
  } finally {
    await r.close();
  }
});

test('close() ends the warm workers of that owner only', async () => {
  const a = runners();
  const b = runners();
  try {
    await a.run(cache, write('ok6.js', OK_JS));
    await b.run(cache, write('ok7.js', OK_JS));
    const pa = a.jsRunner().pid!;
    const pb = b.jsRunner().pid!;
    await a.close();
    assert.ok(await eventually(() => !alive(pa)), 'a closed');
    assert.ok(alive(pb), "b's worker is untouched");
    assert.deepEqual((await b.run(cache, write('ok8.js', OK_JS))).metrics, { eval_n: 4 });
  } finally {
    await b.close();
  }
});
