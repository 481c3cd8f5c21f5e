// `evalpred metrics --watch` as a user runs it: the built CLI in a real process, the metric file saved the way
// editors save it — written in place (VS Code), or written beside and renamed over the old file (vim, Emacs,
// JetBrains' safe write), which replaces the file's inode at every save — with a broken save in between.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { distFile } from '../../src/core/paths';
import { seqClsWorkspace, tempDir } from '../fixtures/workspace';
import { pythonWith } from '../helpers/python';

let dir: string;
let cache: string;

before(() => {
  dir = tempDir();
  const ws = seqClsWorkspace(dir, { n: 6, numLabels: 2 });
  cache = path.join(dir, 'cache');
  const r = spawnSync(process.execPath, [distFile('cli.js'), 'run', '--model', ws.modelDir, '--dataset', ws.dataset, '--out', cache], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The watching CLI's stdout and stderr as they come, and a wait for a pattern in either. */
function watching(metric: string): { proc: ChildProcessWithoutNullStreams; out: () => string; waitFor: (re: RegExp, from: number) => Promise<number> } {
  const proc = spawn(process.execPath, [distFile('cli.js'), 'metrics', '--cache', cache, '--metrics', metric, '--watch'], {
    cwd: dir,
    env: { ...process.env, EVALPRED_PYTHON: pythonWith(['numpy']) },
  });
  let text = '';
  const waiters: (() => void)[] = [];
  const more = (b: Buffer) => {
    text += b.toString('utf8');
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout.on('data', more);
  proc.stderr.on('data', more);
  /** Resolves with the end of the first match of `re` after offset `from`. */
  const waitFor = (re: RegExp, from: number) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${re} in 20 s; output:\n${text}`)), 20_000);
      const check = () => {
        const m = re.exec(text.slice(from));
        if (m) {
          clearTimeout(timer);
          resolve(from + m.index + m[0].length);
        } else waiters.push(check);
      };
      check();
    });
  return { proc, out: () => text, waitFor };
}

test('--watch also reruns when a module the metric imports from its own files is saved (Python and TypeScript)', async () => {
  for (const [metricName, helperName, metricSource, helperSource] of [
    ['usesHelper.py', 'scoring_helper.py', 'from scoring_helper import VALUE\n\ndef compute_metrics(eval_pred):\n    return {"h": VALUE}\n', (v: string) => `VALUE = ${v}\n`],
    ['usesHelper.ts', 'scoringHelper.ts', "import { VALUE } from './scoringHelper';\n\nexport function computeMetrics() {\n  return { h: VALUE };\n}\n", (v: string) => `export const VALUE = ${v};\n`],
  ] as const) {
    const sub = path.join(dir, `helper-${path.extname(metricName).slice(1)}`);
    fs.mkdirSync(sub, { recursive: true });
    const metric = path.join(sub, metricName);
    fs.writeFileSync(path.join(sub, helperName), helperSource('10'));
    fs.writeFileSync(metric, metricSource);
    const w = watching(metric);
    try {
      let at = await w.waitFor(/"eval_h":10\b[\s\S]*?watching/, 0);
      fs.writeFileSync(path.join(sub, helperName), helperSource('11'));
      at = await w.waitFor(/"eval_h":11\b[\s\S]*?eval_h: 10 -> 11/, at);
      // Saved by rename as well.
      const tmp = path.join(sub, `.${helperName}.tmp`);
      fs.writeFileSync(tmp, helperSource('12'));
      fs.renameSync(tmp, path.join(sub, helperName));
      await w.waitFor(/"eval_h":12\b/, at);
    } finally {
      const exited = new Promise((r) => w.proc.once('exit', r));
      w.proc.kill('SIGINT');
      await exited;
    }
  }
});

const metricReturning = (value: string) => `def compute_metrics(eval_pred):\n    return {"v": ${value}}\n`;

test('--watch reruns on every save, in place or renamed over the file; a broken save says so and keeps watching', async () => {
  const metric = path.join(dir, 'watched.py');
  fs.writeFileSync(metric, metricReturning('1'));
  const w = watching(metric);
  try {
    let at = await w.waitFor(/"eval_v":1\b[\s\S]*?watching/, 0);
    // Written in place.
    fs.writeFileSync(metric, metricReturning('2'));
    at = await w.waitFor(/"eval_v":2\b[\s\S]*?eval_v: 1 -> 2[\s\S]*?watching/, at);
    // Renamed over it, twice: the second rename is the one a watcher on the file's inode never sees.
    for (const v of ['3', '4']) {
      const tmp = path.join(dir, `.watched.py.${v}.tmp`);
      fs.writeFileSync(tmp, metricReturning(v));
      fs.renameSync(tmp, metric);
      at = await w.waitFor(new RegExp(`"eval_v":${v}\\b[\\s\\S]*?watching`), at);
    }
    // A broken save: the error, and that it is still watching.
    fs.writeFileSync(metric, 'def compute_metrics(eval_pred):\n    return {"v": 1 / 0}\n');
    at = await w.waitFor(/error: watched\.py:2: ZeroDivisionError[\s\S]*?save a fix to rerun/, at);
    // Other files in the folder do not trigger a run.
    const before = w.out().length;
    fs.writeFileSync(path.join(dir, 'unrelated.py'), 'x = 1\n');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(w.out().slice(before), '', 'nothing printed for another file');
    // The fix.
    fs.writeFileSync(metric, metricReturning('5'));
    await w.waitFor(/"eval_v":5\b/, at);
    assert.equal(w.proc.exitCode, null, 'still running');
  } finally {
    // Ctrl+C once ends it (it used to leave the file watcher open, so the process stayed until a second one).
    const exited = new Promise<boolean>((r) => {
      const timer = setTimeout(() => r(false), 10_000);
      w.proc.once('exit', () => {
        clearTimeout(timer);
        r(true);
      });
    });
    w.proc.kill('SIGINT');
    if (!(await exited)) {
      w.proc.kill('SIGKILL');
      assert.fail(`still running 10 s after Ctrl+C:\n${w.out()}`);
    }
  }
  assert.equal(w.proc.exitCode, 0, `Ctrl+C ends it cleanly:\n${w.out()}`);
});
